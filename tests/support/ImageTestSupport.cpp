// SPDX-License-Identifier: GPL-3.0-or-later
#include "ImageTestSupport.h"

#include <QImage>

#include <ATen/ops/empty.h>

#include <cstring>

namespace Atelier::Test
{
    at::Tensor pngPixels(const QString& path)
    {
        const QImage image = QImage(path).convertToFormat(QImage::Format_RGB888);
        at::Tensor pixels = at::empty({1, image.height(), image.width(), 3}, at::kByte);
        // Copy row by row: QImage pads its rows to four bytes.
        for (int y = 0; y < image.height(); ++y) {
            std::memcpy(pixels[0][y].data_ptr(), image.constScanLine(y), static_cast<std::size_t>(image.width()) * 3);
        }
        return pixels;
    }
} // namespace Atelier::Test
