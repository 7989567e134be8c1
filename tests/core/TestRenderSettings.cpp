// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTest>

#include <cmath>
#include <limits>

#include "render/Precision.h"
#include "render/RenderSettings.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

class TestRenderSettings final : public QObject
{
    Q_OBJECT

private slots:
    void stepsLimits_data();
    void stepsLimits();
    void cfgScaleLimits_data();
    void cfgScaleLimits();
    void sideLimits_data();
    void sideLimits();
    void typedText_data();
    void typedText();
    void promptBytes_data();
    void promptBytes();
    void withDefaults();
    void imageToImageAndHiresDefaults();
    void hiresChecks_data();
    void hiresChecks();
    void problems_data();
    void problems();
    void precision_data();
    void precision();
};

// Every limit at its edges: the last value in, the first value out.
void TestRenderSettings::stepsLimits_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addColumn<QString>("message");
    const QString range = u"steps must be a whole number from 1 to 150, not \"%1\""_s;
    QTest::newRow("1") << qint64(1) << QString();
    QTest::newRow("150") << qint64(150) << QString();
    QTest::newRow("default") << qint64(RenderDefaults::Steps) << QString();
    QTest::newRow("0") << qint64(0) << range.arg(0);
    QTest::newRow("151") << qint64(151) << range.arg(151);
    QTest::newRow("-1") << qint64(-1) << range.arg(-1);
    QTest::newRow("beyond int") << (qint64(1) << 40) << range.arg(qint64(1) << 40);
}

void TestRenderSettings::stepsLimits()
{
    QFETCH(qint64, value);
    QFETCH(QString, message);
    QCOMPARE(RenderChecks::steps(value), message);
}

void TestRenderSettings::cfgScaleLimits_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QString>("message");
    const QString range = u"cfg_scale must be a number from 0 to 30, not \"%1\""_s;
    QTest::newRow("0") << 0.0 << QString();
    QTest::newRow("30") << 30.0 << QString();
    QTest::newRow("default") << RenderDefaults::CfgScale << QString();
    QTest::newRow("1 turns guidance off") << 1.0 << QString();
    QTest::newRow("just above 30") << 30.000001 << range.arg(u"30.000001"_s);
    QTest::newRow("negative") << -0.5 << range.arg(u"-0.5"_s);
    QTest::newRow("NaN") << std::numeric_limits<double>::quiet_NaN() << range.arg(u"nan"_s);
    QTest::newRow("infinity") << std::numeric_limits<double>::infinity() << range.arg(u"inf"_s);
    QTest::newRow("-infinity") << -std::numeric_limits<double>::infinity() << range.arg(u"-inf"_s);
}

void TestRenderSettings::cfgScaleLimits()
{
    QFETCH(double, value);
    QFETCH(QString, message);
    QCOMPARE(RenderChecks::cfgScale(value), message);
}

void TestRenderSettings::sideLimits_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addColumn<bool>("valid");
    QTest::newRow("64") << qint64(64) << true;
    QTest::newRow("2048") << qint64(2048) << true;
    QTest::newRow("default width") << qint64(RenderDefaults::Width) << true;
    QTest::newRow("default height") << qint64(RenderDefaults::Height) << true;
    QTest::newRow("768") << qint64(768) << true;
    QTest::newRow("56") << qint64(56) << false;
    QTest::newRow("2056") << qint64(2056) << false;
    QTest::newRow("8192") << qint64(8192) << false;
    QTest::newRow("not a multiple of 8") << qint64(100) << false;
    QTest::newRow("0") << qint64(0) << false;
    QTest::newRow("-512") << qint64(-512) << false;
}

void TestRenderSettings::sideLimits()
{
    QFETCH(qint64, value);
    QFETCH(bool, valid);
    const QString message = RenderChecks::side(value, u"height");
    if (valid) {
        QCOMPARE(message, QString());
    } else {
        QCOMPARE(message, u"height must be a whole number (a multiple of 8) from 64 to 2048, not \"%1\""_s.arg(value));
    }
}

