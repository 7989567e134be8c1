// SPDX-License-Identifier: GPL-3.0-or-later
#include <QBuffer>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>

#include <array>

#include <sys/stat.h>

#include "render/PngText.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    quint32 crc32Of(const QByteArray& bytes)
    {
        static const std::array<quint32, 256> table = [] {
            std::array<quint32, 256> t{};
            for (quint32 n = 0; n < 256; ++n) {
                quint32 c = n;
                for (int k = 0; k < 8; ++k) {
                    c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
                }
                t[n] = c;
            }
            return t;
        }();
        quint32 c = 0xffffffffU;
        for (const char byte : bytes) {
            c = table[(c ^ quint8(byte)) & 0xff] ^ (c >> 8);
        }
        return c ^ 0xffffffffU;
    }

    QByteArray bigEndian(quint32 value)
    {
        const char bytes[] = {char(value >> 24), char(value >> 16), char(value >> 8), char(value)};
        return QByteArray(bytes, 4);
    }

    /// One chunk with a correct CRC, or a declared @p length that differs from the data's.
    QByteArray chunk(const QByteArray& type, const QByteArray& data, std::optional<quint32> length = {})
    {
        return bigEndian(length.value_or(quint32(data.size()))) + type + data + bigEndian(crc32Of(type + data));
    }

    const QByteArray Signature("\x89PNG\r\n\x1a\n", 8);

    QByteArray header(quint32 width = 4, quint32 height = 3)
    {
        return chunk("IHDR", bigEndian(width) + bigEndian(height) + QByteArray("\x08\x02\x00\x00\x00", 5));
    }

    /// A stored (uncompressed) zlib stream of @p data: valid, with no compressor needed.
    QByteArray zlibStored(const QByteArray& data)
    {
        QByteArray out("\x78\x01", 2);
        const quint16 n = quint16(data.size());
        out += char(1); // final block, stored
        out += char(n & 0xff);
        out += char(n >> 8);
        out += char(~n & 0xff);
        out += char((~n >> 8) & 0xff);
        out += data;
        quint32 a = 1;
        quint32 b = 0;
        for (const char byte : data) {
            a = (a + quint8(byte)) % 65521;
            b = (b + a) % 65521;
        }
        return out + bigEndian((b << 16) | a);
    }

    /// A zlib stream that inflates to far more than PngTextLimits::MaxTextBytes: qCompress of 64 MiB of zeros,
    /// without qCompress's own four-byte length prefix.
    QByteArray zlibBomb()
    {
        return qCompress(QByteArray(64 * 1024 * 1024, 'a'), 9).mid(4);
    }

    const QByteArray ImageData = chunk("IDAT", QByteArray("\x78\x01\x01\x00\x00\xff\xff\x00\x00\x00\x01", 11));
    const QByteArray End = chunk("IEND", {});

    QByteArray png(const QByteArray& chunks)
    {
        return Signature + header() + chunks + ImageData + End;
    }

    QByteArray savedByQt(const QList<QPair<QString, QString>>& text, QSize size = {40, 24})
    {
        QImage image(size, QImage::Format_RGB888);
        image.fill(Qt::darkCyan);
        for (const auto& [key, value] : text) {
            image.setText(key, value);
        }
        QByteArray bytes;
        QBuffer buffer(&bytes);
        buffer.open(QIODevice::WriteOnly);
        image.save(&buffer, "PNG");
        return bytes;
    }
} // namespace

class TestPngText final : public QObject
{
    Q_OBJECT

private slots:
    void readsWhatQtWrites_data();
    void readsWhatQtWrites();
    void readsEachTextChunkKind_data();
    void readsEachTextChunkKind();
    void refusesBrokenFiles_data();
    void refusesBrokenFiles();
    void dropsDamagedTextChunks_data();
    void dropsDamagedTextChunks();
    void readsFilesAndNamesThem();
};

void TestPngText::readsWhatQtWrites_data()
{
    QTest::addColumn<QString>("value");
    // Qt writes short Latin-1 text as tEXt, long as zTXt, and anything else as iTXt, compressed when long.
    QTest::newRow("short latin-1 (tEXt)") << u"a fox"_s;
    QTest::newRow("long latin-1 (zTXt)")
        << u"a lighthouse on a cliff at dusk, oil painting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
           "CFG scale: 7.5, Seed: 18446744073709551615, Size: 512x512, Model: tiny"_s;
    QTest::newRow("short unicode (iTXt)") << u"灯台 🌅"_s;
    QTest::newRow("long unicode (compressed iTXt)")
        << u"un phare sur une falaise au crépuscule, 灯台, peinture à l'huile"_s;
    QTest::newRow("latin-1 accents") << u"café crème, déjà vu"_s;
}

