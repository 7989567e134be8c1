// SPDX-License-Identifier: GPL-3.0-or-later
// `atelier --batch`, run as a user would: the real executables, the tiny model, CPU workers.
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/stat.h>

#include "TestSupport.h"
#include "library/ImageLibrary.h"
#include "queue/QueueStore.h"
#include "render/OutputNaming.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int HardTimeoutMs = 120000;

    QStringList baseArguments(const QString& file, const QString& out)
    {
        return {u"--batch"_s,   file,    u"--model"_s,  Test::fixturePath(u"tiny-sd15"_s),
                u"--out"_s,     out,     u"--steps"_s,  u"3"_s,
                u"--width"_s,   u"64"_s, u"--height"_s, u"64"_s,
                u"--threads"_s, u"1"_s};
    }

    QList<QJsonObject> events(const QString& output)
    {
        QList<QJsonObject> list;
        for (const QString& line : output.split(u'\n', Qt::SkipEmptyParts)) {
            list.append(QJsonDocument::fromJson(line.toUtf8()).object());
        }
        return list;
    }

    QStringList files(const QString& directory)
    {
        return QDir(directory).entryList(QDir::Files | QDir::NoDotAndDotDot, QDir::Name);
    }

    /// Every file in @p directory, hidden ones too (temporary `.part` files are hidden).
    QStringList allFiles(const QString& directory)
    {
        return QDir(directory).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
    }

    /// The prompt words of each image name (`00003-1001-two.png` → `two`), sorted: one entry per image made.
    QStringList imagedPrompts(const QString& directory)
    {
        QStringList slugs;
        for (const QString& name : files(directory)) {
            slugs.append(name.section(u'-', 2).chopped(4));
        }
        slugs.sort();
        return slugs;
    }

} // namespace

class TestBatchMode final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void rendersEveryPromptWithJsonEvents();
    void badLinesAreNamedAndTheRestRendered();
    void strictRendersNothingFromABadFile();
    void baseSeedNumbersPromptsWithoutOne();
    void interruptStopsCleanly();
    void signalsEndARunInEveryState_data();
    void signalsEndARunInEveryState();
    void badOptionsAreNamed_data();
    void badOptionsAreNamed();
    void nothingToRenderEndsAtOnce_data();
    void nothingToRenderEndsAtOnce();
    void acceptsA1111SamplerNames();
    void eachDeviceGetsItsOwnPrecision();
    void aSecondRunKeepsTheFirstRunsImages();
    void aKilledRunResumesAndMakesEachImageOnce();
    void resumeNeedsARunToContinue();
    void aFullDiskFailsTheJobsAndTheRun();
    void lorasFromTagsAndTheCommandLine();
    void clipSkipFromTheLineOrTheCommandLine();
    void embeddingsFromTheirFolder();
    void imageToImageHiresAndVaePerLine();
    void shardsSplitTheFileAndMakeEachImageOnce();

private:
    /// The durable queue the atelier processes of this test use (in a data folder of the test's own).
    QString storePath() const;

    QTemporaryDir m_data;
};

void TestBatchMode::initTestCase()
{
    // Every atelier started here keeps its queue store in a data folder of this test, never the user's.
    QVERIFY(m_data.isValid());
    qputenv("XDG_DATA_HOME", QFile::encodeName(m_data.path()));
    // And its settings (the gallery's folders) in a config folder of the test.
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_data.filePath(u"config"_s)));
}

QString TestBatchMode::storePath() const
{
    QDirIterator it(m_data.path(), {u"queue.sqlite"_s}, QDir::Files, QDirIterator::Subdirectories);
    return it.hasNext() ? it.next() : QString();
}

void TestBatchMode::rendersEveryPromptWithJsonEvents()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                             + QStringList{u"--json"_s, u"--devices"_s, u"cpu,cpu"_s},
                                         HardTimeoutMs);
    QVERIFY2(result.exitCode == 0 && !result.crashed, qPrintable(result.standardError));
    const auto all = events(result.standardOutput);
    int done = 0;
    for (const QJsonObject& e : all) {
        QVERIFY2(!e.isEmpty(), "every stdout line is one JSON object");
        done += e[u"event"_s] == u"done"_s ? 1 : 0;
    }
    QCOMPARE(done, 2);
    QCOMPARE(all.last()[u"event"_s].toString(), u"summary"_s);
    QCOMPARE(all.last()[u"images"_s].toInt(), 2);
    QCOMPARE(files(out.path()).size(), 2);

    // The window's gallery will show them: they are in the image library, and the folder is one it watches.
    QDirIterator found(m_data.path(), {u"library.sqlite"_s}, QDir::Files, QDirIterator::Subdirectories);
    QVERIFY(found.hasNext());
    ImageLibrary library;
    QCOMPARE(library.open(found.next()), QString());
    for (const QString& name : files(out.path())) {
        const std::optional<LibraryImage> image = library.imageByPath(QDir(out.path()).filePath(name));
        QVERIFY2(image, qPrintable(name));
        QVERIFY(!image->settings.prompt.isEmpty());
    }
    const QSettings config(m_data.filePath(u"config/Atelier/Atelier.conf"_s), QSettings::IniFormat);
    QCOMPARE(config.value(u"library/folders"_s).toStringList(), QStringList{QDir(out.path()).absolutePath()});
}

