// SPDX-License-Identifier: GPL-3.0-or-later
//
// AUTOMATIC1111's own reading of the infotexts Atelier writes: each Infotext is written with toString() and read by
// tests/data/infotext/a1111_parse.py, a model of A1111 v1.10's parse_generation_parameters (and of what pasting into
// its txt2img tab derives: the sampler and schedule type drop-downs, the Lora extension's "Lora hashes"). Every field
// Atelier wrote must come back as written, and nothing else may appear but the defaults A1111 fills in itself.
// Where the two disagree by design of the format, the row names the field and why (QEXPECT_FAIL), so that a change
// on either side shows up here. The other direction, A1111's own texts read by readInfotext, is TestImageMetadata's.
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTest>
#include <QVariantMap>

#include <limits>
#include <optional>

#include "TestSupport.h"
#include "render/ImageMetadata.h"
#include "render/Samplers.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Atelier::Infotext)

namespace
{
    /// How A1111 names each of Atelier's samplers in an infotext, and what its txt2img tab's "Sampling method" and
    /// "Schedule type" must show for the same sampling. A1111 1.9 split the schedule off the sampler's name and gave
    /// DPM++ 2M Karras sigmas by default ("Automatic"); the model's own sigmas are "Uniform" there.
    struct A1111Sampler
    {
        QString written;
        QString sampler;
        QString scheduleType;
    };
    const QHash<QString, A1111Sampler>& a1111Samplers()
    {
        static const QHash<QString, A1111Sampler> samplers{
            {u"pndm"_s, {u"PLMS"_s, u"PLMS"_s, u"Automatic"_s}},
            {u"ddim"_s, {u"DDIM"_s, u"DDIM"_s, u"Automatic"_s}},
            {u"euler"_s, {u"Euler"_s, u"Euler"_s, u"Automatic"_s}},
            {u"euler_a"_s, {u"Euler a"_s, u"Euler a"_s, u"Automatic"_s}},
            {u"dpmpp_2m"_s, {u"DPM++ 2M"_s, u"DPM++ 2M"_s, u"Uniform"_s}},
            {u"dpmpp_2m_karras"_s, {u"DPM++ 2M Karras"_s, u"DPM++ 2M"_s, u"Automatic"_s}},
            {u"lms"_s, {u"LMS"_s, u"LMS"_s, u"Automatic"_s}},
        };
        return samplers;
    }

    /// What A1111 v1.10's parse_generation_parameters adds to every infotext that does not name these keys.
    /// ("Clip skip" "1" is checked as a written field; "Emphasis" "Original" comes only with weights in a prompt.)
    QJsonObject a1111Defaults()
    {
        return QJsonObject{
            {u"Hires resize-1"_s, 0},
            {u"Hires resize-2"_s, 0},
            {u"Hires sampler"_s, u"Use same sampler"_s},
            {u"Hires schedule type"_s, u"Use same scheduler"_s},
            {u"Hires checkpoint"_s, u"Use same checkpoint"_s},
            {u"Hires prompt"_s, u""_s},
            {u"Hires negative prompt"_s, u""_s},
            {u"Mask mode"_s, u"Inpaint masked"_s},
            {u"Masked content"_s, u"original"_s},
            {u"Inpaint area"_s, u"Whole picture"_s},
            {u"Masked area padding"_s, 32},
            {u"RNG"_s, u"GPU"_s},
            {u"Schedule type"_s, u"Automatic"_s},
            {u"Schedule max sigma"_s, 0},
            {u"Schedule min sigma"_s, 0},
            {u"Schedule rho"_s, 0},
            {u"VAE Encoder"_s, u"Full"_s},
            {u"VAE Decoder"_s, u"Full"_s},
            {u"FP8 weight"_s, u"Disable"_s},
            {u"Refiner switch by sampling steps"_s, false},
        };
    }

    /// One value A1111 must read back: as text, or (CFG scale, strengths) as the number it converts it to.
    struct Field
    {
        QString key;
        QString text;
        std::optional<double> number = {};
    };

