// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/ops/allclose.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/randn.h>

#include <sys/stat.h>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/EngineError.h"
#include "engine/Safetensors.h"

using namespace Atelier::Engine;

namespace
{
    QByteArray lengthPrefix(quint64 n)
    {
        QByteArray bytes(8, '\0');
        for (int i = 0; i < 8; ++i) {
            bytes[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
        }
        return bytes;
    }

    QByteArray safetensorsBytes(const QByteArray& header, const QByteArray& data)
    {
        return lengthPrefix(static_cast<quint64>(header.size())) + header + data;
    }

    // One F32 tensor "a" of shape [2] followed by its 8 bytes: the smallest valid file.
    const QByteArray ValidHeader = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const QByteArray EightBytes(8, '\x01');
} // namespace

class TestSafetensors final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void rejects_data();
    void rejects();
    void rejectsHugeDeclaredHeaderWithoutReadingIt();
    void refusesWhatIsNotAFile_data();
    void refusesWhatIsNotAFile();
    void refusesPickleCheckpoints_data();
    void refusesPickleCheckpoints();
    void roundTripsEveryDType_data();
    void roundTripsEveryDType();
    void tensorsAreZeroCopyViewsThatOutliveTheFile();
    void readsTheFixtureModels();

private:
    QString write(const QString& name, const QByteArray& bytes);
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestSafetensors::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestSafetensors::write(const QString& name, const QByteArray& bytes)
{
    const QString path = m_dir->filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()) {
        return {};
    }
    return path;
}

void TestSafetensors::rejects_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("reason");

    QTest::newRow("empty file") << QByteArray() << QStringLiteral("fewer than the 8-byte header length");
    QTest::newRow("shorter than the length") << QByteArray(7, '\0') << QStringLiteral("fewer than the 8-byte");
    QTest::newRow("header over the 100 MB cap")
        << lengthPrefix(100'000'001) + ValidHeader + EightBytes << QStringLiteral("more than the limit of 100000000");
    QTest::newRow("header longer than the file")
        << lengthPrefix(4096) + ValidHeader + EightBytes << QStringLiteral("the file has only");
    QTest::newRow("header not UTF-8") << safetensorsBytes("{\"a\xff\":{}}", {}) << QStringLiteral("not valid UTF-8");
    QTest::newRow("overlong UTF-8") << safetensorsBytes("{\"\xc0\xaf\":{}}", {}) << QStringLiteral("not valid UTF-8");
    QTest::newRow("header not JSON") << safetensorsBytes("{\"a\": nope}", {}) << QStringLiteral("not JSON");
    QTest::newRow("header truncated JSON")
        << safetensorsBytes(ValidHeader.chopped(1), EightBytes) << QStringLiteral("not JSON");
    QTest::newRow("header an array") << safetensorsBytes("[1,2]", {}) << QStringLiteral("does not start with '{'");
    QTest::newRow("leading space") << safetensorsBytes(" " + ValidHeader, EightBytes)
                                   << QStringLiteral("does not start with '{'");
    QTest::newRow("duplicate tensor name")
        << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                            EightBytes)
        << QStringLiteral("names \"a\" twice");
    QTest::newRow("duplicate field inside a tensor")
        << safetensorsBytes(R"({"a":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}})", EightBytes)
        << QStringLiteral("names \"dtype\" twice");
    QTest::newRow("metadata value not a string") << safetensorsBytes(
        R"({"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", EightBytes)
                                                 << QStringLiteral("__metadata__ value \"format\" is not a string");
    QTest::newRow("unknown dtype") << safetensorsBytes(R"({"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})",
                                                       EightBytes)
                                   << QStringLiteral("unsupported dtype \"F7\"");
    QTest::newRow("missing dtype") << safetensorsBytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", EightBytes)
                                   << QStringLiteral("tensor \"a\" has no dtype");
    QTest::newRow("missing shape") << safetensorsBytes(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", EightBytes)
                                   << QStringLiteral("tensor \"a\" has no shape");
    QTest::newRow("missing offsets") << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[2]}})", EightBytes)
                                     << QStringLiteral("tensor \"a\" has no data_offsets");
    QTest::newRow("unknown field") << safetensorsBytes(
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"path":"/etc/passwd"}})", EightBytes)
                                   << QStringLiteral("unknown field \"path\"");
    QTest::newRow("negative dimension") << safetensorsBytes(
        R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", EightBytes)
                                        << QStringLiteral("not a non-negative integer");
    QTest::newRow("shape overflows") << safetensorsBytes(
        R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", EightBytes)
                                     << QStringLiteral("overflows 64 bits");
    QTest::newRow("too many dimensions") << safetensorsBytes(
        R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", "1234")
                                         << QStringLiteral("17 dimensions");
    QTest::newRow("byte range does not match shape")
        << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", EightBytes)
        << QStringLiteral("spans 8 bytes but its dtype and shape need 12");
    QTest::newRow("range ends before it begins")
        << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", EightBytes)
        << QStringLiteral("ends before it begins");
    QTest::newRow("offsets not from zero")
        << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", EightBytes)
        << QStringLiteral("starts at byte 4 of the data but the previous tensor ends at 0 (hole)");
    QTest::newRow("hole between tensors")
        << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
                            EightBytes)
        << QStringLiteral("(hole)");
    QTest::newRow("overlapping tensors") << safetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                             EightBytes)
                                         << QStringLiteral("(overlap)");
    QTest::newRow("bytes after the last tensor (polyglot)")
        << safetensorsBytes(ValidHeader, EightBytes + "<html>")
        << QStringLiteral("cover 8 bytes but the data section has 14");
    QTest::newRow("data shorter than the tensors") << safetensorsBytes(ValidHeader, EightBytes.left(6))
                                                   << QStringLiteral("cover 8 bytes but the data section has 6");
}