void TestBatchMode::badLinesAreNamedAndTheRestRendered()
{
    QTemporaryDir out;
    const QString file = Test::dataPath(u"prompts/outpath.txt"_s);
    const auto result
        = Test::runProcess(Test::executablePath(u"atelier"_s), baseArguments(file, out.path()), HardTimeoutMs);
    QCOMPARE(result.exitCode, 1); // not every line became an image
    QVERIFY2(result.standardError.contains(file + u":2:"_s), qPrintable(result.standardError));
    QVERIFY(result.standardError.contains(u"2 of 2 images written"_s));
    QCOMPARE(files(out.path()).size(), 2);
    QVERIFY(!QDir(u"/tmp/evil"_s).exists());
}

void TestBatchMode::strictRendersNothingFromABadFile()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/outpath.txt"_s), out.path())
                                             + QStringList{u"--strict"_s},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 2);
    QVERIFY(result.standardError.contains(u"nothing rendered"_s));
    QCOMPARE(files(out.path()).size(), 0);
}

void TestBatchMode::baseSeedNumbersPromptsWithoutOne()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                             + QStringList{u"--seed"_s, u"1000"_s},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 0);
    QCOMPARE(files(out.path()), (QStringList{u"00000-1000-one.png"_s, u"00001-1001-two.png"_s}));
}

void TestBatchMode::interruptStopsCleanly()
{
    QTemporaryDir out;
    QProcess atelier;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s); // workers inherit it: 300 ms a step
    environment.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"300"_s);
    atelier.setProcessEnvironment(environment);
    atelier.start(Test::executablePath(u"atelier"_s),
                  baseArguments(Test::dataPath(u"prompts/a1111-all-options.txt"_s), out.path())
                      + QStringList{u"--json"_s, u"--steps"_s, u"6"_s});
    QVERIFY(atelier.waitForStarted());
    // Interrupt once the first job is under way.
    QVERIFY(QTest::qWaitFor([&] { return atelier.readAllStandardOutput().contains("\"progress\""); }, HardTimeoutMs));
    ::kill(static_cast<pid_t>(atelier.processId()), SIGINT);
    QVERIFY(atelier.waitForFinished(HardTimeoutMs));
    QCOMPARE(atelier.exitStatus(), QProcess::NormalExit);
    QCOMPARE(atelier.exitCode(), 130);
    const QString errors = QString::fromUtf8(atelier.readAllStandardError());
    QVERIFY2(errors.contains(u"not made"_s), qPrintable(errors));
    for (const QString& f : files(out.path())) {
        QVERIFY2(f.endsWith(u".png"_s), qPrintable(f)); // no half-written files
    }
}

void TestBatchMode::signalsEndARunInEveryState_data()
{
    QTest::addColumn<int>("signal");
    QTest::addColumn<int>("afterMs"); ///< -1: once the first job reports progress
    QTest::addColumn<int>("times"); ///< how many times
    QTest::addColumn<int>("exitCode");
    QTest::newRow("SIGINT at once") << SIGINT << 0 << 1 << 130;
    QTest::newRow("SIGINT while workers start") << SIGINT << 200 << 1 << 130;
    QTest::newRow("SIGTERM while workers start") << SIGTERM << 300 << 1 << 143;
    QTest::newRow("SIGTERM mid-job") << SIGTERM << -1 << 1 << 143;
    QTest::newRow("SIGINT twice mid-job") << SIGINT << -1 << 2 << 130;
}

