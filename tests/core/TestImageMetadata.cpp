// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <limits>

#include "render/ImageMetadata.h"
#include "render/Samplers.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Atelier::Infotext)

namespace
{
    Infotext infotext(const RenderSettings& settings, const QString& hash = u"0123456789"_s,
                      const QString& model = u"tiny-sd15"_s)
    {
        return Infotext{settings, hash, model};
    }

    QString describe(const RenderSettings& s)
    {
        auto text = [](const auto& v) { return v ? QVariant::fromValue(*v).toString() : u"unset"_s; };
        return u"prompt=%1|negative=%2|seed=%3|steps=%4|cfg=%5|size=%6x%7|sampler=%8"_s.arg(
            s.prompt, s.negativePrompt, text(s.seed), text(s.steps), text(s.cfgScale), text(s.width), text(s.height),
            text(s.scheduler));
    }
} // namespace

class TestImageMetadata final : public QObject
{
    Q_OBJECT

private slots:
    void toStringExactText_data();
    void toStringExactText();
    void roundTrip_data();
    void roundTrip();
    void realA1111Texts_data();
    void realA1111Texts();
    void notAnInfotext_data();
    void notAnInfotext();
    void invalidValues_data();
    void invalidValues();
    void modelName();
    void loraHashesAreRead();
    void provenanceStepsAreTheStepsAskedFor();
    void provenanceKeepsItsOwnKeysOverExtra();
};

void TestImageMetadata::toStringExactText_data()
{
    QTest::addColumn<Infotext>("infotext");
    QTest::addColumn<QString>("text");
    const RenderSettings harbor{u"a quiet harbor at dawn"_s, {}, 42, 8, 7.5, 64, 64, u"pndm"_s};
    QTest::newRow("as the worker writes it")
        << infotext(harbor)
        << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, Size: 64x64, "
           "Model hash: 0123456789, Model: tiny-sd15"_s;
    RenderSettings negative = harbor;
    negative.negativePrompt = u"blurry, low quality"_s;
    negative.cfgScale = 7.0;
    negative.width = 512;
    negative.height = 768;
    negative.scheduler = u"dpmpp_2m_karras"_s;
    QTest::newRow("negative, whole cfg, portrait")
        << infotext(negative)
        << u"a quiet harbor at dawn\nNegative prompt: blurry, low quality\nSteps: 8, Sampler: DPM++ 2M Karras, "
           "CFG scale: 7, Seed: 42, Size: 512x768, Model hash: 0123456789, Model: tiny-sd15"_s;
    RenderSettings big = harbor;
    big.seed = std::numeric_limits<quint64>::max();
    big.cfgScale = 12.25;
    QTest::newRow("largest seed, two decimals")
        << infotext(big, {}, {})
        << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 12.25, Seed: 18446744073709551615, "
           "Size: 64x64"_s;
    // A1111 quotes a value that holds a comma, a colon or a line break, so that the line splits back right.
    QTest::newRow("quoted model name") << infotext(harbor, u"abc"_s, u"my model, v2: final"_s)
                                       << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, "
                                          "Size: 64x64, Model hash: abc, Model: \"my model, v2: final\""_s;
    RenderSettings lines = harbor;
    lines.prompt = u"line one\nline two"_s;
    lines.negativePrompt = u"bad\nworse"_s;
    QTest::newRow("prompts on several lines")
        << infotext(lines)
        << u"line one\nline two\nNegative prompt: bad\nworse\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, "
           "Size: 64x64, Model hash: 0123456789, Model: tiny-sd15"_s;
    // Clip skip after the model, as A1111 writes it, and only when it is not 1.
    Infotext skipped = infotext(harbor);
    skipped.settings.clipSkip = 2;
    QTest::newRow("clip skip") << skipped
                               << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, "
                                  "Size: 64x64, Model hash: 0123456789, Model: tiny-sd15, Clip skip: 2"_s;
    // "VAE hash" and "VAE" after the model, as A1111 writes them.
    Infotext withVae = infotext(harbor);
    withVae.settings.vae = u"vae-ft-mse-840000-ema-pruned.safetensors"_s;
    withVae.vaeHash = u"735e4c3a44"_s;
    QTest::newRow("vae") << withVae
                         << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, Size: 64x64, "
                            "Model hash: 0123456789, Model: tiny-sd15, VAE hash: 735e4c3a44, "
                            "VAE: vae-ft-mse-840000-ema-pruned.safetensors"_s;
    // Denoising strength before Clip skip, the hires fix after it, as A1111 writes them.
    Infotext hiresFix = infotext(harbor);
    hiresFix.settings.clipSkip = 2;
    hiresFix.settings.denoisingStrength = 0.7;
    hiresFix.settings.hiresScale = 2;
    hiresFix.settings.hiresSteps = 10;
    hiresFix.settings.hiresUpscaler = u"Latent"_s;
    QTest::newRow("hires fix")
        << hiresFix
        << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, Size: 64x64, Model hash: "
           "0123456789, Model: tiny-sd15, Denoising strength: 0.7, Clip skip: 2, Hires upscale: 2, Hires steps: 10, "
           "Hires upscaler: Latent"_s;
    // "Lora hashes" after Clip skip, always quoted.
    Infotext withLoras = infotext(harbor);
    withLoras.loraHashes = {{u"inkStyle"_s, u"0123456789ab"_s}, {u"film grain"_s, u"abcdefabcdef"_s}};
    QTest::newRow("lora hashes")
        << withLoras
        << u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, Size: 64x64, "
           "Model hash: 0123456789, Model: tiny-sd15, Lora hashes: \"inkStyle: 0123456789ab, film grain: abcdefabcdef\""_s;
}