// Text as a command line or a form gives it: the message quotes it as typed.
void TestRenderSettings::typedText_data()
{
    QTest::addColumn<QString>("check");
    QTest::addColumn<QString>("given");
    QTest::addColumn<double>("value"); // NaN: refused
    const double refused = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("steps 20") << u"steps"_s << u"20"_s << 20.0;
    QTest::newRow("steps with spaces") << u"steps"_s << u" 25 "_s << 25.0;
    QTest::newRow("steps +7") << u"steps"_s << u"+7"_s << 7.0;
    QTest::newRow("steps word") << u"steps"_s << u"many"_s << refused;
    QTest::newRow("steps empty") << u"steps"_s << QString() << refused;
    QTest::newRow("steps 2.5") << u"steps"_s << u"2.5"_s << refused;
    QTest::newRow("steps 20.0") << u"steps"_s << u"20.0"_s << refused;
    QTest::newRow("steps 1e2") << u"steps"_s << u"1e2"_s << refused;
    QTest::newRow("steps beyond qint64") << u"steps"_s << u"99999999999999999999999"_s << refused;
    QTest::newRow("steps Arabic-Indic digits") << u"steps"_s << u"\u0662\u0660"_s << refused;
    QTest::newRow("cfg 7.5") << u"cfg"_s << u"7.5"_s << 7.5;
    QTest::newRow("cfg 1e1") << u"cfg"_s << u"1e1"_s << 10.0;
    QTest::newRow("cfg nan") << u"cfg"_s << u"nan"_s << refused;
    QTest::newRow("cfg inf") << u"cfg"_s << u"inf"_s << refused;
    QTest::newRow("cfg 31") << u"cfg"_s << u"31"_s << refused;
    QTest::newRow("cfg comma decimal") << u"cfg"_s << u"7,5"_s << refused;
    QTest::newRow("side 512") << u"side"_s << u"512"_s << 512.0;
    QTest::newRow("side 513") << u"side"_s << u"513"_s << refused;
    QTest::newRow("side 512px") << u"side"_s << u"512px"_s << refused;
}

void TestRenderSettings::typedText()
{
    QFETCH(QString, check);
    QFETCH(QString, given);
    QFETCH(double, value);
    const QString field = u"--"_s + check;
    QString message;
    double parsed = -1;
    if (check == u"steps" || check == u"side") {
        int whole = -1;
        message = check == u"steps" ? RenderChecks::stepsText(given, field, &whole)
                                    : RenderChecks::sideText(given, field, &whole);
        parsed = whole;
    } else {
        message = RenderChecks::cfgScaleText(given, field, &parsed);
    }
    if (std::isnan(value)) {
        QVERIFY2(message.startsWith(field + u" must be"_s), qPrintable(message));
        QVERIFY2(message.endsWith(u", not \"%1\""_s.arg(given)), qPrintable(message));
        QCOMPARE(parsed, -1.0); // left alone
    } else {
        QCOMPARE(message, QString());
        QCOMPARE(parsed, value);
    }
}

void TestRenderSettings::promptBytes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qsizetype>("bytes"); // 0: within the limit
    const qsizetype limit = RenderLimits::MaxPromptBytes;
    QTest::newRow("empty") << QString() << qsizetype(0);
    QTest::newRow("ASCII at the limit") << QString(limit, u'a') << qsizetype(0);
    QTest::newRow("ASCII one over") << QString(limit + 1, u'a') << limit + 1;
    // Two bytes each: half as many characters fill the limit.
    QTest::newRow("two-byte at the limit") << QString(limit / 2, u'é') << qsizetype(0);
    QTest::newRow("two-byte one over") << QString(limit / 2, u'é') + u'a' << limit + 1;
    // Three bytes each: 5461 × 3 = 16383, one short; the next one crosses the limit in the middle of its bytes.
    QTest::newRow("three-byte below") << QString(limit / 3, u'山') << qsizetype(0);
    QTest::newRow("three-byte crossing") << QString(limit / 3 + 1, u'山') << (limit / 3 + 1) * 3;
    QTest::newRow("three-byte plus one") << QString(limit / 3, u'山') + u'a' << qsizetype(0);
    // A surrogate pair is 2 UTF-16 units but 4 bytes.
    QString emoji;
    for (qsizetype i = 0; i < limit / 4; ++i) {
        emoji += u"🦊"_s;
    }
    QTest::newRow("four-byte at the limit") << emoji << qsizetype(0);
    QTest::newRow("four-byte one over") << emoji + u'a' << limit + 1;
}