// Each interrupt, whenever it comes, ends the run within 10 s with the shell's code for that signal, leaves no
// partial file, and no worker behind.
void TestBatchMode::signalsEndARunInEveryState()
{
    QFETCH(int, signal);
    QFETCH(int, afterMs);
    QFETCH(int, times);
    QFETCH(int, exitCode);
    QTemporaryDir out;
    QProcess atelier;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s);
    environment.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"2000"_s); // a step longer than any wait below
    atelier.setProcessEnvironment(environment);
    atelier.start(Test::executablePath(u"atelier"_s),
                  baseArguments(Test::dataPath(u"prompts/a1111-all-options.txt"_s), out.path())
                      + QStringList{u"--json"_s, u"--devices"_s, u"cpu,cpu"_s});
    QVERIFY(atelier.waitForStarted());
    const qint64 pid = atelier.processId();
    QByteArray output;
    if (afterMs < 0) {
        QVERIFY(QTest::qWaitFor(
            [&] {
                output += atelier.readAllStandardOutput();
                return output.contains("\"progress\"");
            },
            HardTimeoutMs));
    } else {
        QTest::qWait(afterMs);
    }
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < times; ++i) {
        ::kill(static_cast<pid_t>(pid), signal);
        QTest::qWait(100);
    }
    // waitForFinished() is false for a process that has already ended, too.
    if (atelier.state() != QProcess::NotRunning && !atelier.waitForFinished(10000)) {
        QFile status(u"/proc/%1/status"_s.arg(pid));
        status.open(QIODevice::ReadOnly);
        QFAIL(qPrintable(u"still running 10 s after the signal: "_s + QString::fromUtf8(atelier.readAllStandardError())
                         + QString::fromUtf8(status.readAll())));
    }
    QVERIFY2(clock.elapsed() < 10000, qPrintable(QString::number(clock.elapsed())));
    // A signal before main() has set up its handlers ends the process by the signal itself, which a shell also
    // reports as 128 + the signal; from then on atelier exits with that code itself, after its summary.
    if (atelier.exitStatus() == QProcess::NormalExit || afterMs > 0) {
        QCOMPARE(atelier.exitStatus(), QProcess::NormalExit);
        QCOMPARE(atelier.exitCode(), exitCode);
    }
    QCOMPARE(QDir(out.path()).entryList(QDir::Hidden | QDir::Files).filter(u".part"_s), QStringList());
    // No worker outlives the run: none has atelier's pid as its parent any more.
    QTest::qWait(200);
    for (const QString& entry : QDir(u"/proc"_s).entryList(QDir::Dirs)) {
        QFile stat(u"/proc/%1/stat"_s.arg(entry));
        if (entry.toInt() == 0 || !stat.open(QIODevice::ReadOnly)) {
            continue;
        }
        const QList<QByteArray> fields = stat.readAll().split(')').last().trimmed().split(' ');
        QVERIFY2(fields.size() < 2 || fields.at(1).toLongLong() != pid || fields.at(0) == "Z",
                 qPrintable(u"process %1 outlived atelier"_s.arg(entry)));
    }
}

void TestBatchMode::badOptionsAreNamed_data()
{
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("mention");
    QTemporaryDir scratch;
    QTest::newRow("steps 0") << QStringList{u"--steps"_s, u"0"_s} << u"--steps"_s;
    QTest::newRow("steps 151") << QStringList{u"--steps"_s, u"151"_s} << u"--steps"_s;
    QTest::newRow("width not a multiple of 8") << QStringList{u"--width"_s, u"100"_s} << u"--width"_s;
    QTest::newRow("width 8192") << QStringList{u"--width"_s, u"8192"_s} << u"--width"_s;
    QTest::newRow("bad device") << QStringList{u"--devices"_s, u"gpu7"_s} << u"--devices"_s;
    QTest::newRow("cfg not a number") << QStringList{u"--cfg"_s, u"x"_s} << u"--cfg"_s;
    QTest::newRow("cfg nan") << QStringList{u"--cfg"_s, u"nan"_s} << u"--cfg"_s;
    QTest::newRow("clip skip 13") << QStringList{u"--clip-skip"_s, u"13"_s} << u"--clip-skip"_s;
    QTest::newRow("lora with a bad weight") << QStringList{u"--lora"_s, u"ink:lots"_s} << u"--lora"_s;
    QTest::newRow("lora path with a colon") << QStringList{u"--lora"_s, u"/mnt/c:/ink.safetensors"_s} << u"--lora"_s;
    QTest::newRow("cfg inf") << QStringList{u"--cfg"_s, u"inf"_s} << u"--cfg"_s;
    QTest::newRow("unknown scheduler") << QStringList{u"--scheduler"_s, u"bogus"_s} << u"bogus"_s;
    QTest::newRow("unknown dtype") << QStringList{u"--dtype"_s, u"fp8"_s} << u"--dtype"_s;
    QTest::newRow("fp16 on the CPU") << QStringList{u"--dtype"_s, u"fp16"_s} << u"cpu"_s;
    QTest::newRow("missing model") << QStringList{u"--model"_s, u"/nonexistent/model.safetensors"_s}
                                   << u"/nonexistent/model.safetensors"_s;
    QTest::newRow("model is a device") << QStringList{u"--model"_s, u"/dev/zero"_s} << u"/dev/zero"_s;
    QTest::newRow("pickle model") << QStringList{u"--model"_s, Test::dataPath(u"prompts/batch.txt"_s) + u".ckpt"_s}
                                  << u".ckpt"_s;
    QTest::newRow("shard not K/N") << QStringList{u"--shard"_s, u"3"_s} << u"--shard"_s;
    QTest::newRow("shard K past N") << QStringList{u"--shard"_s, u"4/4"_s} << u"--array=0-3"_s;
    QTest::newRow("no shards") << QStringList{u"--shard"_s, u"0/0"_s} << u"--shard"_s;
    QTest::newRow("shard and resume") << QStringList{u"--shard"_s, u"0/2"_s, u"--resume"_s} << u"--shard"_s;
    // Tests run as root, where permissions do not stop a write; a path through a file does.
    QTest::newRow("output folder cannot be made")
        << QStringList{u"--out"_s, Test::dataPath(u"prompts/batch.txt"_s) + u"/images"_s} << u"batch.txt/images"_s;
}