void TestImageMetadata::toStringExactText()
{
    QFETCH(Infotext, infotext);
    QFETCH(QString, text);
    QCOMPARE(infotext.toString(), text);
}

void TestImageMetadata::roundTrip_data()
{
    QTest::addColumn<Infotext>("infotext");
    int seed = 1;
    for (const QString& sampler : samplerNames()) {
        const RenderSettings s{
            u"a lighthouse, oil painting"_s, u"blurry"_s, quint64(seed++), 20 + seed, 7.5, 512, 768, sampler};
        QTest::newRow(qPrintable(sampler)) << infotext(s);
    }
    QTest::newRow("limits") << infotext(RenderSettings{u"x"_s, {}, 0, 1, 0.0, 64, 2048, u"euler"_s});
    QTest::newRow("other limits") << infotext(
        RenderSettings{u"x"_s, {}, std::numeric_limits<quint64>::max(), 150, 30.0, 2048, 64, u"lms"_s});
    QTest::newRow("cfg that needs every digit")
        << infotext(RenderSettings{u"x"_s, {}, 5, 20, 0.1 + 0.2, 512, 512, u"ddim"_s});
    QTest::newRow("multi-line prompts") << infotext(RenderSettings{u"masterpiece,\nportrait: of a woman"_s,
                                                                   u"lowres,\nbad hands\n(worst quality:1.4)"_s, 77, 30,
                                                                   6.5, 512, 512, u"euler_a"_s});
    QTest::newRow("Unicode") << infotext(
        RenderSettings{u"山水画, 🦊 über"_s, u"低质量"_s, 3, 25, 5.0, 640, 448, u"dpmpp_2m"_s}, u"6ce0161689"_s,
        u"モデル, \"quoted\""_s);
    QTest::newRow("no model") << infotext(RenderSettings{u"x"_s, {}, 9, 10, 3.0, 256, 256, u"pndm"_s}, {}, {});
    Infotext loras
        = infotext(RenderSettings{u"<lora:ink:0.7> a fox <lora:grain:-1>"_s, {}, 9, 10, 3.0, 256, 256, u"euler"_s});
    loras.loraHashes = {{u"ink"_s, u"7c6bad76eb54"_s}, {u"grain"_s, u"0123456789ab"_s}};
    loras.embeddingHashes = {{u"EasyNegative"_s, u"c74b4e810b03"_s}};
    loras.settings.vae = u"vae-ft-mse-840000-ema-pruned.safetensors"_s;
    loras.vaeHash = u"735e4c3a44"_s;
    QTest::newRow("lora hashes") << loras;
    Infotext hires = infotext(RenderSettings{u"x"_s, {}, 9, 10, 3.0, 256, 256, u"euler_a"_s, 2});
    hires.settings.denoisingStrength = 0.55;
    hires.settings.hiresScale = 1.5;
    hires.settings.hiresSteps = 12;
    hires.settings.hiresUpscaler = u"Lanczos"_s;
    QTest::newRow("hires fix") << hires;
    QTest::newRow("clip skip") << infotext(RenderSettings{u"x"_s, {}, 9, 10, 3.0, 256, 256, u"euler"_s, 2});
    // Found by tests/fuzz/FuzzInfotext: unquoted, the reader took the quote after the space for an opening one.
    QTest::newRow("model name with a quote after a space")
        << infotext(RenderSettings{u"x"_s, {}, 9, 10, 3.0, 256, 256, u"pndm"_s}, {}, u" \"a\" model"_s);
}

