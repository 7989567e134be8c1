// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "AppSettings.h"
#include "ipc/Protocol.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

class TestAppSettings final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void defaultsWhenNothingIsStored();
    void roundTrip();
    void roundTripThroughAnIniFile();
    void readsWhatTheWindowStored();
    void badValuesFallBack_data();
    void badValuesFallBack();
    void edgeValuesAreKept_data();
    void edgeValuesAreKept();
    void themeNames_data();
    void themeNames();
    void renderDefaults();
    void modelLocations();

private:
    /// Every field set away from its default.
    static AppSettings changed();

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestAppSettings::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"AtelierTests"_s);
    QCoreApplication::setApplicationName(u"TestAppSettings"_s);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    // QSettings() reads and writes only below the temporary folder.
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir->path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir->path());
}

void TestAppSettings::init()
{
    QSettings().clear();
}

AppSettings TestAppSettings::changed()
{
    AppSettings s;
    s.automatic1111Roots = {u"/opt/stable-diffusion-webui"_s, u"/home/a/webui, with a comma"_s};
    s.comfyUiRoots = {u"/srv/ComfyUI"_s};
    s.modelFolders = {u"/models"_s, u"/mnt/more models"_s};
    s.loraFolders = {u"/art/loras"_s};
    s.embeddingFolders = {u"/art/embeddings"_s, u"/art/more, embeddings"_s};
    s.vaeFolders = {u"/art/vae"_s};
    s.modelPath = u"/models/dreamshaper_8.safetensors"_s;
    s.outputDirectory = u"/tmp/out"_s;
    s.namingPattern = u"[date]-[model_name]-[seed]"_s;
    s.steps = 33;
    s.cfgScale = 6.5;
    s.width = 768;
    s.height = 640;
    s.sampler = u"dpmpp_2m_karras"_s;
    s.negativePrompt = u"blurry, lowres\nsecond line"_s;
    s.imagesPerPrompt = 4;
    s.maxBatch = 8;
    s.cpuWorkers = 3;
    s.theme = Theme::Dark;
    return s;
}

void TestAppSettings::defaultsWhenNothingIsStored()
{
    QStringList problems;
    const AppSettings loaded = AppSettings::load(&problems);
    QCOMPARE(loaded, AppSettings());
    QVERIFY(problems.isEmpty());
    QCOMPARE(loaded.steps, RenderDefaults::Steps);
    QCOMPARE(loaded.cfgScale, RenderDefaults::CfgScale);
    QCOMPARE(loaded.width, RenderDefaults::Width);
    QCOMPARE(loaded.height, RenderDefaults::Height);
    QCOMPARE(loaded.sampler, QString());
    QCOMPARE(loaded.namingPattern, DefaultNamingPattern.toString());
    QCOMPARE(loaded.maxBatch, 0);
    QCOMPARE(loaded.theme, Theme::System);
    QVERIFY(loaded.outputDirectory.endsWith(u"/Atelier"_s));
}

void TestAppSettings::roundTrip()
{
    const AppSettings saved = changed();
    QVERIFY(saved != AppSettings());
    saved.save();
    QStringList problems;
    QCOMPARE(AppSettings::load(&problems), saved);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    // Saving again what was loaded changes nothing.
    AppSettings::load().save();
    QCOMPARE(AppSettings::load(), saved);
    // Lists can be emptied again.
    AppSettings empty = saved;
    empty.automatic1111Roots.clear();
    empty.modelFolders.clear();
    empty.save();
    QCOMPARE(AppSettings::load(), empty);
}

void TestAppSettings::roundTripThroughAnIniFile()
{
    const QString path = m_dir->filePath(u"explicit.ini"_s);
    {
        QSettings settings(path, QSettings::IniFormat);
        changed().save(settings);
    }
    const QSettings settings(path, QSettings::IniFormat);
    QCOMPARE(AppSettings::load(settings), changed());
}

