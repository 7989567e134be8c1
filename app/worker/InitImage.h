// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

#include <ATen/core/Tensor.h>

#include <optional>
#include <utility>

namespace Atelier::Worker
{
    /// The image at @p path (any format Qt reads; alpha dropped) as uint8 RGB [height, width, 3] on the CPU, for image
    /// to image. With @p size, resized to it as A1111's "Just resize" does: Pillow's Lanczos
    /// (Engine::resizeLanczos), and untouched when it already has that size. Throws Engine::EngineError naming
    /// @p field and the file when it cannot be read.
    at::Tensor readInitImage(const QString& path, const QString& field,
                             std::optional<std::pair<int, int>> size = std::nullopt);
} // namespace Atelier::Worker