    QString hashList(const QList<std::pair<QString, QString>>& hashes)
    {
        QStringList pairs;
        for (const auto& [name, hash] : hashes) {
            pairs.append(name + u": "_s + hash);
        }
        return pairs.join(u", "_s);
    }

    /// Every key the infotext carries, with the value A1111 must get, from the struct rather than from its text.
    QList<Field> writtenFields(const Infotext& infotext)
    {
        const RenderSettings& s = infotext.settings;
        QList<Field> fields{{u"Prompt"_s, s.prompt}, {u"Negative prompt"_s, s.negativePrompt}};
        if (s.steps) {
            fields.append({u"Steps"_s, QString::number(*s.steps)});
        }
        if (s.scheduler) {
            fields.append({u"Sampler"_s, a1111Samplers().value(*s.scheduler).written});
            if (*s.scheduler == u"dpmpp_2m"_s) {
                fields.append({u"Schedule type"_s, u"Uniform"_s});
            }
        }
        if (s.cfgScale) {
            fields.append({u"CFG scale"_s, {}, *s.cfgScale});
        }
        if (s.seed) {
            fields.append({u"Seed"_s, QString::number(*s.seed)}); // every digit: A1111 keeps the text
        }
        if (s.width && s.height) {
            fields.append({u"Size-1"_s, QString::number(*s.width)});
            fields.append({u"Size-2"_s, QString::number(*s.height)});
        }
        if (!infotext.modelHash.isEmpty()) {
            fields.append({u"Model hash"_s, infotext.modelHash});
        }
        if (!infotext.modelName.isEmpty()) {
            fields.append({u"Model"_s, infotext.modelName});
        }
        // Left out at 1, which A1111 reads as 1.
        fields.append({u"Clip skip"_s, QString::number(s.clipSkip.value_or(1))});
        if (!infotext.vaeHash.isEmpty()) {
            fields.append({u"VAE hash"_s, infotext.vaeHash});
        }
        if (s.vae && !s.vae->isEmpty()) {
            fields.append({u"VAE"_s, *s.vae});
        }
        if (s.denoisingStrength) {
            fields.append({u"Denoising strength"_s, {}, *s.denoisingStrength});
        }
        if (s.hiresEnabled()) {
            fields.append({u"Hires upscale"_s, {}, *s.hiresScale});
            if (s.hiresSteps) {
                fields.append({u"Hires steps"_s, QString::number(*s.hiresSteps)});
            }
            if (s.hiresUpscaler) {
                fields.append({u"Hires upscaler"_s, *s.hiresUpscaler});
            }
        }
        if (!infotext.loraHashes.isEmpty()) {
            fields.append({u"Lora hashes"_s, hashList(infotext.loraHashes)});
        }
        if (!infotext.embeddingHashes.isEmpty()) {
            fields.append({u"TI hashes"_s, hashList(infotext.embeddingHashes)});
        }
        return fields;
    }

    QString shown(const QJsonValue& value)
    {
        if (value.isUndefined()) {
            return u"(no such key)"_s;
        }
        return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
    }

    /// Every field Atelier writes, with values that need quoting, weights, LoRA tags, several lines and a seed
    /// above 2^53 (which a JSON number would round).
    Infotext everyField()
    {
        Infotext infotext;
        RenderSettings& s = infotext.settings;
        s.prompt = u"masterpiece, (best quality:1.2), [blurry], <lora:inkStyle:0.7>\n"
                   "a fox in the snow, ((detailed fur)), <lora:film grain:-0.25>\n\nlast line: after a blank one"_s;
        s.negativePrompt = u"lowres, (worst quality:1.4),\nEasyNegative, bad-hands-5"_s;
        s.steps = 28;
        s.scheduler = u"dpmpp_2m_karras"_s;
        s.cfgScale = 6.5;
        s.seed = (quint64(1) << 53) + 1;
        s.width = 512;
        s.height = 768;
        s.clipSkip = 2;
        infotext.modelHash = u"6ce0161689"_s;
        infotext.modelName = u"my model, v2: final"_s;
        s.vae = u"vae-ft-mse-840000-ema-pruned.safetensors"_s;
        infotext.vaeHash = u"735e4c3a44"_s;
        s.denoisingStrength = 0.55;
        s.hiresScale = 1.5;
        s.hiresSteps = 12;
        s.hiresUpscaler = u"Latent"_s;
        infotext.loraHashes = {{u"inkStyle"_s, u"7c6bad76eb54"_s}, {u"film grain"_s, u"0123456789ab"_s}};
        infotext.embeddingHashes = {{u"EasyNegative"_s, u"c74b4e810b03"_s}, {u"bad-hands-5"_s, u"aa0123bb4567"_s}};
        return infotext;
    }
} // namespace