// Bad values are refused before any worker starts: exit 2 at once, naming the option, nothing written.
void TestBatchMode::badOptionsAreNamed()
{
    QFETCH(QStringList, extra);
    QFETCH(QString, mention);
    const QString file = Test::dataPath(u"prompts/crlf.txt"_s);
    QTemporaryDir out;
    QStringList arguments{u"--batch"_s, file, u"--out"_s, out.filePath(u"images"_s), u"--threads"_s, u"1"_s};
    // A later --out wins, so the row's own folder is used where it has one.
    arguments += extra;
    QElapsedTimer clock;
    clock.start();
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s), arguments, 30000);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.standardError.contains(mention), qPrintable(result.standardError));
    QVERIFY2(!result.standardError.contains(u"worker"_s), qPrintable(result.standardError));
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(files(out.filePath(u"images"_s)).isEmpty());
}

void TestBatchMode::nothingToRenderEndsAtOnce_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("message");
    QTest::newRow("empty") << u"prompts/empty.txt"_s << u"contains no prompts"_s;
    QTest::newRow("blank lines only") << u"prompts/blank-only.txt"_s << u"contains no prompts"_s;
    QTest::newRow("every line invalid") << u"prompts/all-invalid.txt"_s << u"no line of the file can be rendered"_s;
    QTest::newRow("missing file") << u"prompts/no-such-file.txt"_s << u"no-such-file.txt"_s;
}

void TestBatchMode::nothingToRenderEndsAtOnce()
{
    QFETCH(QString, file);
    QFETCH(QString, message);
    QTemporaryDir out;
    QElapsedTimer clock;
    clock.start();
    const auto result
        = Test::runProcess(Test::executablePath(u"atelier"_s), baseArguments(Test::dataPath(file), out.path()), 30000);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.standardError.contains(message), qPrintable(result.standardError));
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
}

void TestBatchMode::acceptsA1111SamplerNames()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                             + QStringList{u"--scheduler"_s, u"Euler a"_s, u"--seed"_s, u"7"_s},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 0);
    const QStringList images = files(out.path());
    QCOMPARE(images.size(), 2);
    const QImage image(QDir(out.path()).filePath(images.first()));
    QVERIFY2(image.text(u"parameters"_s).contains(u"Sampler: Euler a,"_s), qPrintable(image.text(u"parameters"_s)));
}

// --dtype auto (the default) is decided per device: fp16 on CUDA, fp32 on the CPU, in one run. On a machine
// without that GPU the CUDA worker then fails to start, which disables that device alone.
void TestBatchMode::eachDeviceGetsItsOwnPrecision()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                             + QStringList{u"--devices"_s, u"cpu,cuda:0"_s, u"--json"_s},
                                         HardTimeoutMs);
    QStringList starts;
    for (const QJsonObject& event : events(result.standardOutput)) {
        const QString message = event.value(u"message"_s).toString();
        if (event.value(u"event"_s).toString() == u"worker"_s && message.startsWith(u"starting on"_s)) {
            starts.append(u"%1: %2"_s.arg(event.value(u"rank"_s).toInt()).arg(message));
        }
    }
    QVERIFY2(starts.contains(u"0: starting on cpu (fp32)"_s), qPrintable(starts.join(u"; "_s)));
    QVERIFY2(starts.contains(u"1: starting on cuda:0 (fp16)"_s), qPrintable(starts.join(u"; "_s)));
    // Whatever this machine has, the CPU renders every prompt.
    QCOMPARE(files(out.path()).size(), 2);
}

// A second run into the same folder, with other settings, adds images and replaces none; each image's provenance
// names the queue item it came from.
void TestBatchMode::aSecondRunKeepsTheFirstRunsImages()
{
    QTemporaryDir out;
    for (const QString& steps : {u"2"_s, u"3"_s}) {
        const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                             baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                                 + QStringList{u"--seed"_s, u"1000"_s, u"--steps"_s, steps},
                                             HardTimeoutMs);
        QCOMPARE(result.exitCode, 0);
    }
    QCOMPARE(files(out.path()),
             (QStringList{u"00000-1000-one.png"_s, u"00001-1001-two.png"_s, u"00002-1000-one.png"_s,
                          u"00003-1001-two.png"_s}));
    // As readable as any file the user makes (not the private mode of a temporary file).
    const mode_t mask = ::umask(0022);
    ::umask(mask);
    struct stat info = {};
    QCOMPARE(::stat(QFile::encodeName(QDir(out.path()).filePath(u"00003-1001-two.png"_s)).constData(), &info), 0);
    QCOMPARE(info.st_mode & 0777, 0666 & ~mask);
    const QImage second(QDir(out.path()).filePath(u"00003-1001-two.png"_s));
    const QJsonObject provenance = QJsonDocument::fromJson(second.text(u"atelier"_s).toUtf8()).object();
    // The provenance names the durable queue's item, which knows the image.
    QueueStore store;
    QCOMPARE(store.open(storePath()), QString());
    const std::optional<QueueItem> item = store.item(provenance.value(u"queueItemId"_s).toInteger());
    QVERIFY(item);
    QCOMPARE(item->settings.prompt, u"two"_s);
    QCOMPARE(item->state, ItemState::Done);
    QCOMPARE(QFileInfo(item->imagePath).fileName(), u"00003-1001-two.png"_s);
    QVERIFY2(second.text(u"parameters"_s).contains(u"Steps: 3,"_s), qPrintable(second.text(u"parameters"_s)));
}

