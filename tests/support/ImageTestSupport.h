// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

#include <ATen/core/Tensor.h>

namespace Atelier::Test
{
    /// The pixels of the PNG at @p path as uint8 [1, H, W, 3] (RGB), for comparing with golden images.
    at::Tensor pngPixels(const QString& path);
} // namespace Atelier::Test
