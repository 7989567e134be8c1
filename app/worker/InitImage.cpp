// SPDX-License-Identifier: GPL-3.0-or-later
#include "InitImage.h"

#include <QImage>
#include <QImageReader>

#include <ATen/ops/empty.h>

#include <cstring>

#include "engine/EngineError.h"
#include "engine/ImageResize.h"
#include "render/RenderSettings.h"

using namespace Qt::StringLiterals;

namespace Atelier::Worker
{
    at::Tensor readInitImage(const QString& path, const QString& field, std::optional<std::pair<int, int>> size)
    {
        QImageReader reader(path);
        // The header alone says how large the image is: a tiny file claiming 100000² is refused before decoding.
        const QSize claimed = reader.size();
        constexpr int MaxDecodedSide = 4 * RenderLimits::MaxSide;
        if (claimed.isValid() && (claimed.width() > MaxDecodedSide || claimed.height() > MaxDecodedSide)) {
            throw Engine::EngineError(u"%1: \"%2\" is %3×%4; images up to %5 pixels a side are read"_s.arg(field, path)
                                          .arg(claimed.width())
                                          .arg(claimed.height())
                                          .arg(MaxDecodedSide)
                                          .toStdString());
        }
        QImage image = reader.read();
        if (image.isNull()) {
            throw Engine::EngineError(
                u"%1: cannot read \"%2\" as an image: %3"_s.arg(field, path, reader.errorString()).toStdString());
        }
        image = image.convertToFormat(QImage::Format_RGB888);
        const int width = image.width();
        const int height = image.height();
        at::Tensor pixels = at::empty({height, width, 3}, at::TensorOptions().dtype(at::kByte));
        for (int y = 0; y < height; ++y) {
            std::memcpy(pixels.mutable_data_ptr<std::uint8_t>() + static_cast<std::ptrdiff_t>(y) * width * 3,
                        image.constScanLine(y), static_cast<std::size_t>(width) * 3);
        }
        if (size && (size->first != width || size->second != height)) {
            pixels = Engine::resizeLanczos(pixels, size->first, size->second);
        }
        return pixels;
    }
} // namespace Atelier::Worker