// The acceptance test of the durable queue: `kill -9` of `atelier --batch` mid-run, then the same command with
// --resume. Its workers die with it, and the resumed run makes exactly the images that were missing.
void TestBatchMode::aKilledRunResumesAndMakesEachImageOnce()
{
    QTemporaryDir out;
    const QStringList arguments = baseArguments(Test::dataPath(u"prompts/six.txt"_s), out.path())
        + QStringList{u"--devices"_s, u"cpu,cpu"_s, u"--steps"_s, u"4"_s};
    QProcess atelier;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s);
    environment.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"150"_s);
    atelier.setProcessEnvironment(environment);
    atelier.start(Test::executablePath(u"atelier"_s), arguments);
    QVERIFY(atelier.waitForStarted());
    // Killed once some images exist and others are under way.
    QVERIFY(QTest::qWaitFor([&] { return files(out.path()).size() >= 2; }, HardTimeoutMs));
    const QList<qint64> workers = Test::childrenOf(atelier.processId());
    QVERIFY(!workers.isEmpty());
    ::kill(static_cast<pid_t>(atelier.processId()), SIGKILL);
    QVERIFY(atelier.waitForFinished(HardTimeoutMs));
    // No worker outlives its coordinator for long (they get SIGTERM when it dies, and stop at once).
    QVERIFY(QTest::qWaitFor(
        [&] { return std::none_of(workers.begin(), workers.end(), [](qint64 pid) { return Test::isRunning(pid); }); },
        10000));
    const qsizetype before = files(out.path()).size();
    QVERIFY(before < 6);

    const auto resumed
        = Test::runProcess(Test::executablePath(u"atelier"_s), arguments + QStringList{u"--resume"_s}, HardTimeoutMs);
    QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.standardError));
    QVERIFY2(resumed.standardError.contains(u"made earlier"_s), qPrintable(resumed.standardError));
    // Exactly one image per prompt: none lost, none made twice, and no temporary file left.
    QCOMPARE(imagedPrompts(out.path()),
             (QStringList{u"a-black-cat"_s, u"a-blue-kite"_s, u"a-green-door"_s, u"a-red-fox"_s, u"a-white-owl"_s,
                          u"a-yellow-boat"_s}));
    for (const QString& name : allFiles(out.path())) {
        QVERIFY2(!name.endsWith(u".part"_s), qPrintable(name));
        QVERIFY2(isCompleteImage(QDir(out.path()).filePath(name)), qPrintable(name));
    }
    // A second resume finds nothing left to do and makes nothing.
    const auto again
        = Test::runProcess(Test::executablePath(u"atelier"_s), arguments + QStringList{u"--resume"_s}, HardTimeoutMs);
    QCOMPARE(again.exitCode, 0);
    QVERIFY2(again.standardError.contains(u"nothing left to render"_s), qPrintable(again.standardError));
    QCOMPARE(files(out.path()).size(), 6);
}

void TestBatchMode::resumeNeedsARunToContinue()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(
        Test::executablePath(u"atelier"_s),
        baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path()) + QStringList{u"--resume"_s}, HardTimeoutMs);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.standardError.contains(u"no run of"_s) && result.standardError.contains(u"crlf.txt"_s),
             qPrintable(result.standardError));
    QVERIFY(files(out.path()).isEmpty());
}

// A full output folder: the jobs that cannot be written fail with the disk's error, the run says so and exits
// non-zero, and no 0-byte or partial PNG is left. The folder is a 40 KiB tmpfs in a private mount namespace
// (unshare -rm), so the test needs no privileges where user namespaces are allowed.
void TestBatchMode::aFullDiskFailsTheJobsAndTheRun()
{
    if (QProcess::execute(u"unshare"_s, {u"-rm"_s, u"true"_s}) != 0) {
        QSKIP("unshare -rm (user and mount namespaces) is not allowed here; the disk-full case cannot be staged");
    }
    QTemporaryDir scratch;
    const QString small = scratch.filePath(u"small"_s);
    const QString copy = scratch.filePath(u"copy"_s);
    QVERIFY(QDir().mkpath(small) && QDir().mkpath(copy));
    QStringList command{Test::executablePath(u"atelier"_s)};
    command += baseArguments(Test::dataPath(u"prompts/six.txt"_s), small);
    QString quoted;
    for (const QString& word : std::as_const(command)) {
        quoted += u" '"_s + word + u"'"_s;
    }
    // The tmpfs exists only inside the namespace: its files are copied out before the shell ends.
    const QString script
        = u"mount -t tmpfs -o size=40k tmpfs '%1' || exit 99;%2; rc=$?; cp -a '%1'/. '%3'/; exit $rc"_s.arg(
            small, quoted, copy);
    const auto result = Test::runProcess(u"unshare"_s, {u"-rm"_s, u"sh"_s, u"-c"_s, script}, HardTimeoutMs);
    if (result.exitCode == 99) {
        QSKIP("mounting a tmpfs in a user namespace is not allowed here");
    }
    QVERIFY2(result.exitCode == 1, qPrintable(result.standardError));
    QVERIFY2(result.standardError.contains(u"No space left on device"_s), qPrintable(result.standardError));
    QVERIFY2(result.standardError.contains(u"not made"_s), qPrintable(result.standardError));
    const QStringList made = files(copy);
    QVERIFY(made.size() < 6);
    for (const QString& name : allFiles(copy)) {
        QVERIFY2(!name.endsWith(u".part"_s), qPrintable(name));
        const QString path = QDir(copy).filePath(name);
        QVERIFY2(QFileInfo(path).size() > 0 && isCompleteImage(path), qPrintable(name));
        QVERIFY2(!QImage(path).isNull(), qPrintable(name));
    }
}

