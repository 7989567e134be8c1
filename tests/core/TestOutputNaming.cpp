// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <limits>
#include <variant>

#include <sys/wait.h>
#include <unistd.h>

#include "orchestration/JobLedger.h"
#include "render/OutputNaming.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Atelier::ImageNameValues)

class TestOutputNaming final : public QObject
{
    Q_OBJECT

private slots:
    void imageFileName_data();
    void imageFileName();
    void nextImageNumber_data();
    void nextImageNumber();
    void nextImageNumberOfAMissingFolder();
    void aSecondRunContinues();
    void defaultPatternGivesTheOldNames_data();
    void defaultPatternGivesTheOldNames();
    void patternNames_data();
    void patternNames();
    void checkNamingPattern_data();
    void checkNamingPattern();
    void everyValidPatternStaysShortAndSafe_data();
    void everyValidPatternStaysShortAndSafe();
    void anInvalidPatternNamesByTheDefault();
    void namingPatternExample();
    void modelShortName_data();
    void modelShortName();
    void theLedgerNamesByThePattern();
    void staleTemporaryImagesAreRemoved();
};

namespace
{
    /// Fixed values, so every row below names one exact file.
    ImageNameValues sampleValues()
    {
        ImageNameValues values;
        values.seed = 42;
        values.prompt = u"A lighthouse at dusk"_s;
        values.model = u"v1-5-pruned-emaonly"_s;
        values.sampler = u"euler_a"_s;
        values.steps = 20;
        values.cfgScale = 7.5;
        values.width = 512;
        values.height = 768;
        values.item = 31;
        values.time = QDateTime(QDate(2024, 5, 31), QTime(9, 5, 7));
        return values;
    }
} // namespace

void TestOutputNaming::imageFileName_data()
{
    QTest::addColumn<qint64>("number");
    QTest::addColumn<quint64>("seed");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("name");
    QTest::newRow("plain") << qint64(12) << quint64(42) << u"A lighthouse at dusk"_s
                           << u"00012-42-a-lighthouse-at-dusk.png"_s;
    QTest::newRow("zero") << qint64(0) << quint64(0) << u"x"_s << u"00000-0-x.png"_s;
    QTest::newRow("five digits") << qint64(99999) << quint64(1) << u"x"_s << u"99999-1-x.png"_s;
    QTest::newRow("more than five digits") << qint64(123456) << quint64(1) << u"x"_s << u"123456-1-x.png"_s;
    QTest::newRow("largest seed") << qint64(3) << std::numeric_limits<quint64>::max() << u"x"_s
                                  << u"00003-18446744073709551615-x.png"_s;
    QTest::newRow("without LoRA tags") << qint64(1) << quint64(7) << u"<lora:inkStyle:0.7> a red fox <lora:grain>"_s
                                       << u"00001-7-a-red-fox.png"_s;
    QTest::newRow("accents fold") << qint64(1) << quint64(7) << u"Café crème"_s << u"00001-7-cafe-creme.png"_s;
    QTest::newRow("no Latin letters") << qint64(1) << quint64(7) << u"山水画"_s << u"00001-7-image.png"_s;
    QTest::newRow("empty prompt") << qint64(1) << quint64(7) << QString() << u"00001-7-image.png"_s;
    QTest::newRow("path traversal") << qint64(1) << quint64(7) << u"../../etc/passwd"_s << u"00001-7-etc-passwd.png"_s;
    QTest::newRow("punctuation runs") << qint64(1) << quint64(7) << u"  (masterpiece:1.2), best -- quality!  "_s
                                      << u"00001-7-masterpiece-1-2-best-quality.png"_s;
    QTest::newRow("NUL and newlines") << qint64(1) << quint64(7) << u"a\nb\u0000c"_s << u"00001-7-a-b-c.png"_s;
    QTest::newRow("200 x") << qint64(1) << quint64(7) << QString(200, u'x')
                           << u"00001-7-%1.png"_s.arg(QString(48, u'x'));
    // Cut at 48 characters, then the dangling '-' goes too.
    QTest::newRow("cut before a dash") << qint64(1) << quint64(7) << QString(47, u'y') + u" tail"_s
                                       << u"00001-7-%1.png"_s.arg(QString(47, u'y'));
}