void TestImageMetadata::roundTrip()
{
    QFETCH(Infotext, infotext);
    const InfotextReadResult back = readInfotext(infotext.toString());
    QCOMPARE(back.error, QString());
    QCOMPARE(back.ignored, QStringList());
    QVERIFY2(back.infotext.settings == infotext.settings,
             qPrintable(describe(back.infotext.settings) + u"\n"_s + describe(infotext.settings)));
    QCOMPARE(back.infotext.modelHash, infotext.modelHash);
    QCOMPARE(back.infotext.modelName, infotext.modelName);
    QCOMPARE(back.infotext.loraHashes, infotext.loraHashes);
    QCOMPARE(back.infotext.embeddingHashes, infotext.embeddingHashes);
    QCOMPARE(back.infotext.vaeHash, infotext.vaeHash);
}

void TestImageMetadata::realA1111Texts_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<RenderSettings>("settings");
    QTest::addColumn<QString>("hash");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QStringList>("ignored");

    QTest::newRow("clip skip")
        << u"a photo of a cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 123, Size: 512x768, "
           "Model hash: abc, Model: x, Clip skip: 2"_s
        << RenderSettings{u"a photo of a cat"_s, {}, 123, 20, 7.0, 512, 768, u"dpmpp_2m_karras"_s, 2} << u"abc"_s
        << u"x"_s << QStringList{};
    QTest::newRow("quoted values")
        << u"<lora:add_detail:0.5>, a castle\nNegative prompt: EasyNegative\nSteps: 25, Sampler: Euler a, "
           "CFG scale: 6.5, Seed: 3456789012, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
           "Lora hashes: \"add_detail: 7c6bad76eb54, b: 2\", TI hashes: \"EasyNegative: c74b4e810b03\", "
           "Version: v1.6.0"_s
        << RenderSettings{u"<lora:add_detail:0.5>, a castle"_s,
                          u"EasyNegative"_s,
                          3456789012,
                          25,
                          6.5,
                          512,
                          512,
                          u"euler_a"_s}
        << u"6ce0161689"_s << u"v1-5-pruned-emaonly"_s << QStringList{u"Version: v1.6.0"_s};
    QTest::newRow("multi-line prompt and negative")
        << u"masterpiece, best quality,\n  portrait of a woman  \nNegative prompt: lowres, bad anatomy,\nbad hands,\n"
           "Steps: 30, Sampler: DDIM, CFG scale: 11, Seed: 1, Size: 640x448, Model hash: 81761151, "
           "Model: anything-v3, Denoising strength: 0.7, Hires upscale: 2, Hires upscaler: Latent"_s
        << RenderSettings{u"masterpiece, best quality,\nportrait of a woman"_s,
                          u"lowres, bad anatomy,\nbad hands,"_s,
                          1,
                          30,
                          11.0,
                          640,
                          448,
                          u"ddim"_s,
                          {},
                          {},
                          0.7,
                          2.0,
                          {},
                          u"Latent"_s}
        << u"81761151"_s << u"anything-v3"_s << QStringList{};
    // A1111 1.9 and later split DPM++ 2M Karras into a sampler and a schedule type.
    QTest::newRow("schedule type")
        << u"a fox\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 5, Size: 512x512, "
           "Model hash: abc, Model: x, Version: v1.10.1"_s
        << RenderSettings{u"a fox"_s, {}, 5, 20, 7.0, 512, 512, u"dpmpp_2m_karras"_s} << u"abc"_s << u"x"_s
        << QStringList{u"Version: v1.10.1"_s};
    // A1111 1.9+ writes the model's own timesteps as "Uniform" (and gives a plain "DPM++ 2M" Karras sigmas).
    QTest::newRow("uniform schedule type")
        << u"a fox\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Uniform, CFG scale: 7, Seed: 5, Size: 512x512"_s
        << RenderSettings{u"a fox"_s, {}, 5, 20, 7.0, 512, 512, u"dpmpp_2m"_s} << QString() << QString()
        << QStringList{};
    QTest::newRow("automatic schedule type")
        << u"a fox\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 5, Size: 512x512"_s
        << RenderSettings{u"a fox"_s, {}, 5, 20, 7.0, 512, 512, u"euler_a"_s} << QString() << QString()
        << QStringList{};
    QTest::newRow("schedule type Atelier lacks")
        << u"a fox\nSteps: 20, Sampler: Euler, Schedule type: Exponential, CFG scale: 7, Seed: 5, Size: 512x512"_s
        << RenderSettings{u"a fox"_s, {}, 5, 20, 7.0, 512, 512, u"euler"_s} << QString() << QString()
        << QStringList{u"Schedule type: Exponential"_s};
    QTest::newRow("CRLF and trailing blank lines")
        << u"a fox\r\nNegative prompt: dark\r\nSteps: 12, Sampler: k_lms, CFG scale: 8, Seed: 9, Size: 64x64\r\n\r\n"_s
        << RenderSettings{u"a fox"_s, u"dark"_s, 9, 12, 8.0, 64, 64, u"lms"_s} << QString() << QString()
        << QStringList{};
    QTest::newRow("no prompt") << u"Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512"_s
                               << RenderSettings{QString(), {}, 5, 20, 7.0, 512, 512, u"euler"_s} << QString()
                               << QString() << QStringList{};
    QTest::newRow("some keys missing") << u"a fox\nSteps: 20, Seed: 5, Face restoration: CodeFormer"_s
                                       << RenderSettings{u"a fox"_s, {}, 5, 20, {}, {}, {}, {}} << QString()
                                       << QString() << QStringList{u"Face restoration: CodeFormer"_s};
    QTest::newRow("a repeated key is shown, not used") << u"a fox\nSteps: 20, Sampler: Euler, Steps: 40"_s
                                                       << RenderSettings{u"a fox"_s, {}, {}, 20, {}, {}, {}, u"euler"_s}
                                                       << QString() << QString() << QStringList{u"Steps: 40"_s};
    QTest::newRow("escaped newline in a quoted value")
        << u"a fox\nSteps: 20, Sampler: Euler, Template: \"a\\nb \\\"c\\\"\""_s
        << RenderSettings{u"a fox"_s, {}, {}, 20, {}, {}, {}, u"euler"_s} << QString() << QString()
        << QStringList{u"Template: a\nb \"c\""_s};
}