void TestPngText::readsWhatQtWrites()
{
    QFETCH(QString, value);
    const QString json = uR"({"queueItemId":12,"seed":"42","device":"cuda:0"})"_s;
    const PngText read = readPngText(savedByQt({{u"parameters"_s, value}, {u"atelier"_s, json}}), u"qt.png"_s);
    QVERIFY2(read.ok(), qPrintable(read.error));
    QCOMPARE(read.width, 40);
    QCOMPARE(read.height, 24);
    QCOMPARE(read.text.value(u"parameters"_s), value);
    QCOMPARE(read.text.value(u"atelier"_s), json);
}

void TestPngText::readsEachTextChunkKind_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");

    QTest::newRow("tEXt") << png(chunk("tEXt", "Comment\0caf\xe9"_ba)) << u"Comment"_s << u"café"_s;
    QTest::newRow("zTXt") << png(chunk("zTXt", "parameters\0\0"_ba + zlibStored("a fox"))) << u"parameters"_s
                          << u"a fox"_s;
    QTest::newRow("iTXt") << png(chunk("iTXt", "parameters\0\0\0\0\0"_ba + u"灯台"_s.toUtf8())) << u"parameters"_s
                          << u"灯台"_s;
    QTest::newRow("compressed iTXt") << png(chunk("iTXt", "atelier\0\1\0en\0Atelier\0"_ba + zlibStored("{}")))
                                     << u"atelier"_s << u"{}"_s;
    QTest::newRow("empty text") << png(chunk("tEXt", "Comment\0"_ba)) << u"Comment"_s << u""_s;
    QTest::newRow("first of two wins") << png(chunk("tEXt", "parameters\0first"_ba)
                                              + chunk("tEXt", "parameters\0second"_ba))
                                       << u"parameters"_s << u"first"_s;
    QTest::newRow("after other chunks") << png(chunk("gAMA", bigEndian(45455)) + chunk("pHYs", QByteArray(9, '\0'))
                                               + chunk("tEXt", "Software\0Atelier"_ba))
                                        << u"Software"_s << u"Atelier"_s;
    // Text after the image data is not read: Atelier, A1111 and Qt write theirs before it.
    QTest::newRow("after IDAT") << Signature + header() + ImageData + chunk("tEXt", "late\0text"_ba) + End << u"late"_s
                                << QString();
}

void TestPngText::readsEachTextChunkKind()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, key);
    QFETCH(QString, value);
    const PngText read = readPngText(bytes, u"made.png"_s);
    QVERIFY2(read.ok(), qPrintable(read.error));
    QCOMPARE(read.width, 4);
    QCOMPARE(read.height, 3);
    QCOMPARE(read.text.value(key), value);
}

void TestPngText::refusesBrokenFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("error");

    const QByteArray good = png(chunk("tEXt", "parameters\0a fox"_ba));
    QTest::newRow("empty") << QByteArray() << u"too short for a PNG"_s;
    QTest::newRow("text file") << "Steps: 20, Sampler: Euler a, CFG scale: 7"_ba << u"not a PNG"_s;
    QTest::newRow("signature only") << Signature << u"truncated before the image data"_s;
    QTest::newRow("cut in the header") << good.left(20) << u"truncated in its IHDR chunk"_s;
    QTest::newRow("cut in the text") << good.left(Signature.size() + 25 + 12) << u"truncated in its tEXt chunk"_s;
    QTest::newRow("cut before IDAT") << good.left(good.indexOf("IDAT") - 4) << u"truncated before the image data"_s;
    QTest::newRow("no header") << Signature + chunk("tEXt", "a\0b"_ba) + ImageData + End << u"(IHDR)"_s;
    QTest::newRow("IDAT first") << Signature + ImageData + End << u"no PNG header"_s;
    QByteArray damagedHeader = good;
    damagedHeader[Signature.size() + 10] = 'X'; // a width byte, under the CRC
    QTest::newRow("damaged header") << damagedHeader << u"CRC mismatch"_s;
    QTest::newRow("zero width") << Signature + header(0, 3) + ImageData + End << u"impossible size"_s;
    QTest::newRow("not a chunk type") << png(chunk("t3Xt", "a\0b"_ba)) << u"not a chunk type"_s;
    QTest::newRow("over-long chunk") << png(chunk("tEXt", "a\0b"_ba, quint32(PngTextLimits::MaxChunkBytes + 1)))
                                     << u"over the limit"_s;
    QTest::newRow("length 0xffffffff") << png(chunk("zTXt", "a\0b"_ba, 0xffffffffU)) << u"over the limit"_s;
    QTest::newRow("length past the end") << png(chunk("tEXt", "a\0b"_ba, 4096)) << u"truncated in its tEXt"_s;
    QByteArray many;
    for (int i = 0; i < PngTextLimits::MaxChunks; ++i) {
        many += chunk("tIME", QByteArray(7, '\1'));
    }
    QTest::newRow("too many chunks") << png(many) << u"more than 1000 chunks"_s;
}