void TestOutputNaming::imageFileName()
{
    QFETCH(qint64, number);
    QFETCH(quint64, seed);
    QFETCH(QString, prompt);
    QFETCH(QString, name);
    QCOMPARE(Atelier::imageFileName(number, seed, prompt), name);
}

void TestOutputNaming::nextImageNumber_data()
{
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<qint64>("next");
    QTest::newRow("empty folder") << QStringList{} << qint64(0);
    QTest::newRow("one padded") << QStringList{u"00003-42-a-fox.png"_s} << qint64(4);
    QTest::newRow("highest wins") << QStringList{u"00003-42-a.png"_s, u"00012-1-b.png"_s, u"00004-1-c.png"_s}
                                  << qint64(13);
    QTest::newRow("old unpadded names count") << QStringList{u"7-1-x.png"_s, u"00002-1-y.png"_s} << qint64(8);
    QTest::newRow("other files ignored") << QStringList{u"notes.txt"_s, u"a-00099.png"_s, u"-5-x.png"_s,
                                                        u"123.png"_s,   u"12x-3.png"_s,   u"00001-5-x.png"_s}
                                         << qint64(2);
    QTest::newRow("only non-matching names") << QStringList{u"cover.png"_s, u".hidden"_s} << qint64(0);
    QTest::newRow("temporary files count") << QStringList{u"00020-1-x.png.tmp"_s, u"00005-1-y.png"_s} << qint64(21);
    QTest::newRow("folders count") << QStringList{u"00030-batch/"_s} << qint64(31);
    // Beyond qint64 the number cannot be followed; the names given out instead never collide with it.
    QTest::newRow("huge number") << QStringList{u"99999999999999999999999-1-x.png"_s, u"00006-1-x.png"_s} << qint64(7);
    QTest::newRow("largest qint64") << QStringList{u"9223372036854775807-1-x.png"_s} << qint64(0);
    QTest::newRow("just below the largest")
        << QStringList{u"9223372036854775806-1-x.png"_s} << std::numeric_limits<qint64>::max();
}

void TestOutputNaming::nextImageNumber()
{
    QFETCH(QStringList, files);
    QFETCH(qint64, next);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const QString& name : files) {
        if (name.endsWith(u'/')) {
            QVERIFY(QDir(dir.path()).mkdir(name.chopped(1)));
            continue;
        }
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
    }
    QCOMPARE(Atelier::nextImageNumber(dir.path()), next);
}

void TestOutputNaming::nextImageNumberOfAMissingFolder()
{
    QTemporaryDir dir;
    QCOMPARE(Atelier::nextImageNumber(dir.filePath(u"not-made-yet"_s)), qint64(0));
    QCOMPARE(Atelier::nextImageNumber(QString()), qint64(0));
}

// Names made from nextImageNumber, written, then asked again: the numbers continue and no name repeats.
void TestOutputNaming::aSecondRunContinues()
{
    QTemporaryDir dir;
    QStringList written;
    for (int run = 0; run < 2; ++run) {
        qint64 number = Atelier::nextImageNumber(dir.path());
        QCOMPARE(number, qint64(run * 3));
        for (int i = 0; i < 3; ++i) {
            const QString name = Atelier::imageFileName(number++, 42, u"same prompt, same seed"_s);
            QVERIFY(!written.contains(name));
            QFile file(dir.filePath(name));
            QVERIFY(file.open(QIODevice::NewOnly));
            written.append(name);
        }
    }
    QCOMPARE(written.last(), u"00005-42-same-prompt-same-seed.png"_s);
}

void TestOutputNaming::defaultPatternGivesTheOldNames_data()
{
    imageFileName_data();
}

// The default pattern must keep every name Atelier gave before patterns existed, whatever else the job has.
void TestOutputNaming::defaultPatternGivesTheOldNames()
{
    QFETCH(qint64, number);
    QFETCH(quint64, seed);
    QFETCH(QString, prompt);
    QFETCH(QString, name);
    ImageNameValues values = sampleValues();
    values.seed = seed;
    values.prompt = prompt;
    QCOMPARE(Atelier::imageFileName(number, values, DefaultNamingPattern), name);
    QCOMPARE(Atelier::imageFileName(number, values), name);
}