void TestImageMetadata::realA1111Texts()
{
    QFETCH(QString, text);
    QFETCH(RenderSettings, settings);
    QFETCH(QString, hash);
    QFETCH(QString, model);
    QFETCH(QStringList, ignored);
    const InfotextReadResult result = readInfotext(text);
    QCOMPARE(result.error, QString());
    QVERIFY2(result.infotext.settings == settings,
             qPrintable(describe(result.infotext.settings) + u"\n"_s + describe(settings)));
    QCOMPARE(result.infotext.modelHash, hash);
    QCOMPARE(result.infotext.modelName, model);
    QCOMPARE(result.ignored, ignored);
}

void TestImageMetadata::notAnInfotext_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("blank") << u" \n\t\n"_s;
    QTest::newRow("one prompt") << u"a lighthouse at dusk"_s;
    QTest::newRow("prose") << u"Dear diary,\ntoday I painted: a fox, a hen, a barn."_s;
    QTest::newRow("two pairs only") << u"a fox\nSteps: 20, Seed: 5"_s;
    QTest::newRow("unclosed quote") << u"a fox\nSteps: 20, Sampler: Euler, Model: \"abc, Seed: 5"_s;
    QTest::newRow("text after a quoted value") << u"a fox\nSteps: 20, Sampler: Euler, Model: \"abc\" def, Seed: 5"_s;
    QTest::newRow("a part without a key") << u"a fox\nSteps: 20, Sampler: Euler, just words, Seed: 5"_s;
    QTest::newRow("binary") << QString::fromLatin1("\x01\x02\xff\xfe PNG\x1a\n\x00\x00", 12);
    QTest::newRow("JSON") << u"{\"steps\": 20, \"sampler\": \"Euler\", \"seed\": 5}"_s;
}

void TestImageMetadata::notAnInfotext()
{
    QFETCH(QString, text);
    const InfotextReadResult result = readInfotext(text);
    QVERIFY2(!result.error.isEmpty(), qPrintable(describe(result.infotext.settings)));
    QCOMPARE(result.infotext.settings, RenderSettings{});
}