void TestSafetensors::rejects()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, reason);
    const QString path = write(QStringLiteral("bad.safetensors"), bytes);
    QVERIFY(!path.isEmpty());
    try {
        SafetensorsFile::open(path.toStdString());
        QFAIL("a bad file was accepted");
    } catch (const EngineError& e) {
        const QString message = QString::fromStdString(e.what());
        QVERIFY2(message.startsWith(path), qPrintable(message));
        QVERIFY2(message.contains(reason), qPrintable(message));
    }
}

void TestSafetensors::rejectsHugeDeclaredHeaderWithoutReadingIt()
{
    // A 4 GiB declared header in a tiny file is refused from the length alone.
    const QString path = write(QStringLiteral("huge.safetensors"), lengthPrefix(0xFFFFFFFFull) + ValidHeader);
    QVERIFY_THROWS_EXCEPTION(EngineError, SafetensorsFile::open(path.toStdString()));
    const QString max = write(QStringLiteral("max.safetensors"), lengthPrefix(~0ull) + ValidHeader);
    QVERIFY_THROWS_EXCEPTION(EngineError, SafetensorsFile::open(max.toStdString()));
}

void TestSafetensors::refusesWhatIsNotAFile_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("FIFO") << QStringLiteral("fifo") << QStringLiteral("is a FIFO, not a file");
    QTest::newRow("symbolic link to a FIFO")
        << QStringLiteral("link to fifo") << QStringLiteral("is a FIFO, not a file");
    QTest::newRow("symbolic link to /dev/zero")
        << QStringLiteral("link to /dev/zero") << QStringLiteral("is a character device, not a file");
    QTest::newRow("directory") << QStringLiteral("directory") << QStringLiteral("is a directory, not a file");
}

void TestSafetensors::refusesWhatIsNotAFile()
{
    // Opening a FIFO for reading blocks until a writer comes, so a --model naming one never finished loading.
    QFETCH(QString, kind);
    QFETCH(QString, message);
    const QString path = m_dir->filePath(QStringLiteral("model.safetensors"));
    const QString fifo = kind == QStringLiteral("fifo") ? path : m_dir->filePath(QStringLiteral("fifo"));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    if (kind == QStringLiteral("link to fifo")) {
        QVERIFY(QFile::link(fifo, path));
    } else if (kind == QStringLiteral("link to /dev/zero")) {
        QVERIFY(QFile::link(QStringLiteral("/dev/zero"), path));
    } else if (kind == QStringLiteral("directory")) {
        QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("model.safetensors")));
    }
    const Atelier::Test::BoundedRun run
        = Atelier::Test::runBounded([path] { SafetensorsFile::open(path.toStdString()); }, 5000, {fifo});
    QVERIFY2(run.finished && run.elapsedMs < 5000,
             qPrintable(QStringLiteral("still opening after %1 ms").arg(run.elapsedMs)));
    QCOMPARE(run.engineError, path + QStringLiteral(": ") + message);
}