void TestOutputNaming::patternNames_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<ImageNameValues>("values");
    QTest::addColumn<QString>("name");
    const ImageNameValues v = sampleValues();
    QTest::newRow("[seed]") << u"[seed]"_s << v << u"00012-42.png"_s;
    QTest::newRow("[prompt_words]") << u"[prompt_words]"_s << v << u"00012-a-lighthouse-at-dusk.png"_s;
    // A1111: hashlib.sha256("A lighthouse at dusk".encode()).hexdigest()[:8]
    QTest::newRow("[prompt_hash]")
        << u"[prompt_hash]"_s << v
        << u"00012-%1.png"_s.arg(QString::fromLatin1(
               QCryptographicHash::hash("A lighthouse at dusk", QCryptographicHash::Sha256).toHex().left(8)));
    QTest::newRow("[model_name]") << u"[model_name]"_s << v << u"00012-v1-5-pruned-emaonly.png"_s;
    QTest::newRow("[sampler]") << u"[sampler]"_s << v << u"00012-euler_a.png"_s;
    QTest::newRow("[steps]") << u"[steps]"_s << v << u"00012-20.png"_s;
    QTest::newRow("[cfg]") << u"[cfg]"_s << v << u"00012-7.5.png"_s;
    QTest::newRow("[width]x[height]") << u"[width]x[height]"_s << v << u"00012-512x768.png"_s;
    QTest::newRow("[date]") << u"[date]"_s << v << u"00012-2024-05-31.png"_s;
    QTest::newRow("[time]") << u"[time]"_s << v << u"00012-09-05-07.png"_s;
    QTest::newRow("[datetime]") << u"[datetime]"_s << v << u"00012-20240531090507.png"_s;
    QTest::newRow("[item]") << u"[item]"_s << v << u"00012-31.png"_s;
    QTest::newRow("tokens ignore case") << u"[SEED]-[Model_Name]"_s << v << u"00012-42-v1-5-pruned-emaonly.png"_s;
    QTest::newRow("literal text") << u"sd [steps] steps, ünïcode"_s << v << u"00012-sd 20 steps, ünïcode.png"_s;
    QTest::newRow("several tokens") << u"[date]_[model_name]_[seed]_[sampler]_[cfg]"_s << v
                                    << u"00012-2024-05-31_v1-5-pruned-emaonly_42_euler_a_7.5.png"_s;
    QTest::newRow("a token twice") << u"[seed]-[seed]"_s << v << u"00012-42-42.png"_s;
    QTest::newRow("whole cfg") << u"[cfg]"_s << [&] {
        ImageNameValues w = v;
        w.cfgScale = 7;
        return w;
    }() << u"00012-7.png"_s;

    ImageNameValues model = v;
    model.model = u"My model: v2/final?"_s;
    QTest::newRow("model sanitized") << u"[model_name]"_s << model << u"00012-My_model_v2_final.png"_s;
    model.model = u"a\\b\t<c>|\"d\"*\x01"_s;
    QTest::newRow("every forbidden character") << u"[model_name]"_s << model << u"00012-a_b_c_d.png"_s;
    model.model = u"../../etc/passwd"_s;
    QTest::newRow("model path traversal") << u"[model_name]"_s << model << u"00012-.._.._etc_passwd.png"_s;
    model.model = QString(100, u'm');
    QTest::newRow("model bounded") << u"[model_name]"_s << model << u"00012-%1.png"_s.arg(QString(40, u'm'));
    // 3 bytes each in UTF-8: 13 fit in 40 bytes, and none is cut in half.
    model.model = QString(30, QChar(0x5c71));
    QTest::newRow("model bounded in bytes")
        << u"[model_name]"_s << model << u"00012-%1.png"_s.arg(QString(13, QChar(0x5c71)));
    model.model = QString();
    QTest::newRow("no model") << u"[model_name]"_s << model << u"00012-unknown.png"_s;
    model.model = u" / "_s;
    QTest::newRow("nothing left of the model") << u"[model_name]"_s << model << u"00012-unknown.png"_s;
    ImageNameValues other = v;
    other.sampler = QString();
    other.item = -1;
    QTest::newRow("model's own sampler, no item") << u"[sampler]-[item]"_s << other << u"00012-default-none.png"_s;
    other.prompt = u"山水画"_s;
    QTest::newRow("no words") << u"[prompt_words]"_s << other << u"00012-image.png"_s;
    other.prompt = QString(300, u'w');
    QTest::newRow("words bounded") << u"[prompt_words]"_s << other << u"00012-%1.png"_s.arg(QString(48, u'w'));
}