void TestImageMetadata::invalidValues_data()
{
    QTest::addColumn<QString>("parameters");
    QTest::addColumn<QString>("error");
    QTest::newRow("steps 500") << u"Steps: 500, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512"_s
                               << u"Steps must be a whole number from 1 to 150, not \"500\""_s;
    QTest::newRow("cfg nan") << u"Steps: 20, Sampler: Euler, CFG scale: nan, Seed: 1, Size: 512x512"_s
                             << u"CFG scale must be a number from 0 to 30, not \"nan\""_s;
    QTest::newRow("unknown sampler") << u"Steps: 20, Sampler: UniPC, CFG scale: 7, Seed: 1, Size: 512x512"_s
                                     << unknownSamplerMessage(u"UniPC", u"Sampler");
    QTest::newRow("negative seed") << u"Steps: 20, Sampler: Euler, CFG scale: 7, Seed: -1, Size: 512x512"_s
                                   << u"Seed must be a whole number from 0 to 18446744073709551615, not \"-1\""_s;
    QTest::newRow("size without height") << u"Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x"_s
                                         << u"the height in Size must be a whole number (a multiple of 8) from 64 to "
                                            "2048, not \"\""_s;
    QTest::newRow("size of one number") << u"Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512"_s
                                        << u"Size must be WIDTHxHEIGHT, not \"512\""_s;
    QTest::newRow("clip skip 13") << u"Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, Clip skip: 13"_s
                                  << u"Clip skip must be a whole number from 1 to 12, not \"13\""_s;
    QTest::newRow("two problems") << u"Steps: 0, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 4096x512"_s
                                  << u"Steps must be a whole number from 1 to 150, not \"0\"; the width in Size must "
                                     "be a whole number (a multiple of 8) from 64 to 2048, not \"4096\""_s;
}

// A value out of range is an error naming it; the values that are fine are still read.
void TestImageMetadata::invalidValues()
{
    QFETCH(QString, parameters);
    QFETCH(QString, error);
    const InfotextReadResult result = readInfotext(u"a fox\n"_s + parameters);
    QCOMPARE(result.error, error);
    QCOMPARE(result.infotext.settings.prompt, u"a fox"_s);
    const RenderSettings& s = result.infotext.settings;
    QVERIFY(!s.steps || *s.steps == 20);
    QVERIFY(!s.seed || *s.seed == 1);
    // Whatever was read is within the limits.
    QVERIFY(s.problems().isEmpty());

    // The prompt has its limit too.
    const QString huge(RenderLimits::MaxPromptBytes + 1, u'p');
    const InfotextReadResult tooLong = readInfotext(huge + u"\nSteps: 20, Sampler: Euler, Seed: 1"_s);
    QVERIFY2(tooLong.error.contains(u"16384 bytes"_s), qPrintable(tooLong.error.left(200)));
    QCOMPARE(tooLong.infotext.settings.prompt, QString());
    QCOMPARE(tooLong.infotext.settings.steps, std::optional<int>(20));
}

// As A1111 writes them; a malformed value is named and none of it used.
void TestImageMetadata::loraHashesAreRead()
{
    const QString settings = u"a castle\nSteps: 25, Sampler: Euler a, CFG scale: 6.5, Seed: 3, Size: 512x512, "_s;
    InfotextReadResult result
        = readInfotext(settings + u"Lora hashes: \"add_detail: 7c6bad76eb54, style: v2: 0123456789ab\""_s);
    QCOMPARE(result.error, QString());
    QCOMPARE(result.infotext.loraHashes,
             (QList<std::pair<QString, QString>>{{u"add_detail"_s, u"7c6bad76eb54"_s},
                                                 {u"style: v2"_s, u"0123456789ab"_s}}));
    result = readInfotext(settings + u"TI hashes: \"EasyNegative: c74b4e810b03, bad-hands-5: 0123456789ab\""_s);
    QCOMPARE(result.error, QString());
    QCOMPARE(result.infotext.embeddingHashes,
             (QList<std::pair<QString, QString>>{{u"EasyNegative"_s, u"c74b4e810b03"_s},
                                                 {u"bad-hands-5"_s, u"0123456789ab"_s}}));
    result = readInfotext(settings + u"Lora hashes: \"add_detail 7c6bad76eb54\""_s);
    QVERIFY2(result.error.contains(u"Lora hashes must be"_s), qPrintable(result.error));
    QVERIFY(result.infotext.loraHashes.isEmpty());
}