void TestRenderSettings::promptBytes()
{
    QFETCH(QString, text);
    QFETCH(qsizetype, bytes);
    const QString message = RenderChecks::promptBytes(text, u"negative_prompt");
    if (bytes == 0) {
        QCOMPARE(message, QString());
    } else {
        QCOMPARE(text.toUtf8().size(), bytes);
        QCOMPARE(message, u"negative_prompt must be at most 16384 bytes of UTF-8 (16 KiB), not %1 bytes"_s.arg(bytes));
    }
}

void TestRenderSettings::withDefaults()
{
    // Nothing set anywhere: RenderDefaults, the model's own sampler, and no seed (it is drawn at dispatch).
    const RenderSettings bare = RenderSettings{u"a fox"_s, {}, {}, {}, {}, {}, {}, {}}.withDefaults({});
    QCOMPARE(bare.prompt, u"a fox"_s);
    QCOMPARE(bare.steps, std::optional<int>(RenderDefaults::Steps));
    QCOMPARE(bare.cfgScale, std::optional<double>(RenderDefaults::CfgScale));
    QCOMPARE(bare.width, std::optional<int>(RenderDefaults::Width));
    QCOMPARE(bare.height, std::optional<int>(RenderDefaults::Height));
    QCOMPARE(bare.scheduler, std::optional<QString>(QString()));
    QCOMPARE(bare.clipSkip, std::optional<int>(RenderDefaults::ClipSkip));
    QVERIFY(!bare.seed);

    // The run's defaults fill what the item leaves unset; the item's own values win; the run's seed is not taken.
    const RenderSettings run{u"ignored"_s, u"ignored"_s, 99, 30, 5.0, 768, {}, u"euler_a"_s};
    const RenderSettings item{u"a fox"_s, u"blurry"_s, {}, 12, {}, {}, 640, {}};
    const RenderSettings resolved = item.withDefaults(run);
    QCOMPARE(resolved, (RenderSettings{u"a fox"_s, u"blurry"_s, {}, 12, 5.0, 768, 640, u"euler_a"_s, 1}));

    // "" is a choice (the model's sampler), not an unset field.
    const RenderSettings modelSampler{u"x"_s, {}, 7, {}, {}, {}, {}, QString()};
    QCOMPARE(modelSampler.withDefaults(run).scheduler, std::optional<QString>(QString()));
    QCOMPARE(modelSampler.withDefaults(run).seed, std::optional<quint64>(7));

    // Resolving twice changes nothing.
    QCOMPARE(resolved.withDefaults(run), resolved);
    QCOMPARE(resolved.withDefaults({}), resolved);
}

void TestRenderSettings::imageToImageAndHiresDefaults()
{
    // A plain item has no denoising strength, no hires fix, the model's VAE.
    const RenderSettings plain = RenderSettings{u"a fox"_s}.withDefaults({});
    QVERIFY(!plain.denoisingStrength && !plain.hiresEnabled() && !plain.hiresUpscaler && !plain.vae
            && !plain.initImage);

    // Each kind takes A1111's default strength when none is given.
    RenderSettings image{u"a fox"_s};
    image.initImage = u"/art/fox.png"_s;
    QCOMPARE(image.withDefaults({}).denoisingStrength, std::optional<double>(RenderDefaults::ImageToImageStrength));
    RenderSettings hires{u"a fox"_s};
    hires.hiresScale = 1.5;
    const RenderSettings hiresResolved = hires.withDefaults({});
    QCOMPARE(hiresResolved.denoisingStrength, std::optional<double>(RenderDefaults::HiresStrength));
    QCOMPARE(hiresResolved.hiresSteps, std::optional<int>(RenderDefaults::HiresSteps));
    QCOMPARE(hiresResolved.hiresUpscaler, std::optional<QString>(RenderDefaults::HiresUpscaler.toString()));

    // The run's hires fix, strength and VAE reach the items without their own; an item's own win.
    RenderSettings run;
    run.hiresScale = 2;
    run.hiresSteps = 4;
    run.hiresUpscaler = u"Lanczos"_s;
    run.denoisingStrength = 0.3;
    run.vae = u"softer"_s;
    const RenderSettings inherited = RenderSettings{u"a fox"_s}.withDefaults(run);
    QCOMPARE(inherited.hiresScale, std::optional<double>(2));
    QCOMPARE(inherited.hiresSteps, std::optional<int>(4));
    QCOMPARE(inherited.hiresUpscaler, std::optional<QString>(u"Lanczos"_s));
    QCOMPARE(inherited.denoisingStrength, std::optional<double>(0.3));
    QCOMPARE(inherited.vae, std::optional<QString>(u"softer"_s));
    RenderSettings own{u"a fox"_s};
    own.hiresScale = 1; // off, whatever the run says
    own.vae = u""_s; // the model's own
    const RenderSettings ownResolved = own.withDefaults(run);
    QVERIFY(!ownResolved.hiresEnabled());
    QCOMPARE(ownResolved.vae, std::optional<QString>(QString()));
    QCOMPARE(ownResolved.denoisingStrength, std::optional<double>(0.3)); // kept, though nothing uses it

    // Image to image never takes the run's hires fix (A1111 has none there), so the two never clash.
    const RenderSettings imageInRun = image.withDefaults(run);
    QVERIFY(!imageInRun.hiresEnabled());
    QCOMPARE(imageInRun.denoisingStrength, std::optional<double>(0.3));
    QVERIFY(imageInRun.problems().isEmpty());
    QCOMPARE(imageInRun.withDefaults(run), imageInRun);
}