void TestOutputNaming::patternNames()
{
    QFETCH(QString, pattern);
    QFETCH(ImageNameValues, values);
    QFETCH(QString, name);
    QVERIFY2(Atelier::checkNamingPattern(pattern).isEmpty(), qPrintable(Atelier::checkNamingPattern(pattern)));
    QCOMPARE(Atelier::imageFileName(12, values, pattern), name);
}

void TestOutputNaming::checkNamingPattern_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("problem"); ///< a part of the message; empty: valid
    QTest::newRow("default") << DefaultNamingPattern.toString() << QString();
    QTest::newRow("every token") << Atelier::namingTokens().mid(0, 6).join(u'-') << QString();
    QTest::newRow("the other tokens") << Atelier::namingTokens().mid(6).join(u'-') << QString();
    QTest::newRow("literal only") << u"image"_s << QString();
    QTest::newRow("spaces and unicode") << u"Bild [seed] – Nacht"_s << QString();
    QTest::newRow("empty") << QString() << u"the naming pattern is empty"_s;
    QTest::newRow("blank") << u"   "_s << u"the naming pattern is empty"_s;
    QTest::newRow("unknown token") << u"[seed]-[model]"_s << u"unknown token \"[model]\" in the naming pattern"_s;
    QTest::newRow("unknown token lists the known") << u"[foo]"_s << u"(known: [seed], [prompt_words]"_s;
    QTest::newRow("A1111 datetime format") << u"[datetime<%Y>]"_s << u"unknown token \"[datetime<%Y>]\""_s;
    QTest::newRow("empty token") << u"[]"_s << u"unknown token \"[]\""_s;
    QTest::newRow("unclosed") << u"[seed"_s << u"\"[\" at character 1 that is not closed"_s;
    QTest::newRow("nested") << u"x[[seed]]"_s << u"\"[\" at character 2 that is not closed"_s;
    QTest::newRow("stray ]") << u"seed]"_s << u"\"]\" at character 5 that closes no \"[\""_s;
    QTest::newRow("slash") << u"[date]/[seed]"_s << u"contains \"/\" (character 7)"_s;
    QTest::newRow("backslash") << u"a\\b"_s << u"contains \"\\\""_s;
    QTest::newRow("colon") << u"a:b"_s << u"contains \":\""_s;
    QTest::newRow("star") << u"a*"_s << u"contains \"*\""_s;
    QTest::newRow("question mark") << u"a?"_s << u"contains \"?\""_s;
    QTest::newRow("quote") << u"a\"b"_s << u"contains \"\"\""_s;
    QTest::newRow("less than") << u"<a"_s << u"contains \"<\""_s;
    QTest::newRow("greater than") << u"a>"_s << u"contains \">\""_s;
    QTest::newRow("pipe") << u"a|b"_s << u"contains \"|\""_s;
    QTest::newRow("tab") << u"a\tb"_s << u"contains U+0009"_s;
    QTest::newRow("newline") << u"a\nb"_s << u"contains U+000A"_s;
    QTest::newRow("NUL") << u"a"_s + QChar(0) << u"contains U+0000"_s;
    QTest::newRow("too long literal") << QString(177, u'x') << u"names of up to 201 bytes"_s;
    QTest::newRow("just short enough") << QString(176, u'x') << QString();
    QTest::newRow("too long tokens") << u"[prompt_words][prompt_words][prompt_words][prompt_words]"_s
                                     << u"file names may have at most 200"_s;
    QTest::newRow("too long in bytes") << QString(60, QChar(0x5c71)) << u"names of up to 204 bytes"_s;
}