// A prompt's <lora:NAME:W> found in --lora-dir, --lora for every item, and a LoRA that is nowhere: that item fails
// at once, naming the LoRA and the folders searched, and the others render with their LoRAs in their infotexts.
void TestBatchMode::lorasFromTagsAndTheCommandLine()
{
    QTemporaryDir out;
    QTemporaryDir folder;
    const QString file = folder.filePath(u"loras.txt"_s);
    QFile prompts(file);
    QVERIFY(prompts.open(QIODevice::WriteOnly));
    prompts.write("a fox <lora:lora_a:0.8>\na fox\nan owl <lora:inkStyle:0.5>\n");
    prompts.close();
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(file, out.path())
                                             + QStringList{u"--lora-dir"_s, Test::dataPath(u"lora"_s), u"--lora"_s,
                                                           u"lora_b:-0.25"_s, u"--seed"_s, u"5"_s},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.standardError.contains(u"LoRA \"inkStyle\" not found"_s), qPrintable(result.standardError));
    QVERIFY2(result.standardError.contains(Test::dataPath(u"lora"_s)), qPrintable(result.standardError));
    const QStringList images = files(out.path());
    QCOMPARE(images.size(), 2);
    const QString tagged = QImage(QDir(out.path()).filePath(images.at(0))).text(u"parameters"_s);
    QVERIFY2(tagged.startsWith(u"a fox <lora:lora_a:0.8> <lora:lora_b:-0.25>\n"_s), qPrintable(tagged));
    QVERIFY2(tagged.contains(u"Lora hashes: \"lora_a: "_s) && tagged.contains(u", lora_b: "_s), qPrintable(tagged));
    const QString plain = QImage(QDir(out.path()).filePath(images.at(1))).text(u"parameters"_s);
    QVERIFY2(plain.startsWith(u"a fox <lora:lora_b:-0.25>\n"_s), qPrintable(plain));
}

// --clip-skip is the default of lines without their own clip_skip; each image's infotext says which it had.
void TestBatchMode::clipSkipFromTheLineOrTheCommandLine()
{
    QTemporaryDir out;
    QTemporaryDir folder;
    const QString file = folder.filePath(u"skip.txt"_s);
    QFile prompts(file);
    QVERIFY(prompts.open(QIODevice::WriteOnly));
    prompts.write("--prompt \"a fox\" --seed 5\n--prompt \"a fox\" --seed 5 --clip_skip 1\n");
    prompts.close();
    const auto result
        = Test::runProcess(Test::executablePath(u"atelier"_s),
                           baseArguments(file, out.path()) + QStringList{u"--clip-skip"_s, u"2"_s}, HardTimeoutMs);
    QVERIFY2(result.exitCode == 0, qPrintable(result.standardError));
    const QStringList images = files(out.path());
    QCOMPARE(images.size(), 2);
    const QImage skipped(QDir(out.path()).filePath(images.at(0)));
    const QImage last(QDir(out.path()).filePath(images.at(1)));
    QVERIFY2(skipped.text(u"parameters"_s).endsWith(u", Clip skip: 2"_s), qPrintable(skipped.text(u"parameters"_s)));
    QVERIFY(!last.text(u"parameters"_s).contains(u"Clip skip"_s));
    // The same seed and prompt through another layer of CLIP: another image.
    QVERIFY(skipped != last);
}

// A prompt naming an embedding of --embeddings-dir renders with it (its infotext lists TI hashes); one naming an
// embedding the model cannot use fails at once with the reason, and the rest goes on.
void TestBatchMode::embeddingsFromTheirFolder()
{
    QTemporaryDir out;
    QTemporaryDir folder;
    const QString file = folder.filePath(u"embeddings.txt"_s);
    QFile prompts(file);
    QVERIFY(prompts.open(QIODevice::WriteOnly));
    prompts.write("a red fox, inkemb\na fox, sdxl_emb\n");
    prompts.close();
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(file, out.path())
                                             + QStringList{u"--embeddings-dir"_s, Test::dataPath(u"embeddings"_s)},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.standardError.contains(u"an SDXL embedding"_s), qPrintable(result.standardError));
    const QStringList images = files(out.path());
    QCOMPARE(images.size(), 1);
    const QString parameters = QImage(QDir(out.path()).filePath(images.front())).text(u"parameters"_s);
    QVERIFY2(parameters.contains(u"TI hashes: \"inkemb: "_s), qPrintable(parameters));
}