void TestPngText::refusesBrokenFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, error);
    const PngText read = readPngText(bytes, u"broken.png"_s);
    QVERIFY(!read.ok());
    QVERIFY2(read.error.startsWith(u"broken.png: "_s), qPrintable(read.error));
    QVERIFY2(read.error.contains(error), qPrintable(read.error));
}

void TestPngText::dropsDamagedTextChunks_data()
{
    QTest::addColumn<QByteArray>("chunks");

    QByteArray damaged = chunk("tEXt", "parameters\0a fox"_ba);
    damaged[damaged.size() - 1] = char(damaged.at(damaged.size() - 1) ^ 1);
    QTest::newRow("CRC mismatch") << damaged;
    QTest::newRow("no keyword") << chunk("tEXt", "\0text"_ba);
    QTest::newRow("no separator") << chunk("tEXt", "parameters"_ba);
    QTest::newRow("keyword over 79 bytes") << chunk("tEXt", QByteArray(80, 'k') + "\0x"_ba);
    QTest::newRow("zTXt unknown method") << chunk("zTXt", "parameters\0\7"_ba + zlibStored("x"));
    QTest::newRow("zTXt not zlib") << chunk("zTXt", "parameters\0\0not zlib at all"_ba);
    QTest::newRow("zTXt cut short") << chunk("zTXt", "parameters\0\0"_ba + zlibStored("a fox").chopped(6));
    QTest::newRow("zTXt bomb") << chunk("zTXt", "parameters\0\0"_ba + zlibBomb());
    QTest::newRow("iTXt bad flag") << chunk("iTXt", "parameters\0\5\0\0\0x"_ba);
    QTest::newRow("iTXt no language end") << chunk("iTXt", "parameters\0\0\0en"_ba);
}

void TestPngText::dropsDamagedTextChunks()
{
    QFETCH(QByteArray, chunks);
    // A broken ancillary chunk is skipped, as libpng skips it: the image and its other text are still read.
    const PngText read = readPngText(png(chunks + chunk("tEXt", "Software\0Atelier"_ba)), u"damaged.png"_s);
    QVERIFY2(read.ok(), qPrintable(read.error));
    QCOMPARE(read.text.size(), 1);
    QCOMPARE(read.text.value(u"Software"_s), u"Atelier"_s);
}

void TestPngText::readsFilesAndNamesThem()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"image.png"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(savedByQt({{u"parameters"_s, u"a fox"_s}}, {64, 32}));
    file.close();
    const PngText read = readPngText(path);
    QVERIFY2(read.ok(), qPrintable(read.error));
    QCOMPARE(read.text.value(u"parameters"_s), u"a fox"_s);
    QCOMPARE(read.width, 64);

    const QString missing = dir.filePath(u"gone.png"_s);
    QCOMPARE(readPngText(missing).error, missing + u": no such file"_s);
    QCOMPARE(readPngText(dir.path()).error, dir.path() + u": not a regular file"_s);
    const QString fifo = dir.filePath(u"fifo.png"_s);
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);
    QCOMPARE(readPngText(fifo).error, fifo + u": not a regular file"_s); // and it did not block
}

QTEST_GUILESS_MAIN(TestPngText)
#include "TestPngText.moc"