void TestOutputNaming::checkNamingPattern()
{
    QFETCH(QString, pattern);
    QFETCH(QString, problem);
    const QString got = Atelier::checkNamingPattern(pattern);
    if (problem.isEmpty()) {
        QVERIFY2(got.isEmpty(), qPrintable(got));
        QVERIFY(!Atelier::namingPatternExample(pattern).isEmpty());
    } else {
        QVERIFY2(got.contains(problem), qPrintable(got));
        QVERIFY(Atelier::namingPatternExample(pattern).isEmpty());
    }
}

void TestOutputNaming::everyValidPatternStaysShortAndSafe_data()
{
    QTest::addColumn<QString>("pattern");
    for (const QString& token : Atelier::namingTokens()) {
        QTest::newRow(qPrintable(token)) << token;
    }
    QTest::newRow("every token") << Atelier::namingTokens().mid(0, 6).join(QString()) + QString(6, u'_');
}

// The longest values each token can show, with the largest number: the name still fits, and holds nothing a file
// name cannot.
void TestOutputNaming::everyValidPatternStaysShortAndSafe()
{
    QFETCH(QString, pattern);
    QVERIFY(Atelier::checkNamingPattern(pattern).isEmpty());
    ImageNameValues worst;
    worst.seed = std::numeric_limits<quint64>::max();
    worst.prompt = QString(500, u'p');
    worst.model = QString(500, QChar(0x5c71));
    worst.sampler = QString(500, u's');
    worst.steps = 150;
    worst.cfgScale = 12.345678901;
    worst.width = 2048;
    worst.height = 2048;
    worst.item = std::numeric_limits<qint64>::max();
    const QString name = Atelier::imageFileName(std::numeric_limits<qint64>::max(), worst, pattern);
    QVERIFY2(name.toUtf8().size() <= MaxImageNameBytes, qPrintable(name));
    QVERIFY(name.endsWith(u".png"_s));
    for (const QChar c : name) {
        QVERIFY2(c.unicode() >= 0x20 && !QStringView(u"<>:\"/\\|?*").contains(c), qPrintable(name));
    }
}

void TestOutputNaming::anInvalidPatternNamesByTheDefault()
{
    const ImageNameValues values = sampleValues();
    QCOMPARE(Atelier::imageFileName(3, values, u"[nope]/.."_s), u"00003-42-a-lighthouse-at-dusk.png"_s);
    QCOMPARE(Atelier::imageFileName(3, values, QString()), u"00003-42-a-lighthouse-at-dusk.png"_s);
}

void TestOutputNaming::namingPatternExample()
{
    QCOMPARE(Atelier::namingPatternExample(DefaultNamingPattern), u"00012-42-a-lighthouse-at-dusk-oil-painting.png"_s);
    QCOMPARE(Atelier::namingPatternExample(u"[date] [time] [model_name]"_s),
             u"00012-2024-05-31 14-25-00 v1-5-pruned-emaonly.png"_s);
    QCOMPARE(Atelier::namingPatternExample(u"[seed]-[prompt_words]"_s, sampleValues()),
             u"00012-42-a-lighthouse-at-dusk.png"_s);
    QCOMPARE(Atelier::namingPatternExample(u"[seed"_s), QString());
}

void TestOutputNaming::modelShortName_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("name");
    QTest::newRow("embedded") << QString() << u"embedded"_s;
    QTest::newRow("safetensors") << u"/m/Stable-diffusion/v1-5-pruned-emaonly.safetensors"_s
                                 << u"v1-5-pruned-emaonly"_s;
    QTest::newRow("dots in the name") << u"/m/sd-v1.5.safetensors"_s << u"sd-v1.5"_s;
    QTest::newRow("pickle") << u"/m/model.ckpt"_s << u"model"_s;
    QTest::newRow("diffusers folder") << u"/models/tiny-sd15"_s << u"tiny-sd15"_s;
    QTest::newRow("trailing slash") << u"/models/tiny-sd15/"_s << u"tiny-sd15"_s;
    QTest::newRow("folder with a dot") << u"/models/sd-1.5"_s << u"sd-1.5"_s;
    QTest::newRow("hugging face snapshot")
        << u"/home/a/.cache/huggingface/hub/models--runwayml--stable-diffusion-v1-5/snapshots/1d0c4eb"_s
        << u"stable-diffusion-v1-5"_s;
}

