// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTest>
#include <QtEndian>

#include "ipc/FrameCodec.h"

using namespace Atelier::Ipc;
using namespace Qt::StringLiterals;

namespace
{
    QByteArray prefix(quint32 length)
    {
        QByteArray bytes(4, '\0');
        qToBigEndian(length, bytes.data());
        return bytes;
    }

    // Feeds @p stream in chunks of @p chunkSize and collects every complete frame.
    QList<QByteArray> decodeAll(FrameDecoder& decoder, const QByteArray& stream, qsizetype chunkSize, bool* invalid)
    {
        QList<QByteArray> frames;
        *invalid = false;
        for (qsizetype pos = 0; pos < stream.size(); pos += chunkSize) {
            decoder.feed(QByteArrayView(stream).sliced(pos, std::min(chunkSize, stream.size() - pos)));
            for (;;) {
                FrameResult r = decoder.next();
                if (r.status == FrameStatus::Complete) {
                    frames.append(r.payload);
                } else {
                    *invalid = *invalid || r.status == FrameStatus::Invalid;
                    break;
                }
            }
        }
        return frames;
    }
} // namespace

class TestFrameCodec final : public QObject
{
    Q_OBJECT

private slots:
    void decodesStreams_data();
    void decodesStreams();
    void hugeDeclaredLengthIsRefusedBeforeBuffering();
    void staysInvalidAfterError();
    void encodePrefixesBigEndianLength();
};

void TestFrameCodec::decodesStreams_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<qsizetype>("chunkSize");
    QTest::addColumn<QList<QByteArray>>("expectedFrames");
    QTest::addColumn<bool>("expectInvalid");

    const QByteArray hello = "hello"_ba;
    const QByteArray world = "world!"_ba;
    const QByteArray two = encodeFrame(hello) + encodeFrame(world);
    const QByteArray maxPayload(64, 'x');

    QTest::newRow("one frame, one chunk") << encodeFrame(hello) << qsizetype(1024) << QList{hello} << false;
    QTest::newRow("two frames, one chunk") << two << qsizetype(1024) << QList{hello, world} << false;
    QTest::newRow("two frames, byte by byte") << two << qsizetype(1) << QList{hello, world} << false;
    QTest::newRow("two frames, split in the prefix") << two << qsizetype(2) << QList{hello, world} << false;
    QTest::newRow("three frames, chunks of 7")
        << two + encodeFrame(hello) << qsizetype(7) << QList{hello, world, hello} << false;
    QTest::newRow("payload exactly at the cap")
        << encodeFrame(maxPayload) << qsizetype(16) << QList{maxPayload} << false;
    QTest::newRow("payload one over the cap")
        << encodeFrame(maxPayload + 'y') << qsizetype(16) << QList<QByteArray>{} << true;
    QTest::newRow("zero-length frame") << prefix(0) << qsizetype(4) << QList<QByteArray>{} << true;
    QTest::newRow("valid frame then oversized prefix")
        << encodeFrame(hello) + prefix(0xFFFFFFFFu) + "junk"_ba << qsizetype(1024) << QList{hello} << true;
    QTest::newRow("incomplete frame is not returned")
        << encodeFrame(world).chopped(1) << qsizetype(3) << QList<QByteArray>{} << false;
}

void TestFrameCodec::decodesStreams()
{
    QFETCH(QByteArray, stream);
    QFETCH(qsizetype, chunkSize);
    QFETCH(QList<QByteArray>, expectedFrames);
    QFETCH(bool, expectInvalid);

    FrameDecoder decoder(64);
    bool invalid = false;
    QCOMPARE(decodeAll(decoder, stream, chunkSize, &invalid), expectedFrames);
    QCOMPARE(invalid, expectInvalid);
    QCOMPARE(decoder.isInvalid(), expectInvalid);
}

void TestFrameCodec::hugeDeclaredLengthIsRefusedBeforeBuffering()
{
    FrameDecoder decoder(64 * 1024);
    // The prefix alone must be enough to refuse the frame, and what came with it must be released.
    decoder.feed(prefix(0xFFFFFFFFu) + QByteArray(1000, 'z'));
    QVERIFY(decoder.isInvalid());
    QCOMPARE(decoder.bufferedBytes(), 0);
    const FrameResult r = decoder.next();
    QCOMPARE(r.status, FrameStatus::Invalid);
    QVERIFY2(r.error.contains(u"4294967295"_s), qPrintable(r.error));
}

void TestFrameCodec::staysInvalidAfterError()
{
    FrameDecoder decoder(16);
    decoder.feed(prefix(17));
    QCOMPARE(decoder.next().status, FrameStatus::Invalid);
    decoder.feed(encodeFrame("fine"_ba));
    QCOMPARE(decoder.bufferedBytes(), 0);
    QCOMPARE(decoder.next().status, FrameStatus::Invalid);
}

void TestFrameCodec::encodePrefixesBigEndianLength()
{
    const QByteArray frame = encodeFrame(QByteArray(258, 'a'));
    QCOMPARE(frame.size(), 262);
    QCOMPARE(frame.left(4), QByteArray::fromHex("00000102"));
}

QTEST_GUILESS_MAIN(TestFrameCodec)
#include "TestFrameCodec.moc"