// Image to image, the hires fix and a VAE are settings of each line: every image is the one `atelier-worker
// generate` makes from the same settings, pixel for pixel; a line naming a VAE or an init image that is not there
// fails with its name, and the rest is rendered.
void TestBatchMode::imageToImageHiresAndVaePerLine()
{
    QTemporaryDir out;
    QTemporaryDir folder;
    QVERIFY(QFile::copy(Test::dataPath(u"img2img/init_image.png"_s), folder.filePath(u"init.png"_s)));
    QTemporaryDir vaes;
    QVERIFY(QFile::copy(Test::dataPath(u"vae/other-vae.safetensors"_s), vaes.filePath(u"softer.safetensors"_s)));
    const QString file = folder.filePath(u"lines.jsonl"_s);
    QFile prompts(file);
    QVERIFY(prompts.open(QIODevice::WriteOnly));
    prompts.write(R"({"prompt": "a fox", "seed": 5, "init_image": "init.png", "denoising_strength": 0.6}
{"prompt": "an owl", "seed": 6, "enable_hr": true, "hr_second_pass_steps": 2, "hr_upscaler": "Lanczos"}
{"prompt": "a hare", "seed": 7, "sd_vae": "softer.safetensors"}
{"prompt": "a lynx", "seed": 8, "sd_vae": "missing-vae"}
{"prompt": "a crow", "seed": 9, "init_image": "missing.png"}
)");
    prompts.close();
    const auto run = Test::runProcess(Test::executablePath(u"atelier"_s),
                                      baseArguments(file, out.path())
                                          + QStringList{u"--vae-dir"_s, vaes.path(), u"--hires-strength"_s, u"0.5"_s},
                                      HardTimeoutMs);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.standardError.contains(u"VAE \"missing-vae\" not found"_s), qPrintable(run.standardError));
    QVERIFY2(run.standardError.contains(folder.filePath(u"missing.png"_s)), qPrintable(run.standardError));
    QMap<QString, QString> bySlug;
    for (const QString& name : files(out.path())) {
        bySlug.insert(name.section(u'-', 2).chopped(4), QDir(out.path()).filePath(name));
    }
    QCOMPARE(bySlug.keys(), (QStringList{u"a-fox"_s, u"a-hare"_s, u"an-owl"_s}));

    const QStringList common{u"generate"_s,  u"--model"_s, Test::fixturePath(u"tiny-sd15"_s), u"--steps"_s, u"3"_s,
                             u"--threads"_s, u"1"_s};
    struct Case
    {
        QString slug;
        QStringList arguments;
        QSize size;
        QStringList infotext;
    };
    const QList<Case> cases{
        {u"a-fox"_s,
         {u"--prompt"_s, u"a fox"_s, u"--seed"_s, u"5"_s, u"--init-image"_s, folder.filePath(u"init.png"_s),
          u"--strength"_s, u"0.6"_s},
         QSize(64, 64),
         {u"Denoising strength: 0.6"_s}},
        // The line's own hires fix takes --hires-strength as its denoising strength, A1111's scale 2 and its own
        // steps. The line with an init image has its own strength.
        {u"an-owl"_s,
         {u"--prompt"_s, u"an owl"_s, u"--seed"_s, u"6"_s, u"--width"_s, u"64"_s, u"--height"_s, u"64"_s,
          u"--hires-scale"_s, u"2"_s, u"--hires-steps"_s, u"2"_s, u"--hires-strength"_s, u"0.5"_s,
          u"--hires-upscaler"_s, u"lanczos"_s},
         QSize(128, 128),
         {u"Denoising strength: 0.5"_s, u"Hires upscale: 2"_s, u"Hires steps: 2"_s, u"Hires upscaler: Lanczos"_s}},
        {u"a-hare"_s,
         {u"--prompt"_s, u"a hare"_s, u"--seed"_s, u"7"_s, u"--width"_s, u"64"_s, u"--height"_s, u"64"_s, u"--vae"_s,
          u"softer"_s, u"--vae-dir"_s, vaes.path()},
         QSize(64, 64),
         {u"VAE: softer.safetensors"_s, u"VAE hash: "_s}},
    };
    QTemporaryDir expected;
    for (const Case& c : cases) {
        const QString png = expected.filePath(c.slug + u".png"_s);
        const auto made = Test::runProcess(Test::executablePath(u"atelier-worker"_s),
                                           common + c.arguments + QStringList{u"--out"_s, png}, HardTimeoutMs);
        QVERIFY2(made.exitCode == 0, qPrintable(made.standardError));
        const QImage batchImage(bySlug.value(c.slug));
        const QImage generated(png);
        QCOMPARE(batchImage.size(), c.size);
        QVERIFY2(batchImage.convertToFormat(QImage::Format_RGB888) == generated.convertToFormat(QImage::Format_RGB888),
                 qPrintable(c.slug));
        const QString parameters = batchImage.text(u"parameters"_s);
        for (const QString& field : c.infotext) {
            QVERIFY2(parameters.contains(field), qPrintable(c.slug + u": "_s + parameters));
        }
        // The infotext's size is the first pass's, as A1111 writes it.
        QVERIFY2(parameters.contains(u"Size: 64x64"_s), qPrintable(parameters));
    }
}

