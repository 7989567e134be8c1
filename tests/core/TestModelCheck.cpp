// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <memory>
#include <optional>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "TestSupport.h"
#include "render/ModelCheck.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    bool writeFile(const QString& path, const QByteArray& data)
    {
        QFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(data) == data.size();
    }

    /// A safetensors file: the little-endian length of @p json (or @p claimedLength), @p json, @p payload zero bytes.
    QByteArray safetensors(const QByteArray& json, qsizetype payload = 0,
                           std::optional<quint64> claimedLength = std::nullopt)
    {
        quint64 length = claimedLength.value_or(quint64(json.size()));
        QByteArray data;
        for (int i = 0; i < 8; ++i) {
            data.append(char(length & 0xff));
            length >>= 8;
        }
        return data + json + QByteArray(payload, '\0');
    }
} // namespace

class TestModelCheck final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void checkModelPath_data();
    void checkModelPath();
    void fifoIsRefusedWithoutBlocking();
    void realFixturesPass();
    void prepareOutputDirectory_data();
    void prepareOutputDirectory();
    void unwritableExistingFolder();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestModelCheck::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestModelCheck::checkModelPath_data()
{
    QTest::addColumn<QString>("setup");
    QTest::addColumn<QString>("problem"); // a part of the message; empty: the path is accepted
    QTest::newRow("missing file") << u"missing"_s << u"does not exist"_s;
    QTest::newRow("empty path") << u"empty path"_s << u"no model"_s;
    QTest::newRow("folder without model_index.json") << u"plain folder"_s << u"without model_index.json"_s;
    QTest::newRow("model_index.json that is a folder") << u"index folder"_s << u"without model_index.json"_s;
    QTest::newRow("folder with model_index.json") << u"index file"_s << QString();
    QTest::newRow("folder with unet/ only") << u"unet folder"_s << QString();
    QTest::newRow("FIFO named .safetensors") << u"fifo"_s << u"a FIFO"_s;
    QTest::newRow("/dev/zero") << u"/dev/zero"_s << u"a character device"_s;
    QTest::newRow("symlink to /dev/zero") << u"link to /dev/zero"_s << u"a character device"_s;
    QTest::newRow("socket") << u"socket"_s << u"a socket"_s;
    QTest::newRow("dangling symlink") << u"dangling link"_s << u"which does not exist"_s;
    QTest::newRow(".ckpt") << u"model.ckpt"_s << u"convert it to .safetensors"_s;
    QTest::newRow(".PT") << u"model.PT"_s << u"pickle checkpoint (.pt)"_s;
    QTest::newRow(".pth") << u"model.pth"_s << u"pickle"_s;
    QTest::newRow(".bin") << u"model.bin"_s << u"pickle"_s;
    QTest::newRow("symlink.safetensors to a .ckpt") << u"link to ckpt"_s << u"is not a valid safetensors file"_s;
    QTest::newRow(".onnx") << u"model.onnx"_s << u"neither a .safetensors file nor"_s;
    QTest::newRow("empty .safetensors") << u"empty"_s << u"too short (0 bytes)"_s;
    QTest::newRow("5 bytes") << u"five bytes"_s << u"too short (5 bytes)"_s;
    QTest::newRow("header longer than the file") << u"truncated"_s << u"is it truncated?"_s;
    QTest::newRow("header length beyond 2^63") << u"huge length"_s << u"is it truncated?"_s;
    QTest::newRow("header of length 0") << u"zero length"_s << u"claims 0 bytes"_s;
    QTest::newRow("header not JSON") << u"not json"_s << u"its header is not JSON"_s;
    QTest::newRow("smallest valid") << u"minimal"_s << QString();
    QTest::newRow("upper-case extension") << u"upper case"_s << QString();
    QTest::newRow("symlink to a valid file") << u"link to valid"_s << QString();
}