// The keys the window wrote before AppSettings existed keep what the artist set.
void TestAppSettings::readsWhatTheWindowStored()
{
    {
        QSettings settings;
        settings.setValue(u"render/steps"_s, 42);
        settings.setValue(u"render/cfg"_s, 9.5);
        settings.setValue(u"render/width"_s, 640);
        settings.setValue(u"render/height"_s, 384);
        settings.setValue(u"render/sampler"_s, u"ddim"_s);
        settings.setValue(u"render/imagesPerPrompt"_s, 3);
        settings.setValue(u"render/model"_s, u"/m/model.safetensors"_s);
        settings.setValue(u"render/output"_s, u"/pictures/out"_s);
        settings.setValue(u"render/devices"_s, QStringList{u"cuda:0"_s});
    }
    QStringList problems;
    const AppSettings loaded = AppSettings::load(&problems);
    QVERIFY(problems.isEmpty());
    QCOMPARE(loaded.steps, 42);
    QCOMPARE(loaded.cfgScale, 9.5);
    QCOMPARE(loaded.width, 640);
    QCOMPARE(loaded.height, 384);
    QCOMPARE(loaded.sampler, u"ddim"_s);
    QCOMPARE(loaded.imagesPerPrompt, 3);
    QCOMPARE(loaded.modelPath, u"/m/model.safetensors"_s);
    QCOMPARE(loaded.outputDirectory, u"/pictures/out"_s);
    // Saving leaves the window's own keys alone.
    loaded.save();
    QCOMPARE(QSettings().value(u"render/devices"_s).toStringList(), QStringList{u"cuda:0"_s});
}

void TestAppSettings::badValuesFallBack_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QString>("problem"); ///< part of the message
    QTest::newRow("steps 0") << u"render/steps"_s << QVariant(0) << u"render/steps must be"_s;
    QTest::newRow("steps 151") << u"render/steps"_s << QVariant(151) << u"not \"151\"; using 20"_s;
    QTest::newRow("steps text") << u"render/steps"_s << QVariant(u"many"_s) << u"not \"many\""_s;
    QTest::newRow("steps fraction") << u"render/steps"_s << QVariant(u"20.5"_s) << u"render/steps"_s;
    QTest::newRow("cfg negative") << u"render/cfg"_s << QVariant(-1.0) << u"render/cfg"_s;
    QTest::newRow("cfg 31") << u"render/cfg"_s << QVariant(31.0) << u"; using 7.5"_s;
    QTest::newRow("cfg nan") << u"render/cfg"_s << QVariant(u"nan"_s) << u"render/cfg"_s;
    QTest::newRow("width 63") << u"render/width"_s << QVariant(63) << u"render/width"_s;
    QTest::newRow("width 2049") << u"render/width"_s << QVariant(2049) << u"render/width"_s;
    QTest::newRow("width not a multiple of 8") << u"render/width"_s << QVariant(100) << u"render/width"_s;
    QTest::newRow("height 4096") << u"render/height"_s << QVariant(4096) << u"; using 512"_s;
    QTest::newRow("unknown sampler") << u"render/sampler"_s << QVariant(u"bogus"_s) << u"unknown sampler"_s;
    QTest::newRow("no images") << u"render/imagesPerPrompt"_s << QVariant(0) << u"from 1 to 100"_s;
    QTest::newRow("too many images") << u"render/imagesPerPrompt"_s << QVariant(101) << u"render/imagesPerPrompt"_s;
    QTest::newRow("negative batch") << u"workers/maxBatch"_s << QVariant(-1) << u"from 0 to 64"_s;
    QTest::newRow("batch too large") << u"workers/maxBatch"_s << QVariant(Ipc::MaxBatch + 1) << u"workers/maxBatch"_s;
    QTest::newRow("no CPU worker") << u"workers/cpuWorkers"_s << QVariant(0) << u"workers/cpuWorkers"_s;
    QTest::newRow("too many CPU workers")
        << u"workers/cpuWorkers"_s << QVariant(AppSettings::MaxCpuWorkers + 1) << u"workers/cpuWorkers"_s;
    QTest::newRow("unknown theme") << u"appearance/theme"_s << QVariant(u"purple"_s) << u"not \"purple\""_s;
    QTest::newRow("bad naming pattern") << u"output/namingPattern"_s << QVariant(u"[nope]"_s)
                                        << u"output/namingPattern: unknown token \"[nope]\""_s;
    QTest::newRow("naming pattern with a slash")
        << u"output/namingPattern"_s << QVariant(u"../[seed]"_s) << u"; using \"[seed]-[prompt_words]\""_s;
    QTest::newRow("negative prompt too long")
        << u"render/negativePrompt"_s << QVariant(QString(RenderLimits::MaxPromptBytes + 1, u'x'))
        << u"negativePrompt"_s;
}

// Each bad value falls back to its default, says so, and leaves the others alone.
void TestAppSettings::badValuesFallBack()
{
    QFETCH(QString, key);
    QFETCH(QVariant, value);
    QFETCH(QString, problem);
    QSettings().setValue(key, value);
    QStringList problems;
    QCOMPARE(AppSettings::load(&problems), AppSettings());
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.constFirst().contains(problem), qPrintable(problems.constFirst()));
}