void TestImageMetadata::modelName()
{
    QCOMPARE(infotextModelName(u"/models/v1-5-pruned-emaonly.safetensors"_s), u"v1-5-pruned-emaonly"_s);
    QCOMPARE(infotextModelName(u"/models/dreamshaper.v8.safetensors"_s), u"dreamshaper.v8"_s);
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(u"stable-diffusion-v1-5"_s));
    QCOMPARE(infotextModelName(dir.filePath(u"stable-diffusion-v1-5"_s)), u"stable-diffusion-v1-5"_s);
    QCOMPARE(infotextModelName(dir.filePath(u"stable-diffusion-v1-5/"_s)), u"stable-diffusion-v1-5"_s);
}

// PLMS asked for 8 steps runs the UNet 9 times: the provenance says 8, as the infotext does, and 9 apart.
void TestImageMetadata::provenanceStepsAreTheStepsAskedFor()
{
    Provenance provenance;
    provenance.queueItemId = 11;
    provenance.settings
        = RenderSettings{u"a quiet harbor at dawn"_s, {}, (quint64(1) << 53) + 1, 8, 7.5, 64, 64, u"pndm"_s};
    provenance.unetEvaluations = 9;
    provenance.model = u"tiny-sd15"_s;
    provenance.modelHash = u"0123456789"_s;
    provenance.device = u"cuda:1"_s;
    provenance.deviceName = u"NVIDIA H100"_s;
    provenance.precision = u"fp16"_s;
    provenance.extra = QJsonObject{
        {u"rank"_s, 1}, {u"attempt"_s, 2}, {u"timings"_s, QJsonObject{{u"stepSeconds"_s, QJsonArray{0.5, 0.1}}}}};
    const QJsonObject json = provenance.toJson();
    QCOMPARE(json[u"steps"_s].toInt(), 8);
    QCOMPARE(json[u"unetEvaluations"_s].toInt(), 9);
    QCOMPARE(json[u"queueItemId"_s].toInteger(), qint64(11));
    QCOMPARE(json[u"scheduler"_s].toString(), u"pndm"_s);
    // Text, so that no JSON reader rounds a seed above 2^53.
    QCOMPARE(json[u"seed"_s].toString(), u"9007199254740993"_s);
    QCOMPARE(json[u"cfgScale"_s].toDouble(), 7.5);
    QCOMPARE(json[u"width"_s].toInt(), 64);
    QCOMPARE(json[u"height"_s].toInt(), 64);
    QCOMPARE(json[u"model"_s].toString(), u"tiny-sd15"_s);
    QCOMPARE(json[u"modelHash"_s].toString(), u"0123456789"_s);
    QCOMPARE(json[u"device"_s].toString(), u"cuda:1"_s);
    QCOMPARE(json[u"deviceName"_s].toString(), u"NVIDIA H100"_s);
    QCOMPARE(json[u"dtype"_s].toString(), u"fp16"_s);
    QCOMPARE(json[u"rank"_s].toInt(), 1);
    QCOMPARE(json[u"attempt"_s].toInt(), 2);
    QCOMPARE(json[u"timings"_s][u"stepSeconds"_s].toArray().size(), 2);
    // The prompts are in the infotext; the chunk stays small whatever they hold.
    QVERIFY(!json.contains(u"prompt"_s));

    // The infotext of the same image agrees on the steps.
    const QString text = Infotext{provenance.settings, provenance.modelHash, provenance.model}.toString();
    QVERIFY2(text.contains(u"Steps: 8,"_s), qPrintable(text));
    QCOMPARE(readInfotext(text).infotext.settings.steps, std::optional<int>(json[u"steps"_s].toInt()));

    // Survives the text chunk: compact JSON, parsed back.
    const QJsonObject back = QJsonDocument::fromJson(QJsonDocument(json).toJson(QJsonDocument::Compact)).object();
    QCOMPARE(back, json);
}

void TestImageMetadata::provenanceKeepsItsOwnKeysOverExtra()
{
    Provenance provenance;
    provenance.settings = RenderSettings{u"x"_s, {}, 5, 20, 7.5, 512, 512, u"euler"_s};
    provenance.unetEvaluations = 20;
    provenance.extra = QJsonObject{{u"steps"_s, 999}, {u"seed"_s, 1}, {u"batchSize"_s, 4}};
    const QJsonObject json = provenance.toJson();
    QCOMPARE(json[u"steps"_s].toInt(), 20);
    QCOMPARE(json[u"seed"_s].toString(), u"5"_s);
    QCOMPARE(json[u"batchSize"_s].toInt(), 4);
    // No queue item: -1, never a made-up id.
    QCOMPARE(json[u"queueItemId"_s].toInteger(), qint64(-1));
}

QTEST_GUILESS_MAIN(TestImageMetadata)
#include "TestImageMetadata.moc"
