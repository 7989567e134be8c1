// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace Atelier::Engine
{
    /// Resizes an RGB image, uint8 [H, W, 3] on the CPU, to @p width × @p height with a Lanczos filter (a = 3), exactly
    /// as Pillow's `Image.resize(size, Image.LANCZOS)` does it for 8-bit images: separable, horizontal pass first
    /// (over the rows the vertical pass needs), coefficients in 22-bit fixed point, each pass rounded to 8 bits, a
    /// filter widened by the scale when shrinking. AUTOMATIC1111's hires fix upscales with it ("Lanczos"), so the
    /// pixels must be Pillow's to the last bit. Throws EngineError for another shape or an empty size.
    at::Tensor resizeLanczos(const at::Tensor& image, std::int64_t width, std::int64_t height);
} // namespace Atelier::Engine