void TestAppSettings::edgeValuesAreKept_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QVariant>("expected");
    QTest::newRow("steps 1") << u"render/steps"_s << QVariant(1) << QVariant(1);
    QTest::newRow("steps 150") << u"render/steps"_s << QVariant(150) << QVariant(150);
    QTest::newRow("cfg 0") << u"render/cfg"_s << QVariant(0.0) << QVariant(0.0);
    QTest::newRow("cfg 30") << u"render/cfg"_s << QVariant(30.0) << QVariant(30.0);
    QTest::newRow("width 64") << u"render/width"_s << QVariant(64) << QVariant(64);
    QTest::newRow("height 2048") << u"render/height"_s << QVariant(2048) << QVariant(2048);
    QTest::newRow("A1111 sampler name") << u"render/sampler"_s << QVariant(u"Euler a"_s) << QVariant(u"euler_a"_s);
    QTest::newRow("model's own sampler") << u"render/sampler"_s << QVariant(QString()) << QVariant(QString());
    QTest::newRow("batch automatic") << u"workers/maxBatch"_s << QVariant(0) << QVariant(0);
    QTest::newRow("batch 64") << u"workers/maxBatch"_s << QVariant(64) << QVariant(64);
    QTest::newRow("theme in capitals") << u"appearance/theme"_s << QVariant(u"LIGHT"_s) << QVariant(int(Theme::Light));
}

void TestAppSettings::edgeValuesAreKept()
{
    QFETCH(QString, key);
    QFETCH(QVariant, value);
    QFETCH(QVariant, expected);
    QSettings().setValue(key, value);
    QStringList problems;
    const AppSettings loaded = AppSettings::load(&problems);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    const QHash<QString, QVariant> fields{
        {u"render/steps"_s, loaded.steps},          {u"render/cfg"_s, loaded.cfgScale},
        {u"render/width"_s, loaded.width},          {u"render/height"_s, loaded.height},
        {u"render/sampler"_s, loaded.sampler},      {u"workers/maxBatch"_s, loaded.maxBatch},
        {u"appearance/theme"_s, int(loaded.theme)},
    };
    QCOMPARE(fields.value(key), expected);
}

void TestAppSettings::themeNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("theme"); ///< -1: unknown
    QTest::newRow("system") << u"system"_s << int(Theme::System);
    QTest::newRow("light") << u"light"_s << int(Theme::Light);
    QTest::newRow("dark") << u"dark"_s << int(Theme::Dark);
    QTest::newRow("spaces and case") << u" Dark "_s << int(Theme::Dark);
    QTest::newRow("unknown") << u"solarized"_s << -1;
    QTest::newRow("empty") << QString() << -1;
}

void TestAppSettings::themeNames()
{
    QFETCH(QString, name);
    QFETCH(int, theme);
    const std::optional<Theme> parsed = themeFromName(name);
    QCOMPARE(parsed ? int(*parsed) : -1, theme);
    if (parsed) {
        QCOMPARE(themeFromName(themeName(*parsed)), parsed);
    }
}

void TestAppSettings::renderDefaults()
{
    const AppSettings s = changed();
    const RenderSettings defaults = s.renderDefaults();
    QCOMPARE(defaults.steps, std::optional<int>(33));
    QCOMPARE(defaults.cfgScale, std::optional<double>(6.5));
    QCOMPARE(defaults.width, std::optional<int>(768));
    QCOMPARE(defaults.height, std::optional<int>(640));
    QCOMPARE(defaults.scheduler, std::optional<QString>(u"dpmpp_2m_karras"_s));
    QCOMPARE(defaults.negativePrompt, s.negativePrompt);
    QVERIFY(!defaults.seed);
    QVERIFY(defaults.problems().isEmpty());
}

void TestAppSettings::modelLocations()
{
    QTemporaryDir home;
    QProcessEnvironment env;
    env.insert(u"HOME"_s, home.path());
    env.insert(u"HF_HOME"_s, home.filePath(u"hf"_s));
    QVERIFY(QDir(home.path()).mkpath(u"ComfyUI"_s));
    AppSettings s = changed();
    s.comfyUiRoots.append(home.filePath(u"ComfyUI"_s)); // also found by default: listed once
    const ModelLocations locations = s.modelLocations(env);
    QCOMPARE(locations.huggingFaceCaches, QStringList{home.filePath(u"hf/hub"_s)});
    QCOMPARE(locations.automatic1111Roots, s.automatic1111Roots);
    QCOMPARE(locations.comfyUiRoots, (QStringList{home.filePath(u"ComfyUI"_s), u"/srv/ComfyUI"_s}));
    QCOMPARE(locations.extraFolders, s.modelFolders);
}

QTEST_GUILESS_MAIN(TestAppSettings)
#include "TestAppSettings.moc"