class TestA1111Infotext final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void everySamplerIsCovered();
    void a1111ReadsWhatAtelierWrites_data();
    void a1111ReadsWhatAtelierWrites();
    void parserBehavesAsA1111_data();
    void parserBehavesAsA1111();

private:
    struct Parsed
    {
        QJsonObject object;
        QString error; ///< empty when the script ran and printed a JSON object
    };
    /// Runs the A1111 model on @p text (with --paste when @p paste), with a hard time limit.
    Parsed a1111Parse(const QString& text, bool paste) const;

    QString m_python;
    QString m_script;
};

void TestA1111Infotext::initTestCase()
{
    m_script = Test::dataPath(u"infotext/a1111_parse.py"_s);
    QVERIFY2(QFile::exists(m_script), qPrintable(m_script));
    m_python = QStandardPaths::findExecutable(u"python3"_s);
    if (m_python.isEmpty()) {
        QSKIP("python3 is not on PATH: these tests run tests/data/infotext/a1111_parse.py (Python 3.11 or later, "
              "standard library only) to read infotexts as AUTOMATIC1111 does");
    }
}

TestA1111Infotext::Parsed TestA1111Infotext::a1111Parse(const QString& text, bool paste) const
{
    QProcess process;
    process.setProgram(m_python);
    // -I: no user site, no PYTHON* variables; -B: no __pycache__ beside the script.
    QStringList arguments{u"-I"_s, u"-B"_s, m_script};
    if (paste) {
        arguments.append(u"--paste"_s);
    }
    process.setArguments(arguments);
    process.start();
    if (!process.waitForStarted(10000)) {
        return {{}, u"cannot start %1: %2"_s.arg(m_python, process.errorString())};
    }
    process.write(text.toUtf8());
    process.closeWriteChannel();
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished(5000);
        return {{}, u"a1111_parse.py did not finish within 30 s"_s};
    }
    const QString standardError = QString::fromUtf8(process.readAllStandardError());
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return {{}, u"a1111_parse.py failed (exit code %1): %2"_s.arg(process.exitCode()).arg(standardError)};
    }
    QJsonParseError jsonError;
    const QJsonDocument document = QJsonDocument::fromJson(process.readAllStandardOutput(), &jsonError);
    if (jsonError.error != QJsonParseError::NoError || !document.isObject()) {
        return {{}, u"a1111_parse.py printed no JSON object: %1"_s.arg(jsonError.errorString())};
    }
    return {document.object(), {}};
}

// A sampler added to Atelier needs its A1111 names here.
void TestA1111Infotext::everySamplerIsCovered()
{
    for (const QString& sampler : samplerNames()) {
        QVERIFY2(a1111Samplers().contains(sampler), qPrintable(sampler));
        QCOMPARE(a1111SamplerName(sampler), a1111Samplers().value(sampler).written);
    }
}

