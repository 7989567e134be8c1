// SPDX-License-Identifier: GPL-3.0-or-later
#include "PngWriter.h"

#include <QImage>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString writeRgbPng(const QString& path, const std::uint8_t* rgb, int width, int height,
                        const QList<QPair<QString, QString>>& textChunks)
    {
        // QImage rows are padded to 4 bytes; copy row by row rather than trusting the stride.
        QImage image(width, height, QImage::Format_RGB888);
        for (int y = 0; y < height; ++y) {
            std::copy_n(rgb + static_cast<std::size_t>(y) * width * 3, static_cast<std::size_t>(width) * 3,
                        image.scanLine(y));
        }
        for (const auto& [key, value] : textChunks) {
            image.setText(key, value);
        }
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly)) {
            return u"%1: cannot write: %2"_s.arg(path, file.errorString());
        }
        if (!image.save(&file, "PNG")) {
            file.cancelWriting();
            return u"%1: PNG encoding failed"_s.arg(path);
        }
        if (!file.commit()) {
            return u"%1: cannot write: %2"_s.arg(path, file.errorString());
        }
        return {};
    }
} // namespace Atelier
