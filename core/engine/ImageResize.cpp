// SPDX-License-Identifier: GPL-3.0-or-later
#include "ImageResize.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "EngineError.h"

namespace Atelier::Engine
{
    namespace
    {
        constexpr int PrecisionBits = 32 - 8 - 2; // Pillow's fixed point for 8-bit images
        constexpr double Support = 3.0; // Lanczos-3

        double sinc(double x)
        {
            if (x == 0.0) {
                return 1.0;
            }
            x *= std::numbers::pi;
            return std::sin(x) / x;
        }

        double lanczos(double x)
        {
            return -Support <= x && x < Support ? sinc(x) * sinc(x / Support) : 0.0;
        }

        /// The taps of one direction: for each output pixel, its first input pixel, its count and its fixed-point
        /// weights (Pillow's precompute_coeffs and normalize_coeffs_8bpc).
        struct Taps
        {
            std::vector<std::int64_t> first, count;
            std::vector<std::int32_t> weights; ///< [out × size]
            std::int64_t size = 0;
        };

        Taps taps(std::int64_t in, std::int64_t out)
        {
            const double scale = static_cast<double>(in) / static_cast<double>(out);
            const double filterScale = std::max(scale, 1.0);
            const double support = Support * filterScale;
            Taps t;
            t.size = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
            t.first.resize(static_cast<std::size_t>(out));
            t.count.resize(static_cast<std::size_t>(out));
            t.weights.assign(static_cast<std::size_t>(out * t.size), 0);
            std::vector<double> k(static_cast<std::size_t>(t.size));
            for (std::int64_t x = 0; x < out; ++x) {
                const double center = (static_cast<double>(x) + 0.5) * scale;
                // Pillow rounds by adding 0.5 and truncating toward zero, on purpose: the same here.
                const auto xmin = std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), 0);
                const auto xmax = std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), in) - xmin;
                double sum = 0.0;
                for (std::int64_t i = 0; i < xmax; ++i) {
                    const double w = lanczos((static_cast<double>(i + xmin) - center + 0.5) / filterScale);
                    k[static_cast<std::size_t>(i)] = w;
                    sum += w;
                }
                for (std::int64_t i = 0; i < xmax; ++i) {
                    double w = k[static_cast<std::size_t>(i)];
                    if (sum != 0.0) {
                        w /= sum;
                    }
                    const double fixed = w * static_cast<double>(1 << PrecisionBits);
                    t.weights[static_cast<std::size_t>(x * t.size + i)]
                        = static_cast<std::int32_t>(w < 0 ? -0.5 + fixed : 0.5 + fixed);
                }
                t.first[static_cast<std::size_t>(x)] = xmin;
                t.count[static_cast<std::size_t>(x)] = xmax;
            }
            return t;
        }

        std::uint8_t clip8(std::int32_t value)
        {
            if (value >= (1 << PrecisionBits << 8)) {
                return 255;
            }
            if (value <= 0) {
                return 0;
            }
            return static_cast<std::uint8_t>(value >> PrecisionBits);
        }
    } // namespace

    at::Tensor resizeLanczos(const at::Tensor& image, std::int64_t width, std::int64_t height)
    {
        if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte || !image.device().is_cpu()
            || width < 1 || height < 1) {
            throw EngineError("resizeLanczos takes a uint8 [H, W, 3] CPU image and a size of at least 1×1");
        }
        const at::Tensor in = image.contiguous();
        const std::int64_t inHeight = in.size(0), inWidth = in.size(1);
        const Taps horizontal = taps(inWidth, width);
        const Taps vertical = taps(inHeight, height);
        const std::uint8_t* source = in.const_data_ptr<std::uint8_t>();

        // The rows the vertical pass reads, and only those, are resized horizontally first (as Pillow does; with
        // no horizontal change, Pillow skips that pass, which gives the same bytes).
        const std::int64_t firstRow = vertical.first.front();
        const std::int64_t lastRow = vertical.first.back() + vertical.count.back();
        const bool needHorizontal = width != inWidth;
        const bool needVertical = height != inHeight;
        std::vector<std::uint8_t> middle;
        std::int64_t middleWidth = inWidth;
        const std::uint8_t* rows = source;
        std::int64_t rowOffset = 0;
        if (needHorizontal) {
            middleWidth = width;
            middle.resize(static_cast<std::size_t>((lastRow - firstRow) * width * 3));
            for (std::int64_t y = firstRow; y < lastRow; ++y) {
                for (std::int64_t x = 0; x < width; ++x) {
                    const std::int32_t* k = &horizontal.weights[static_cast<std::size_t>(x * horizontal.size)];
                    const std::int64_t xmin = horizontal.first[static_cast<std::size_t>(x)];
                    for (int c = 0; c < 3; ++c) {
                        std::int32_t sum = 1 << (PrecisionBits - 1);
                        for (std::int64_t i = 0; i < horizontal.count[static_cast<std::size_t>(x)]; ++i) {
                            sum += static_cast<std::int32_t>(source[((y * inWidth) + xmin + i) * 3 + c]) * k[i];
                        }
                        middle[static_cast<std::size_t>(((y - firstRow) * width + x) * 3 + c)] = clip8(sum);
                    }
                }
            }
            rows = middle.data();
            rowOffset = firstRow;
        }
        at::Tensor out = at::empty({height, width, 3}, at::TensorOptions().dtype(at::kByte));
        std::uint8_t* target = out.mutable_data_ptr<std::uint8_t>();
        if (!needVertical) {
            std::copy(rows, rows + height * width * 3, target);
            return out;
        }
        for (std::int64_t y = 0; y < height; ++y) {
            const std::int32_t* k = &vertical.weights[static_cast<std::size_t>(y * vertical.size)];
            const std::int64_t ymin = vertical.first[static_cast<std::size_t>(y)] - rowOffset;
            for (std::int64_t x = 0; x < width; ++x) {
                for (int c = 0; c < 3; ++c) {
                    std::int32_t sum = 1 << (PrecisionBits - 1);
                    for (std::int64_t i = 0; i < vertical.count[static_cast<std::size_t>(y)]; ++i) {
                        sum += static_cast<std::int32_t>(rows[((ymin + i) * middleWidth + x) * 3 + c]) * k[i];
                    }
                    target[(y * width + x) * 3 + c] = clip8(sum);
                }
            }
        }
        return out;
    }
} // namespace Atelier::Engine