void TestRenderSettings::hiresChecks_data()
{
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::addColumn<double>("scale");
    QTest::addColumn<QString>("message");
    QTest::newRow("512 × 2") << 512 << 512 << 2.0 << QString();
    QTest::newRow("512 × 1.5") << 512 << 768 << 1.5 << QString();
    QTest::newRow("1 is off") << 512 << 512 << 1.0 << QString();
    QTest::newRow("not a multiple of 8")
        << 512 << 512 << 1.3
        << u"hr_scale 1.3 makes 665×665 from 512×512; each side must be a multiple of 8 from 64 to 2048"_s;
    QTest::newRow("too large") << 1024 << 768 << 4.0
                               << u"hr_scale 4 makes 4096×3072 from 1024×768; each side must be a multiple of 8 from "
                                  "64 to 2048"_s;
}

void TestRenderSettings::hiresChecks()
{
    QFETCH(int, width);
    QFETCH(int, height);
    QFETCH(double, scale);
    QFETCH(QString, message);
    QCOMPARE(RenderChecks::hiresSize(width, height, scale), message);
    RenderSettings item{u"x"_s};
    item.width = width;
    item.height = height;
    item.hiresScale = scale;
    const QList<SettingProblem> problems = item.problems();
    QCOMPARE(problems.isEmpty(), message.isEmpty());
    if (!message.isEmpty()) {
        QCOMPARE(problems.constFirst(), (SettingProblem{u"hr_scale"_s, message}));
    }
}

void TestRenderSettings::problems_data()
{
    QTest::addColumn<RenderSettings>("settings");
    QTest::addColumn<QStringList>("fields");

    const RenderSettings valid{u"a fox"_s, u"blurry"_s, 5, 20, 7.5, 512, 768, u"dpmpp_2m_karras"_s};
    QTest::newRow("valid") << valid << QStringList{};
    QTest::newRow("nothing set") << RenderSettings{} << QStringList{};
    QTest::newRow("model's sampler") << RenderSettings{u"x"_s, {}, {}, {}, {}, {}, {}, QString()} << QStringList{};
    QTest::newRow("defaults resolved") << RenderSettings{u"x"_s, {}, {}, {}, {}, {}, {}, {}}.withDefaults({})
                                       << QStringList{};

    RenderSettings s = valid;
    s.cfgScale = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("NaN cfg") << s << QStringList{u"cfg_scale"_s};
    s = valid;
    s.steps = 0;
    QTest::newRow("steps 0") << s << QStringList{u"steps"_s};
    s = valid;
    s.width = 100;
    s.height = 4096;
    QTest::newRow("both sides") << s << QStringList{u"width"_s, u"height"_s};
    s = valid;
    s.scheduler = u"heun"_s;
    QTest::newRow("unknown sampler") << s << QStringList{u"sampler_name"_s};
    s = valid;
    s.scheduler = u"Euler a"_s; // an A1111 name: the field holds Atelier's
    QTest::newRow("A1111 name not canonical") << s << QStringList{u"sampler_name"_s};
    s = valid;
    s.prompt = QString(RenderLimits::MaxPromptBytes / 2 + 1, u'é');
    QTest::newRow("prompt bytes") << s << QStringList{u"prompt"_s};
    s = valid;
    s.denoisingStrength = 0;
    QTest::newRow("strength 0") << s << QStringList{u"denoising_strength"_s};
    s = valid;
    s.denoisingStrength = 1.01;
    QTest::newRow("strength above 1") << s << QStringList{u"denoising_strength"_s};
    s = valid;
    s.hiresScale = 4.5;
    QTest::newRow("hires scale above 4") << s << QStringList{u"hr_scale"_s};
    s = valid;
    s.hiresScale = 0.5;
    QTest::newRow("hires scale below 1") << s << QStringList{u"hr_scale"_s};
    s = valid;
    s.hiresSteps = 151;
    QTest::newRow("hires steps") << s << QStringList{u"hr_second_pass_steps"_s};
    s = valid;
    s.hiresUpscaler = u"ESRGAN_4x"_s;
    QTest::newRow("unknown upscaler") << s << QStringList{u"hr_upscaler"_s};
    s = valid;
    s.hiresUpscaler = u"latent"_s; // the field holds the canonical name
    QTest::newRow("upscaler not canonical") << s << QStringList{u"hr_upscaler"_s};
    s = valid;
    s.initImage = u"/art/fox.png"_s;
    s.hiresScale = 2;
    s.width = 512;
    s.height = 512;
    QTest::newRow("init image and hires fix") << s << QStringList{u"enable_hr"_s};
    s = valid;
    s.initImage = u"fox.png"_s;
    QTest::newRow("relative init image") << s << QStringList{u"init_image"_s};
    s = valid;
    s.negativePrompt = QString(RenderLimits::MaxPromptBytes + 1, u'n');
    QTest::newRow("negative prompt bytes") << s << QStringList{u"negative_prompt"_s};
    s = RenderSettings{QString(RenderLimits::MaxPromptBytes + 1, u'p'), {}, {}, 0, -1.0, 8, 8, u"x"_s};
    QTest::newRow("everything wrong") << s << QStringList{u"prompt"_s, u"steps"_s,  u"cfg_scale"_s,
                                                          u"width"_s,  u"height"_s, u"sampler_name"_s};
}