void TestA1111Infotext::a1111ReadsWhatAtelierWrites_data()
{
    QTest::addColumn<Infotext>("infotext");
    // Field (a key of A1111's dict, "Sampler (pasted)", "Schedule type (pasted)", "Lora hashes (pasted)" or "keys")
    // -> why A1111 does not get back what Atelier wrote there.
    QTest::addColumn<QVariantMap>("divergences");

    QTest::newRow("every field") << everyField() << QVariantMap{};

    for (const QString& sampler : samplerNames()) {
        Infotext infotext = everyField();
        infotext.settings.scheduler = sampler;
        QTest::addRow("sampler %s", qPrintable(sampler)) << infotext << QVariantMap{};
    }

    Infotext limits = everyField();
    limits.settings.seed = std::numeric_limits<quint64>::max();
    limits.settings.cfgScale = 0.1 + 0.2; // "0.30000000000000004": the shortest text that reads back the same
    limits.settings.steps = 150;
    limits.settings.width = 2048;
    limits.settings.height = 64;
    limits.settings.clipSkip = 12;
    limits.settings.denoisingStrength = 1.0;
    limits.settings.hiresScale = 4;
    limits.settings.hiresSteps = 0; // written as "Hires steps: 0" (A1111 leaves a 0 out; both: the first pass's)
    limits.settings.hiresUpscaler = u"Lanczos"_s;
    QTest::newRow("limits") << limits << QVariantMap{};

    // As the worker writes a plain text to image: no negative prompt, no VAE, no hires fix, no LoRA, clip skip unset.
    Infotext minimal;
    minimal.settings = RenderSettings{u"a quiet harbor at dawn"_s, {}, 42, 8, 7.5, 64, 64, u"pndm"_s};
    minimal.modelHash = u"0123456789"_s;
    minimal.modelName = u"tiny-sd15"_s;
    QTest::newRow("minimal") << minimal << QVariantMap{};

    Infotext clipSkipOne = minimal;
    clipSkipOne.settings.clipSkip = 1; // left out, as A1111 leaves it out
    QTest::newRow("clip skip 1") << clipSkipOne << QVariantMap{};

    Infotext noModel = minimal;
    noModel.modelHash.clear();
    noModel.modelName.clear();
    noModel.settings.prompt.clear();
    noModel.settings.negativePrompt = u"only a negative prompt"_s;
    QTest::newRow("no prompt, no model") << noModel << QVariantMap{};

    Infotext unicode = everyField();
    unicode.settings.prompt = u"山水画, 🦊 über \"quoted\" words, a\\b"_s;
    unicode.settings.negativePrompt = u"低质量: 模糊"_s;
    unicode.modelName = u"モデル, \"quoted\""_s;
    unicode.settings.vae = u"my \"vae\": v1\tfinal"_s;
    unicode.settings.hiresUpscaler = u"Latent"_s;
    QTest::newRow("Unicode, quotes, backslash, tab") << unicode << QVariantMap{};

    // Values that start with a quote must be quoted, or A1111 would take the quote for an opening one.
    Infotext leadingQuote = minimal;
    leadingQuote.modelName = u" \"a\" model"_s;
    leadingQuote.settings.vae = u"\"quoted\" vae"_s;
    leadingQuote.vaeHash = u"735e4c3a44"_s;
    QTest::newRow("values that start with a quote") << leadingQuote << QVariantMap{};

    // A1111 drops the commas from LoRA names when it writes "Lora hashes" (its pasting cuts the list at every comma);
    // Atelier keeps them.
    Infotext commaLora = everyField();
    commaLora.settings.prompt = u"a fox, <lora:film, grain:0.5>, <lora:inkStyle:0.7>"_s;
    commaLora.loraHashes = {{u"film, grain"_s, u"0123456789ab"_s}, {u"inkStyle"_s, u"7c6bad76eb54"_s}};
    QTest::newRow("LoRA name with a comma")
        << commaLora
        << QVariantMap{{u"Lora hashes (pasted)"_s,
                        u"the Lora extension cuts \"Lora hashes\" at every comma, so \"film, grain: 0123456789ab\" "
                        "falls apart at \"film\", which has no colon: its callback fails and maps no LoRA. A1111 "
                        "writes the name without commas (and colons)"_s}};

    // The format loses what A1111's writer loses too: every prompt line is stripped.
    Infotext indented = minimal;
    indented.settings.prompt = u"  indented line\ntrailing spaces   "_s;
    indented.settings.negativePrompt = u"\tlowres"_s;
    const QString stripped = u"A1111 strips every prompt line (its own writer loses these spaces too)"_s;
    QTest::newRow("spaces around prompt lines")
        << indented << QVariantMap{{u"Prompt"_s, stripped}, {u"Negative prompt"_s, stripped}};

    // A1111 splits every value of the form 123x456, whatever its key, quoted or not.
    Infotext sizeLikeModel = minimal;
    sizeLikeModel.modelName = u"512x768"_s;
    const QString split = u"A1111 reads any value of the form <digits>x<digits> as a size: \"Model-1\": \"512\" and "
                          "\"Model-2\": \"768\" (a model of its own with that name fares the same)"_s;
    QTest::newRow("model named like a size") << sizeLikeModel << QVariantMap{{u"Model"_s, split}, {u"keys"_s, split}};
}