void TestModelCheck::checkModelPath()
{
    QFETCH(QString, setup);
    QFETCH(QString, problem);
    const QDir dir(m_dir->path());
    QString path = dir.filePath(u"model.safetensors"_s);
    const QByteArray valid = safetensors("{\"__metadata__\":{}}", 16);
    if (setup == u"missing") {
        // nothing made
    } else if (setup == u"empty path") {
        path.clear();
    } else if (setup == u"plain folder" || setup == u"index folder" || setup == u"index file"
               || setup == u"unet folder") {
        path = dir.filePath(u"sd15"_s);
        QVERIFY(dir.mkpath(u"sd15/vae"_s));
        QVERIFY(writeFile(path + u"/README.md"_s, "not a model"));
        if (setup == u"index folder") {
            QVERIFY(dir.mkpath(u"sd15/model_index.json"_s));
        } else if (setup == u"index file") {
            QVERIFY(writeFile(path + u"/model_index.json"_s, "{}"));
        } else if (setup == u"unet folder") {
            QVERIFY(dir.mkpath(u"sd15/unet"_s));
        }
    } else if (setup == u"fifo") {
        QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
    } else if (setup == u"/dev/zero" || setup == u"link to /dev/zero") {
        if (!QFileInfo::exists(u"/dev/zero"_s)) {
            QSKIP("no /dev/zero here");
        }
        if (setup == u"/dev/zero") {
            path = u"/dev/zero"_s;
        } else {
            QVERIFY(QFile::link(u"/dev/zero"_s, path));
        }
    } else if (setup == u"socket") {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const QByteArray name = QFile::encodeName(path);
        QVERIFY(name.size() < qsizetype(sizeof address.sun_path));
        std::memcpy(address.sun_path, name.constData(), size_t(name.size()));
        const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        ::close(fd);
        QCOMPARE(bound, 0);
    } else if (setup == u"dangling link") {
        QVERIFY(QFile::link(dir.filePath(u"gone.safetensors"_s), path));
    } else if (setup.startsWith(u"model.")) {
        // Refused by name, whatever the file holds: these are the formats that run code when loaded.
        path = dir.filePath(setup);
        QVERIFY(writeFile(path, valid));
    } else if (setup == u"link to ckpt") {
        // The name is the link's; the content still has to be safetensors.
        QVERIFY(writeFile(dir.filePath(u"real.ckpt"_s), "PK\x03\x04 pickle"));
        QVERIFY(QFile::link(dir.filePath(u"real.ckpt"_s), path));
    } else if (setup == u"empty") {
        QVERIFY(writeFile(path, {}));
    } else if (setup == u"five bytes") {
        QVERIFY(writeFile(path, "\x02\0\0\0\0"_ba));
    } else if (setup == u"truncated") {
        QVERIFY(writeFile(path, valid.left(12)));
    } else if (setup == u"huge length") {
        QVERIFY(writeFile(path, safetensors("{}", 0, quint64(1) << 63)));
    } else if (setup == u"zero length") {
        QVERIFY(writeFile(path, safetensors("{}", 0, 0)));
    } else if (setup == u"not json") {
        QVERIFY(writeFile(path, safetensors("[1,2,3]")));
    } else if (setup == u"minimal") {
        QVERIFY(writeFile(path, safetensors("{}")));
    } else if (setup == u"upper case") {
        path = dir.filePath(u"MODEL.SafeTensors"_s);
        QVERIFY(writeFile(path, valid));
    } else if (setup == u"link to valid") {
        QVERIFY(writeFile(dir.filePath(u"real.safetensors"_s), valid));
        QVERIFY(QFile::link(dir.filePath(u"real.safetensors"_s), path));
    } else {
        QFAIL(qPrintable(u"unknown setup "_s + setup));
    }

    const QString message = Atelier::checkModelPath(path);
    if (problem.isEmpty()) {
        QCOMPARE(message, QString());
    } else {
        QVERIFY2(message.contains(problem), qPrintable(message));
        // Every message names what it is about.
        if (!path.isEmpty()) {
            QVERIFY2(message.contains(path), qPrintable(message));
        }
    }
}