// Static shards for SLURM job arrays: shards started at once agree on one plan in the shared folder, together make
// every image once (the images a one-process run makes), and a shard run again makes only what it lacks.
void TestBatchMode::shardsSplitTheFileAndMakeEachImageOnce()
{
    QTemporaryDir folder;
    const QString file = folder.filePath(u"prompts.jsonl"_s);
    QFile prompts(file);
    QVERIFY(prompts.open(QIODevice::WriteOnly));
    const QStringList words{u"amber"_s, u"birch"_s, u"cedar"_s, u"dune"_s, u"elm"_s, u"fern"_s, u"gorse"_s};
    for (qsizetype i = 0; i < words.size(); ++i) {
        prompts.write(u"{\"prompt\": \"%1\", \"seed\": %2}\n"_s.arg(words.at(i)).arg(100 + i).toUtf8());
    }
    prompts.write(R"({"prompt": "heath"})"
                  "\n"); // no seed: the plan draws one that every shard uses
    prompts.close();

    QTemporaryDir shared;
    const int shards = 3;
    std::vector<std::unique_ptr<QProcess>> processes;
    for (int shard = 0; shard < shards; ++shard) {
        auto process = std::make_unique<QProcess>();
        process->start(Test::executablePath(u"atelier"_s),
                       baseArguments(file, shared.path())
                           + QStringList{u"--shard"_s, u"%1/%2"_s.arg(shard).arg(shards)});
        processes.push_back(std::move(process));
    }
    for (auto& process : processes) {
        QVERIFY(process->waitForFinished(HardTimeoutMs));
        QVERIFY2(process->exitStatus() == QProcess::NormalExit && process->exitCode() == 0,
                 process->readAllStandardError().constData());
    }
    QCOMPARE(imagedPrompts(shared.path()),
             (QStringList{u"amber"_s, u"birch"_s, u"cedar"_s, u"dune"_s, u"elm"_s, u"fern"_s, u"gorse"_s, u"heath"_s}));
    for (const QString& name : allFiles(shared.path())) {
        QVERIFY2(!name.endsWith(u".part"_s), qPrintable(name));
    }
    const QStringList plans = QDir(shared.filePath(u".atelier-farm"_s)).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    QCOMPARE(plans.size(), 1);

    // The same images as one process makes of the seeded prompts.
    QTemporaryDir alone;
    const auto single
        = Test::runProcess(Test::executablePath(u"atelier"_s), baseArguments(file, alone.path()), HardTimeoutMs);
    QVERIFY2(single.exitCode == 0, qPrintable(single.standardError));
    QMap<QString, QString> sharded;
    for (const QString& name : files(shared.path())) {
        sharded.insert(name.section(u'-', 2).chopped(4), shared.filePath(name));
    }
    for (const QString& name : files(alone.path())) {
        const QString slug = name.section(u'-', 2).chopped(4);
        if (slug == u"heath"_s) {
            continue;
        }
        QVERIFY2(QImage(sharded.value(slug)) == QImage(alone.filePath(name)), qPrintable(slug));
    }

    // A shard run again finds its images made; one whose image went missing makes that one again, under its name.
    const auto again
        = Test::runProcess(Test::executablePath(u"atelier"_s),
                           baseArguments(file, shared.path()) + QStringList{u"--shard"_s, u"1/3"_s}, HardTimeoutMs);
    QCOMPARE(again.exitCode, 0);
    QVERIFY2(again.standardError.contains(u"nothing left to render"_s), qPrintable(again.standardError));
    const QString lost = sharded.value(u"birch"_s); // item 1: shard 1's
    const QImage before(lost);
    QVERIFY(QFile::remove(lost));
    const auto redo = Test::runProcess(
        Test::executablePath(u"atelier"_s),
        baseArguments(file, shared.path()) + QStringList{u"--shard"_s, u"1/3"_s, u"--json"_s}, HardTimeoutMs);
    QVERIFY2(redo.exitCode == 0, qPrintable(redo.standardError));
    const QList<QJsonObject> redone = events(redo.standardOutput);
    QVERIFY2(redone.last()[u"images"_s].toInt() == 1, qPrintable(redo.standardOutput));
    QVERIFY(QFileInfo::exists(lost));
    QVERIFY(QImage(lost) == before);
    QCOMPARE(files(shared.path()).size(), 8);
}

QTEST_GUILESS_MAIN(TestBatchMode)
#include "TestBatchMode.moc"