void TestA1111Infotext::a1111ReadsWhatAtelierWrites()
{
    QFETCH(Infotext, infotext);
    QFETCH(QVariantMap, divergences);
    const QString text = infotext.toString();
    const Parsed parsed = a1111Parse(text, false);
    QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error + u"\n"_s + text));
    const QJsonObject& a1111 = parsed.object;

    QSet<QString> checked;
    auto expectDivergence = [&](const QString& field) {
        checked.insert(field);
        return divergences.contains(field);
    };
    auto reason = [&](const QString& field) { return divergences.value(field).toString(); };

    // Every field Atelier wrote, as A1111 reads it.
    QSet<QString> writtenKeys;
    for (const Field& field : writtenFields(infotext)) {
        writtenKeys.insert(field.key);
        const QJsonValue value = a1111.value(field.key);
        bool same = false;
        QString expected = field.text;
        if (field.number) {
            expected = QString::number(*field.number, 'g', 17);
            bool ok = false;
            const double number = value.toString().toDouble(&ok);
            same = value.isString() && ok && number == *field.number;
        } else {
            same = value.isString() && value.toString() == field.text;
        }
        if (expectDivergence(field.key)) {
            QEXPECT_FAIL("", qPrintable(reason(field.key)), Continue);
        }
        QVERIFY2(same,
                 qPrintable(
                     u"%1: Atelier wrote %2, A1111 read %3\n%4"_s.arg(field.key, shown(expected), shown(value), text)));
    }

    // Nothing else but A1111's own defaults, each at its default (nothing Atelier wrote landed in one of them).
    const QJsonObject defaults = a1111Defaults();
    QStringList unexpected;
    for (auto it = a1111.begin(); it != a1111.end(); ++it) {
        if (writtenKeys.contains(it.key())) {
            continue;
        }
        const bool isDefault = defaults.contains(it.key()) && defaults.value(it.key()) == it.value();
        // A1111 adds "Emphasis" when a prompt has weights, as everyField()'s do.
        const bool isEmphasis = it.key() == u"Emphasis"_s && it.value() == QJsonValue(u"Original"_s);
        if (!isDefault && !isEmphasis) {
            unexpected.append(it.key() + u": "_s + shown(it.value()));
        }
    }
    for (auto it = defaults.begin(); it != defaults.end(); ++it) {
        if (!a1111.contains(it.key())) {
            unexpected.append(u"missing default "_s + it.key());
        }
    }
    if (expectDivergence(u"keys"_s)) {
        QEXPECT_FAIL("", qPrintable(reason(u"keys"_s)), Continue);
    }
    QVERIFY2(unexpected.isEmpty(), qPrintable(unexpected.join(u"; "_s) + u"\n"_s + text));

    // What the txt2img tab gets when the text is pasted: the same sampling, and the LoRA hashes by name.
    const Parsed pasted = a1111Parse(text, true);
    QVERIFY2(pasted.error.isEmpty(), qPrintable(pasted.error + u"\n"_s + text));
    const QJsonObject& tab = pasted.object;
    if (infotext.settings.scheduler) {
        const A1111Sampler expected = a1111Samplers().value(*infotext.settings.scheduler);
        if (expectDivergence(u"Sampler (pasted)"_s)) {
            QEXPECT_FAIL("", qPrintable(reason(u"Sampler (pasted)"_s)), Continue);
        }
        QCOMPARE(tab.value(u"Sampler"_s).toString(), expected.sampler);
        if (expectDivergence(u"Schedule type (pasted)"_s)) {
            QEXPECT_FAIL("", qPrintable(reason(u"Schedule type (pasted)"_s)), Continue);
        }
        QCOMPARE(tab.value(u"Schedule type"_s).toString(), expected.scheduleType);
        // The hires pass samples as the first: "Use same …", or the very same names.
        const QString hiresSampler = tab.value(u"Hires sampler"_s).toString();
        const QString hiresSchedule = tab.value(u"Hires schedule type"_s).toString();
        QVERIFY2(hiresSampler == u"Use same sampler"_s || hiresSampler == tab.value(u"Sampler"_s).toString(),
                 qPrintable(hiresSampler));
        QVERIFY2(hiresSchedule == u"Use same scheduler"_s || hiresSchedule == tab.value(u"Schedule type"_s).toString(),
                 qPrintable(hiresSchedule));
    }
    QJsonObject loraHashes;
    for (const auto& [name, hash] : infotext.loraHashes) {
        loraHashes.insert(name, hash);
    }
    const QJsonValue expectedLoras = infotext.loraHashes.isEmpty() ? QJsonValue(QJsonValue::Null) : loraHashes;
    if (expectDivergence(u"Lora hashes (pasted)"_s)) {
        QEXPECT_FAIL("", qPrintable(reason(u"Lora hashes (pasted)"_s)), Continue);
    }
    QVERIFY2(
        tab.value(u"Lora hashes"_s) == expectedLoras,
        qPrintable(u"Atelier wrote %1, A1111's Lora extension read %2 %3"_s.arg(
            shown(expectedLoras), shown(tab.value(u"Lora hashes"_s)), tab.value(u"Lora hashes error"_s).toString())));

    for (auto it = divergences.begin(); it != divergences.end(); ++it) {
        QVERIFY2(checked.contains(it.key()), qPrintable(u"no field \"%1\" was checked"_s.arg(it.key())));
    }
}