// Opening a FIFO for reading blocks until a writer comes; the check must answer at once without opening it.
void TestModelCheck::fifoIsRefusedWithoutBlocking()
{
    for (const QString& name : {u"model.safetensors"_s, u"model"_s}) {
        const QString path = m_dir->filePath(name);
        QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
        const QString link = m_dir->filePath(u"link-to-"_s + name + u".safetensors"_s);
        QVERIFY(QFile::link(path, link));
        for (const QString& candidate : {path, link}) {
            QElapsedTimer timer;
            timer.start();
            const QString message = Atelier::checkModelPath(candidate);
            QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
            QVERIFY2(message.contains(u"a FIFO"_s), qPrintable(message));
        }
    }
}

void TestModelCheck::realFixturesPass()
{
    const QString file = Test::fixturePath(u"tiny-sd15/single-file/tiny-sd15.safetensors"_s);
    const QString folder = Test::fixturePath(u"tiny-sd15"_s);
    if (!QFileInfo::exists(file) || !QFileInfo::exists(folder)) {
        QSKIP("the tiny-sd15 fixture is not in ../shared/fixtures");
    }
    QCOMPARE(Atelier::checkModelPath(file), QString());
    QCOMPARE(Atelier::checkModelPath(folder), QString());
    QCOMPARE(Atelier::checkModelPath(Test::sourcePath(u"resources/models/atelier-tiny"_s)), QString());

    // The real file cut short: its header says more than is there.
    QFile source(file);
    QVERIFY(source.open(QIODevice::ReadOnly));
    const QByteArray head = source.read(64);
    const QString truncated = m_dir->filePath(u"cut.safetensors"_s);
    QVERIFY(writeFile(truncated, head));
    const QString message = Atelier::checkModelPath(truncated);
    QVERIFY2(message.contains(u"truncated"_s), qPrintable(message));
}

void TestModelCheck::prepareOutputDirectory_data()
{
    QTest::addColumn<QString>("relative"); // under the temporary folder; "" for an empty path
    QTest::addColumn<QString>("problem"); // empty: made and writable
    QTest::newRow("existing folder") << u"."_s << QString();
    QTest::newRow("missing, nested") << u"out/2024/fox"_s << QString();
    // Tests run as root, where permissions stop nothing: a folder cannot be made under a regular file.
    QTest::newRow("under a regular file") << u"somefile/sub"_s << u"cannot create the output folder"_s;
    QTest::newRow("a regular file") << u"somefile"_s << u"somefile"_s;
    QTest::newRow("empty path") << QString() << u"no output folder"_s;
}

void TestModelCheck::prepareOutputDirectory()
{
    QFETCH(QString, relative);
    QFETCH(QString, problem);
    QVERIFY(writeFile(m_dir->filePath(u"somefile"_s), "x"));
    const QString directory = relative.isEmpty() ? QString() : m_dir->filePath(relative);
    const QString message = Atelier::prepareOutputDirectory(directory);
    if (problem.isEmpty()) {
        QCOMPARE(message, QString());
        QVERIFY(QFileInfo(directory).isDir());
        // The probe file is gone again: the folder holds what it held before.
        const QStringList left = QDir(directory).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
        QCOMPARE(left, relative == u"." ? QStringList{u"somefile"_s} : QStringList{});
    } else {
        QVERIFY2(message.contains(problem), qPrintable(message));
        if (!directory.isEmpty()) {
            QVERIFY2(message.contains(directory), qPrintable(message));
        }
        QVERIFY(QFileInfo(m_dir->filePath(u"somefile"_s)).isFile()); // untouched
    }
}

// A folder that exists but takes no files, even for root: /proc's top level.
void TestModelCheck::unwritableExistingFolder()
{
    if (!QFileInfo(u"/proc/self"_s).exists()) {
        QSKIP("no /proc here");
    }
    const QString message = Atelier::prepareOutputDirectory(u"/proc"_s);
    QVERIFY2(message.startsWith(u"cannot write to the output folder /proc"_s), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestModelCheck)
#include "TestModelCheck.moc"