void TestRenderSettings::problems()
{
    QFETCH(RenderSettings, settings);
    QFETCH(QStringList, fields);
    const QList<SettingProblem> found = settings.problems();
    QStringList foundFields;
    for (const SettingProblem& problem : found) {
        foundFields.append(problem.field);
        // Every message names its field.
        QVERIFY2(problem.message.contains(problem.field), qPrintable(problem.message));
    }
    QCOMPARE(foundFields, fields);
}

void TestRenderSettings::precision_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("device");
    QTest::addColumn<QString>("resolved"); // empty: an error naming the device
    QTest::newRow("auto on the CPU") << u"auto"_s << u"cpu"_s << u"fp32"_s;
    QTest::newRow("auto on CUDA") << u"auto"_s << u"cuda:1"_s << u"fp16"_s;
    QTest::newRow("fp32 on CUDA") << u"fp32"_s << u"cuda:0"_s << u"fp32"_s;
    QTest::newRow("BF16 on CUDA, any case") << u"BF16"_s << u"cuda:0"_s << u"bf16"_s;
    QTest::newRow("fp32 on the CPU") << u"Fp32"_s << u"cpu"_s << u"fp32"_s;
    QTest::newRow("fp16 on the CPU") << u"fp16"_s << u"cpu"_s << QString();
    QTest::newRow("bf16 on the CPU") << u"bf16"_s << u"cpu"_s << QString();
    QTest::newRow("unknown device") << u"auto"_s << u"tpu:0"_s << QString();
}

void TestRenderSettings::precision()
{
    QFETCH(QString, name);
    QFETCH(QString, device);
    QFETCH(QString, resolved);
    const std::optional<Precision> requested = parsePrecision(name);
    QVERIFY(requested);
    QCOMPARE(precisionName(*requested), name.toLower());
    QString error;
    const std::optional<Precision> result = resolvePrecision(*requested, device, &error);
    if (resolved.isEmpty()) {
        QVERIFY(!result);
        QVERIFY2(error.contains(device), qPrintable(error));
    } else {
        QVERIFY2(result, qPrintable(error));
        QVERIFY(*result != Precision::Auto);
        QCOMPARE(precisionName(*result), resolved);
    }
    QCOMPARE(parsePrecision(u"fp8"), std::optional<Precision>());
    QCOMPARE(parsePrecision(u""), std::optional<Precision>());
}

QTEST_GUILESS_MAIN(TestRenderSettings)
#include "TestRenderSettings.moc"