void TestA1111Infotext::parserBehavesAsA1111_data()
{
    // Texts as A1111 writes them, and what its parse_generation_parameters (or pasting, with --paste) gives.
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("paste");
    QTest::addColumn<QString>("expected"); ///< a JSON object: these keys with these values
    QTest::addColumn<QStringList>("absent");

    QTest::newRow("A1111's own example")
        << u"girl with an artist's beret, ((eyeshadow)), (coquettish)\nNegative prompt: ugly, [blurry]\nSteps: 20, "
           "Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b"_s
        << false << uR"json({"Prompt": "girl with an artist's beret, ((eyeshadow)), (coquettish)",
               "Negative prompt": "ugly, [blurry]", "Steps": "20", "Sampler": "Euler a", "CFG scale": "7",
               "Seed": "965400086", "Size-1": "512", "Size-2": "512", "Model hash": "45dee52b", "Clip skip": "1",
               "Schedule type": "Automatic", "Emphasis": "Original", "Hires resize-1": 0, "Masked area padding": 32,
               "RNG": "GPU"})json"_s
        << QStringList{u"Size"_s, u"Version"_s};
    QTest::newRow("a last line of two pairs is prompt")
        << u"a fox\nSteps: 20, Seed: 5"_s << false
        << uR"json({"Prompt": "a fox\nSteps: 20, Seed: 5", "Negative prompt": ""})json"_s
        << QStringList{u"Steps"_s, u"Emphasis"_s};
    QTest::newRow("lines stripped, prefix cut from every negative line")
        << u"  a fox  \n\n  Negative prompt:  dark \nNegative prompt: worse\nSteps: 1, Sampler: Euler, Seed: 2"_s
        << false << uR"json({"Prompt": "a fox\n", "Negative prompt": "dark\nworse"})json"_s << QStringList{};
    QTest::newRow("quoted values, an empty one dropped")
        << u"x\nSteps: 20, Sampler: Euler, Model: , Template: \"a\\nb \\\"c\\\", d\", Lora hashes: \"a: 1, b: 2\""_s
        << false << uR"json({"Template": "a\nb \"c\", d", "Lora hashes": "a: 1, b: 2"})json"_s
        << QStringList{u"Model"_s};
    QTest::newRow("A1111 1.10 schedule type")
        << u"a fox\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 5, Size: 512x512, "
           "Version: v1.10.1"_s
        << true
        << uR"json({"Sampler": "DPM++ 2M", "Schedule type": "Automatic", "Hires sampler": "Use same sampler"})json"_s
        << QStringList{};
    QTest::newRow("old name with the schedule in it")
        << u"a fox\nSteps: 20, Sampler: DPM++ SDE Karras, CFG scale: 7, Seed: 5, Size: 512x512"_s << true
        << uR"json({"Sampler": "DPM++ SDE", "Schedule type": "Automatic"})json"_s << QStringList{};
    QTest::newRow("explicit schedule kept")
        << u"a fox\nSteps: 20, Sampler: Euler, Schedule type: Karras, CFG scale: 7, Seed: 5"_s << true
        << uR"json({"Sampler": "Euler", "Schedule type": "Karras"})json"_s << QStringList{};
    QTest::newRow("unknown sampler falls back to DPM++ 2M")
        << u"a fox\nSteps: 20, Sampler: Nonesuch, CFG scale: 7, Seed: 5"_s << true
        << uR"json({"Sampler": "DPM++ 2M", "Schedule type": "Automatic"})json"_s << QStringList{};
    QTest::newRow("Lora extension's reading")
        << u"a\nSteps: 20, Sampler: Euler, Seed: 5, Lora hashes: \"add_detail: 7c6bad76eb54, b: 2\""_s << true
        << uR"json({"Lora hashes": {"add_detail": "7c6bad76eb54", "b": "2"}})json"_s
        << QStringList{u"Lora hashes error"_s};
    QTest::newRow("old version turns on compatibility")
        << u"[a:b:5] fox\nSteps: 20, Sampler: DDIM, CFG scale: 7, Seed: 5, Size: 512x512, Version: v1.5.2"_s << false
        << uR"json({"Old prompt editing timelines": true, "Pad conds v0": true, "Downcast alphas_cumprod": true,
                    "Refiner switch by sampling steps": false})json"_s
        << QStringList{};
    QTest::newRow("old hires fix first pass")
        << u"a\nSteps: 20, Sampler: Euler, Seed: 5, Size: 1024x768, First pass size: 0x0"_s << false
        << uR"json({"Size-1": 640, "Size-2": 448, "Hires resize-1": 1024, "Hires resize-2": 768})json"_s
        << QStringList{};
}

void TestA1111Infotext::parserBehavesAsA1111()
{
    QFETCH(QString, text);
    QFETCH(bool, paste);
    QFETCH(QString, expected);
    QFETCH(QStringList, absent);
    const Parsed parsed = a1111Parse(text, paste);
    QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
    const QJsonObject want = QJsonDocument::fromJson(expected.toUtf8()).object();
    QVERIFY2(!want.isEmpty(), qPrintable(expected));
    for (auto it = want.begin(); it != want.end(); ++it) {
        QVERIFY2(parsed.object.value(it.key()) == it.value(),
                 qPrintable(u"%1: expected %2, got %3"_s.arg(it.key(), shown(it.value()),
                                                             shown(parsed.object.value(it.key())))));
    }
    for (const QString& key : absent) {
        QVERIFY2(!parsed.object.contains(key), qPrintable(key));
    }
}

QTEST_GUILESS_MAIN(TestA1111Infotext)
#include "TestA1111Infotext.moc"
