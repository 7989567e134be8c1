// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes readPngText, which reads the text chunks of every PNG the image library indexes (ours, AUTOMATIC1111's,
// anything dropped into a watched folder). Input: the file's bytes. It must never crash, stay within PngTextLimits,
// and either read a header or say why not, naming the file.

#include <QByteArray>
#include <QString>

#include <cstddef>
#include <cstdint>

#include "FuzzCheck.h"
#include "render/PngText.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const PngText png = readPngText(bytes, u"input.png"_s);
    if (png.ok()) {
        ATELIER_FUZZ_CHECK(png.width > 0 && png.height > 0, std::string("read without a header"));
    } else {
        ATELIER_FUZZ_CHECK(png.error.startsWith(u"input.png: "_s), png.error.toStdString());
    }
    for (auto it = png.text.cbegin(); it != png.text.cend(); ++it) {
        ATELIER_FUZZ_CHECK(!it.key().isEmpty() && it.key().size() <= 79, it.key().toStdString());
        ATELIER_FUZZ_CHECK(it.value().size() <= PngTextLimits::MaxTextBytes, it.key().toStdString());
    }
    return 0;
}