void TestOutputNaming::modelShortName()
{
    QFETCH(QString, path);
    QFETCH(QString, name);
    QCOMPARE(Atelier::modelShortName(path), name);
}

// The pattern reaches the path a job is sent with, with the run's model and the job's settings.
void TestOutputNaming::theLedgerNamesByThePattern()
{
    using namespace std::chrono_literals;
    LedgerOptions options;
    options.outputDirectory = u"/out"_s;
    options.namingPattern = u"[model_name]-[sampler]-[steps]-[width]x[height]-[item]-[seed]"_s;
    options.modelName = Atelier::modelShortName(u"/m/dreamshaper_8.safetensors"_s);
    JobLedger ledger(options);
    RenderSettings job;
    job.prompt = u"a fox"_s;
    job.seed = 9;
    job.steps = 12;
    job.scheduler = u"ddim"_s;
    ledger.setFirstImageNumber(40);
    ledger.addJobs({job}, 0ms);
    ledger.start(0ms);
    ledger.workerConnected(0, 1, 1, 0ms);
    ledger.workerReady(0, 1, 0ms);
    QString path;
    for (const Action& action : ledger.takeActions()) {
        if (const auto* send = std::get_if<LedgerAction::SendJobs>(&action)) {
            path = send->jobs.constFirst().outputPath;
        }
    }
    QCOMPARE(path, u"/out/00040-dreamshaper_8-ddim-12-512x512-0-9.png"_s);
    QVERIFY(ledger.job(0).namedAt.isValid());
}

// The temporary files of writers that are gone go, whether the writer no longer exists or is a zombie nobody reaped
// (what a worker becomes in a container whose PID 1 never reaps); a live writer's file and other files stay.
void TestOutputNaming::staleTemporaryImagesAreRemoved()
{
    QTemporaryDir dir;
    const auto touch = [&](const QString& name) {
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
    };
    // A child that exits at once and is not waited for stays a zombie until reaped below.
    const pid_t zombie = ::fork();
    QVERIFY(zombie >= 0);
    if (zombie == 0) {
        ::_exit(0);
    }
    QVERIFY(QTest::qWaitFor(
        [&] {
            QFile stat(u"/proc/%1/stat"_s.arg(zombie));
            return stat.open(QIODevice::ReadOnly) && stat.readAll().contains(") Z ");
        },
        5000));
    // A pid past any the kernel hands out has no process.
    const qint64 missing = 4194305;
    const qint64 alive = ::getpid();
    touch(u".00001-7-a.png.%1.aBc123.part"_s.arg(zombie));
    touch(u".00002-7-b.png.%1.aBc123.part"_s.arg(missing));
    touch(u".00003-7-c.png.%1.aBc123.part"_s.arg(alive));
    touch(u".notes.%1.aBc123.part"_s.arg(missing));
    touch(u"00004-7-d.png"_s);
    // Named as this Atelier names them (pid and host), and another machine's in a shared folder: not ours to judge.
    touch(u".00005-7-e.png.%1@%2.aBc123.part"_s.arg(missing).arg(temporaryHostName()));
    touch(u".00006-7-f.png.%1@other-node.aBc123.part"_s.arg(missing));
    QCOMPARE(removeStaleTemporaryImages(dir.path()), 3);
    int status = 0;
    QCOMPARE(::waitpid(zombie, &status, 0), zombie);
    QDir listing(dir.path());
    QCOMPARE(listing.entryList(QDir::Files | QDir::Hidden, QDir::Name),
             (QStringList{u".00003-7-c.png.%1.aBc123.part"_s.arg(alive),
                          u".00006-7-f.png.%1@other-node.aBc123.part"_s.arg(missing),
                          u".notes.%1.aBc123.part"_s.arg(missing), u"00004-7-d.png"_s}));
}

QTEST_GUILESS_MAIN(TestOutputNaming)
#include "TestOutputNaming.moc"