void TestSafetensors::refusesPickleCheckpoints_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    // A pickle whose only opcode would call os.system: never parsed, so never run.
    const QByteArray pickle
        = QByteArray::fromHex("80049520000000000000008c026f73948c0673797374656d9493948c0474727565948594529442");
    QTest::newRow(".ckpt") << QStringLiteral("model.ckpt") << pickle;
    QTest::newRow(".pt") << QStringLiteral("model.pt") << pickle;
    QTest::newRow(".bin even if it were safetensors")
        << QStringLiteral("pytorch_model.bin") << safetensorsBytes(ValidHeader, EightBytes);
    QTest::newRow("upper-case .CKPT") << QStringLiteral("MODEL.CKPT") << pickle;
    QTest::newRow("pickle renamed to .safetensors") << QStringLiteral("sneaky.safetensors") << pickle;
    // Split, or "\x00a" would be one hex escape; sized by the compiler, not by hand (a wrong count read past it).
    static constexpr char zipHead[] = "PK\x03\x04\x14\x00\x00\x00"
                                      "archive/data.pkl";
    QTest::newRow("torch.save zip renamed")
        << QStringLiteral("zip.safetensors") << QByteArray(zipHead, sizeof(zipHead) - 1);
}

void TestSafetensors::refusesPickleCheckpoints()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    const QString path = write(name, bytes);
    try {
        SafetensorsFile::open(path.toStdString());
        QFAIL("a pickle checkpoint was accepted");
    } catch (const EngineError& e) {
        const QString message = QString::fromStdString(e.what());
        QVERIFY2(message.contains(QStringLiteral("never loads pickle")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("Convert it to .safetensors")), qPrintable(message));
    }
}

void TestSafetensors::roundTripsEveryDType_data()
{
    QTest::addColumn<int>("scalarType");
    for (auto type : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                      at::kByte, at::kBool}) {
        QTest::newRow(c10::toString(type)) << static_cast<int>(type);
    }
}

void TestSafetensors::roundTripsEveryDType()
{
    QFETCH(int, scalarType);
    const auto type = static_cast<c10::ScalarType>(scalarType);
    const at::Tensor original = at::arange(24, at::kDouble).reshape({2, 3, 4}).remainder(7).to(type);
    const at::Tensor scalar = at::arange(1, at::kDouble).reshape({}).to(type);
    const at::Tensor empty = at::arange(0, at::kDouble).reshape({0, 5}).to(type);
    const std::string path = m_dir->filePath(QStringLiteral("round.safetensors")).toStdString();
    writeSafetensors(path, {{"t", original}, {"s", scalar}, {"e", empty}}, {{"format", "pt"}});

    const auto file = SafetensorsFile::open(path);
    QCOMPARE(file.header().tensors.size(), std::size_t(3));
    QCOMPARE(file.header().metadata.at("format"), std::string("pt"));
    QVERIFY(at::equal(file.tensor("t"), original));
    QCOMPARE(file.tensor("t").scalar_type(), type);
    QVERIFY(at::equal(file.tensor("s"), scalar));
    QCOMPARE(file.tensor("e").sizes().vec(), (std::vector<int64_t>{0, 5}));
    QVERIFY_THROWS_EXCEPTION(EngineError, file.tensor("missing"));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
}

void TestSafetensors::tensorsAreZeroCopyViewsThatOutliveTheFile()
{
    const at::Tensor original = at::randn({16, 8});
    const std::string path = m_dir->filePath(QStringLiteral("view.safetensors")).toStdString();
    writeSafetensors(path, {{"w", original}});
    at::Tensor view;
    {
        const auto file = SafetensorsFile::open(path);
        view = file.tensor("w");
        const auto* begin = file.data().data();
        QVERIFY(static_cast<const std::byte*>(view.const_data_ptr()) >= begin);
        QVERIFY(static_cast<const std::byte*>(view.const_data_ptr()) < begin + file.data().size());
    }
    // The mapping lives on with the view; writing to the view never reaches the file.
    QVERIFY(at::equal(view, original));
    view.mul_(2);
    QVERIFY(at::equal(SafetensorsFile::open(path).tensor("w"), original));
}

void TestSafetensors::readsTheFixtureModels()
{
    for (const char* relative : {"tiny-sd/unet/diffusion_pytorch_model.safetensors",
                                 "tiny-sd15/single-file/tiny-sd15.safetensors", "tiny-sd/goldens/unet.safetensors"}) {
        const QString path = Atelier::Test::fixturePath(QString::fromLatin1(relative));
        const auto file = SafetensorsFile::open(path.toStdString());
        QVERIFY2(!file.header().tensors.empty(), relative);
        const auto& first = file.header().tensors.front();
        QCOMPARE(file.tensor(first.name).sizes().vec(), first.shape);
    }
}

QTEST_GUILESS_MAIN(TestSafetensors)
#include "TestSafetensors.moc"
