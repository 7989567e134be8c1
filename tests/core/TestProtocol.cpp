// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QTest>

#include <functional>

#include "ipc/FrameCodec.h"
#include "ipc/Protocol.h"

using namespace Atelier::Ipc;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Atelier::Ipc::Message)

namespace
{
    QByteArray cbor(const QCborMap& map)
    {
        return map.toCborValue().toCbor();
    }

    QCborMap validJob()
    {
        return QCborValue::fromCbor(encodeMessage(Job{7, 7, 1, u"a cat"_s, u""_s, 42, 20, 7.5, 512, 512, u"pndm"_s,
                                                      u"/tmp/out/7-42-a-cat.png"_s}))
            .toMap();
    }
} // namespace

class TestProtocol final : public QObject
{
    Q_OBJECT

private slots:
    void roundTrips_data();
    void roundTrips();
    void rejects_data();
    void rejects();
    void survivesTheFrameDecoderByteByByte();
    void batchesShareEverythingButPromptsSeedsAndInitImages();
};

void TestProtocol::roundTrips_data()
{
    QTest::addColumn<Message>("message");
    QTest::newRow("hello") << Message(Hello{ProtocolVersion,
                                            QByteArray(TokenSize, '\x5a'),
                                            3,
                                            u"cuda:1"_s,
                                            u"NVIDIA H100"_s,
                                            4242,
                                            {u"fp16"_s, u"bf16"_s}});
    QTest::newRow("job, full 64-bit seed")
        << Message(Job{1, 11, 2, u"山水画, ink"_s, u"blurry"_s, std::numeric_limits<quint64>::max(), 30, 6.5, 768, 512,
                       u"dpmpp_2m_karras"_s, u"/out/1.png"_s});
    QTest::newRow("job, last of a batch of 8")
        << Message(Job{9, 9, 1, u"a cat"_s, u""_s, 3, 20, 7.5, 512, 512, u""_s, u"/out/9.png"_s, 7, 8});
    Job everything{4, 4, 1, u"a fox"_s, u""_s, 5, 20, 7.5, 512, 768, u"euler_a"_s, u"/out/4.png"_s, 0, 1, 2};
    everything.denoisingStrength = 0.45;
    everything.hiresScale = 1.5;
    everything.hiresSteps = 12;
    everything.hiresUpscaler = u"Lanczos"_s;
    everything.vae = u"vae-ft-mse-840000-ema-pruned.safetensors"_s;
    QTest::newRow("job with hires fix and VAE") << Message(everything);
    Job image = everything;
    image.hiresScale = 1;
    image.hiresSteps = 0;
    image.hiresUpscaler.clear();
    image.initImage = u"/art/山/fox.png"_s;
    QTest::newRow("image to image") << Message(image);
    QTest::newRow("progress") << Message(Progress{1, 5, 20, 3.25});
    QTest::newRow("preview") << Message(Preview{1, 4, 2, QByteArray(4 * 2 * 3, '\x7f')});
    QCborMap meta;
    meta.insert(u"device"_s, u"cpu"_s);
    meta.insert(u"seconds"_s, 1.5);
    QTest::newRow("result") << Message(Result{1, u"/out/1.png"_s, meta});
    QTest::newRow("error without job") << Message(Error{-1, u"model"_s, u"cannot load"_s});
    QTest::newRow("cancel") << Message(Cancel{9});
    QTest::newRow("shutdown") << Message(Shutdown{});
    QTest::newRow("heartbeat") << Message(Heartbeat{123456, 0, 0});
    QTest::newRow("heartbeat with memory") << Message(Heartbeat{1, 3'500'000'000, 85'000'000'000});
}

void TestProtocol::roundTrips()
{
    QFETCH(Message, message);
    const QByteArray payload = encodeMessage(message);
    const DecodeResult decoded = decodeMessage(payload);
    QVERIFY2(decoded.message.has_value(), qPrintable(decoded.error));
    QVERIFY(*decoded.message == message);
    QCOMPARE(messageType(*decoded.message), QCborValue::fromCbor(payload).toMap().value(u"type"_s).toString());
}

void TestProtocol::rejects_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QString>("reason");

    QTest::newRow("not CBOR") << "\xff\xff\xff"_ba << u"not CBOR"_s;
    QTest::newRow("truncated") << encodeMessage(Heartbeat{1}).chopped(1) << u"not CBOR"_s;
    QTest::newRow("trailing bytes") << encodeMessage(Heartbeat{1}) + "x"_ba << u"1 bytes after the message"_s;
    QTest::newRow("an array") << QCborValue(QCborArray{1, 2}).toCbor() << u"not a CBOR map"_s;
    QCborMap unknown;
    unknown.insert(u"type"_s, u"format-disk"_s);
    QTest::newRow("unknown type") << cbor(unknown) << u"unknown message type \"format-disk\""_s;

    QCborMap job = validJob();
    job.remove(u"seed"_s);
    QTest::newRow("job without seed") << cbor(job) << u"field \"seed\""_s;
    job = validJob();
    job.insert(u"steps"_s, 1000000);
    QTest::newRow("steps out of range") << cbor(job) << u"field \"steps\" is out of range"_s;
    job = validJob();
    job.insert(u"cfg"_s, qQNaN());
    QTest::newRow("cfg NaN") << cbor(job) << u"field \"cfg\""_s;
    job = validJob();
    job.insert(u"batchCount"_s, MaxBatch + 1);
    QTest::newRow("batch too large") << cbor(job) << u"field \"batchCount\" is out of range"_s;
    job = validJob();
    job.insert(u"batchCount"_s, 2);
    job.insert(u"batchIndex"_s, 2);
    QTest::newRow("batch index past its batch") << cbor(job) << u"field \"batchIndex\" is out of range"_s;
    job = validJob();
    job.insert(u"prompt"_s, 42);
    QTest::newRow("prompt not text") << cbor(job) << u"field \"prompt\" must be a text string"_s;

    job = validJob();
    job.insert(u"strength"_s, 1.5);
    QTest::newRow("strength above 1") << cbor(job) << u"field \"strength\""_s;
    job = validJob();
    job.insert(u"hiresScale"_s, 0.5);
    QTest::newRow("hires scale below 1") << cbor(job) << u"field \"hiresScale\""_s;
    job = validJob();
    job.insert(u"hiresUpscaler"_s, u"latent"_s);
    QTest::newRow("upscaler not canonical") << cbor(job) << u"is not a hires upscaler"_s;

    QCborMap preview = QCborValue::fromCbor(encodeMessage(Preview{1, 2, 2, QByteArray(12, 'a')})).toMap();
    preview.insert(u"rgb"_s, QByteArray(11, 'a'));
    QTest::newRow("preview size mismatch") << cbor(preview) << u"carries 11 bytes"_s;
    preview.insert(u"width"_s, 4096);
    QTest::newRow("preview too wide") << cbor(preview) << u"field \"width\" is out of range"_s;

    QCborMap hello = QCborValue::fromCbor(encodeMessage(Hello{})).toMap();
    hello.insert(u"token"_s, QByteArray(TokenSize + 1, 't'));
    hello.insert(u"pid"_s, 5);
    QTest::newRow("token too long") << cbor(hello) << u"field \"token\""_s;

    QCborMap big = QCborValue::fromCbor(encodeMessage(Error{1, u"engine"_s, u"x"_s})).toMap();
    big.insert(u"padding"_s, QByteArray(MaxControlFrameSize, 'p'));
    QTest::newRow("control message over 64 KiB") << cbor(big) << u"exceeds the control limit"_s;
}

void TestProtocol::rejects()
{
    QFETCH(QByteArray, payload);
    QFETCH(QString, reason);
    const DecodeResult decoded = decodeMessage(payload);
    QVERIFY(!decoded.message.has_value());
    QVERIFY2(decoded.error.contains(reason), qPrintable(decoded.error));
}

void TestProtocol::batchesShareEverythingButPromptsSeedsAndInitImages()
{
    const Job base{1, 1, 1, u"a fox"_s, u""_s, 5, 20, 7.5, 512, 512, u"euler_a"_s, u"/out/1.png"_s};
    Job other = base;
    other.prompt = u"an owl"_s;
    other.negativePrompt = u"blurry"_s;
    other.seed = 6;
    QVERIFY(canShareBatch(base, other));
    Job image = base;
    image.initImage = u"/a.png"_s;
    image.denoisingStrength = 0.6;
    Job otherImage = image;
    otherImage.initImage = u"/b.png"_s; // init images are per image
    QVERIFY(canShareBatch(image, otherImage));
    QVERIFY(!canShareBatch(base, image));
    const QList<std::function<void(Job&)>> changes{
        [](Job& j) { j.denoisingStrength = 0.5; },
        [](Job& j) { j.hiresScale = 2; },
        [](Job& j) { j.hiresSteps = 4; },
        [](Job& j) { j.hiresUpscaler = u"Lanczos"_s; },
        [](Job& j) { j.vae = u"softer"_s; },
        [](Job& j) { j.clipSkip = 2; },
        [](Job& j) { j.width = 640; },
        [](Job& j) { j.scheduler = u"ddim"_s; },
    };
    for (qsizetype i = 0; i < changes.size(); ++i) {
        Job changed = image;
        changes.at(i)(changed);
        QVERIFY2(!canShareBatch(image, changed), qPrintable(QString::number(i)));
    }
}

void TestProtocol::survivesTheFrameDecoderByteByByte()
{
    // Three messages in one stream, delivered one byte at a time, come out whole and in order.
    const QList<Message> sent{Hello{ProtocolVersion, QByteArray(TokenSize, 'k'), 0, u"cpu"_s, u"CPU"_s, 1, {}},
                              Progress{1, 1, 2, 0.5}, Shutdown{}};
    QByteArray stream;
    for (const Message& m : sent) {
        stream += encodeFrame(encodeMessage(m));
    }
    FrameDecoder decoder(MaxFrameSize);
    QList<Message> received;
    for (char byte : std::as_const(stream)) {
        decoder.feed(QByteArrayView(&byte, 1));
        for (FrameResult r = decoder.next(); r.status == FrameStatus::Complete; r = decoder.next()) {
            const DecodeResult decoded = decodeMessage(r.payload);
            QVERIFY2(decoded.message, qPrintable(decoded.error));
            received.append(*decoded.message);
        }
    }
    QCOMPARE(received.size(), sent.size());
    for (qsizetype i = 0; i < sent.size(); ++i) {
        QVERIFY(received[i] == sent[i]);
    }
}

QTEST_GUILESS_MAIN(TestProtocol)
#include "TestProtocol.moc"
