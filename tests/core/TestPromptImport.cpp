// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "TestSupport.h"
#include "import/PromptImport.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    QStringList prompts(const ImportResult& result)
    {
        QStringList list;
        for (const RenderSettings& job : result.jobs) {
            list.append(job.prompt);
        }
        return list;
    }

    QList<int> issueLines(const ImportResult& result)
    {
        QList<int> lines;
        for (const ImportIssue& issue : result.issues) {
            lines.append(int(issue.line));
        }
        return lines;
    }

    QStringList issueFields(const ImportResult& result)
    {
        QStringList fields;
        for (const ImportIssue& issue : result.issues) {
            fields.append(issue.field);
        }
        return fields;
    }

    QString describe(const ImportResult& result)
    {
        QStringList lines;
        for (const ImportIssue& issue : result.issues) {
            lines.append(issue.toString());
        }
        return lines.join(u'\n');
    }

    ImportResult importText(const QString& text, const QString& format = u"txt"_s, const ImportOptions& options = {})
    {
        return importPromptData(text.toUtf8(), format, u"inline."_s + format, options);
    }

    ImportOptions strict()
    {
        ImportOptions options;
        options.strict = true;
        return options;
    }

    bool writeFile(const QString& path, const QByteArray& data)
    {
        QFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(data) == data.size();
    }
} // namespace

class TestPromptImport final : public QObject
{
    Q_OBJECT

private slots:
    void fixtures_data();
    void fixtures();
    void a1111AllOptions();
    void csvEmbeddedFields();
    void jsonArray();
    void invalidBytesNameTheirOffset();
    void batchExpansionUsesConsecutiveSeeds();
    void missingSeedsAreLeftForTheRun();
    void samplerNames_data();
    void samplerNames();
    void values_data();
    void values();
    void imageToImageHiresAndVae();
    void renderLimitMessages_data();
    void renderLimitMessages();
    void shellQuoting_data();
    void shellQuoting();
    void overlongLine();
    void minifiedJsonHasNoLineLimit();
    void oversizedFile();
    void devZeroIsRefusedQuickly();
    void maxPrompts();
    void maxIssues();
    void jsonSyntaxErrorKeepsEarlierElements();
    void fileNamesAndFormats();
    void issueText();
};

void TestPromptImport::fixtures_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QStringList>("prompts");
    QTest::addColumn<QList<int>>("issueLines");
    QTest::addColumn<QStringList>("issueFields");

    const QStringList utf16Prompts{u"a red fox"_s, u"a blue jay"_s, u"🦊 über"_s};
    QTest::newRow("utf8 with BOM") << u"utf8-bom.txt"_s << QStringList{u"a red fox"_s, u"second prompt"_s}
                                   << QList<int>{} << QStringList{};
    QTest::newRow("utf16le with BOM") << u"utf16le-bom.txt"_s << utf16Prompts << QList<int>{} << QStringList{};
    QTest::newRow("utf16be with BOM") << u"utf16be-bom.txt"_s << utf16Prompts << QList<int>{} << QStringList{};
    QTest::newRow("utf16 without BOM") << u"utf16le-no-bom.txt"_s << QStringList{} << QList<int>{1, 2, 3}
                                       << QStringList{{}, {}, {}};
    QTest::newRow("latin1") << u"latin1.txt"_s << QStringList{u"first"_s, u"third"_s} << QList<int>{2}
                            << QStringList{QString()};
    QTest::newRow("CR only") << u"cr-only.txt"_s << QStringList{u"one"_s, u"two"_s, u"three"_s} << QList<int>{}
                             << QStringList{};
    QTest::newRow("CRLF") << u"crlf.txt"_s << QStringList{u"one"_s, u"two"_s} << QList<int>{} << QStringList{};
    QTest::newRow("empty") << u"empty.txt"_s << QStringList{} << QList<int>{0} << QStringList{QString()};
    QTest::newRow("blank only") << u"blank-only.txt"_s << QStringList{} << QList<int>{0} << QStringList{QString()};
    QTest::newRow("outpath") << u"outpath.txt"_s << QStringList{u"first prompt"_s, u"last prompt"_s}
                             << QList<int>{2, 3, 4}
                             << QStringList{u"outpath_samples"_s, u"outpath_grids"_s, u"styles"_s};
    QTest::newRow("unbalanced quote") << u"unbalanced-quote.txt"_s << QStringList{u"ok one"_s, u"ok two"_s}
                                      << QList<int>{2, 4} << QStringList{{}, {}};
    QTest::newRow("CSV unclosed quote") << u"unclosed-quote.csv"_s << QStringList{u"first"_s} << QList<int>{3}
                                        << QStringList{QString()};
    QTest::newRow("CSV wrong field count") << u"wrong-field-count.csv"_s << QStringList{u"first"_s, u"fourth"_s}
                                           << QList<int>{3, 4} << QStringList{{}, {}};
    QTest::newRow("JSON duplicate key") << u"duplicate-key.json"_s << QStringList{u"first"_s, u"third"_s}
                                        << QList<int>{3} << QStringList{u"seed"_s};
    QTest::newRow("JSON not an array") << u"not-array.json"_s << QStringList{} << QList<int>{1}
                                       << QStringList{QString()};
    QTest::newRow("JSONL broken at line 3") << u"broken-line3.jsonl"_s << QStringList{u"one"_s, u"two"_s, u"four"_s}
                                            << QList<int>{3} << QStringList{QString()};
    QTest::newRow("steps=1e9") << u"steps-1e9.json"_s << QStringList{u"fine"_s} << QList<int>{2}
                               << QStringList{u"steps"_s};
    QTest::newRow("emoji and RTL")
        << u"emoji-rtl.txt"_s
        << QStringList{u"\U0001F98A\U0001F3A8 a fox painting \u2014 שלום עולם \u2014 مرحبا بالعالم "
                       "\U0001F469\U0001F3FD\u200D\U0001F3A8"_s,
                       u"\u200Fעברית first, then English"_s}
        << QList<int>{} << QStringList{};
    QTest::newRow("NUL byte") << u"nul-byte.txt"_s << QStringList{u"one"_s, u"three"_s} << QList<int>{2}
                              << QStringList{QString()};
}

void TestPromptImport::fixtures()
{
    QFETCH(QString, fixture);
    QFETCH(QStringList, prompts);
    QFETCH(QList<int>, issueLines);
    QFETCH(QStringList, issueFields);
    const QString path = Test::dataPath(u"prompts/"_s + fixture);
    QVERIFY2(QFile::exists(path), qPrintable(path));

    const ImportResult lenient = importPromptFile(path);
    QCOMPARE(::prompts(lenient), prompts);
    QVERIFY2(::issueLines(lenient) == issueLines, qPrintable(describe(lenient)));
    QCOMPARE(::issueFields(lenient), issueFields);
    QVERIFY(!lenient.aborted);
    for (const ImportIssue& issue : lenient.issues) {
        QCOMPARE(issue.file, path);
        QVERIFY(!issue.message.isEmpty());
        const QString prefix = issue.line > 0 ? u"%1:%2: "_s.arg(path).arg(issue.line) : path + u": "_s;
        QVERIFY2(issue.toString().startsWith(prefix), qPrintable(issue.toString()));
    }

    // Strict: any issue discards the file but still reports every issue; a clean file imports the same.
    const ImportResult strictResult = importPromptFile(path, strict());
    QCOMPARE(strictResult.aborted, !issueLines.isEmpty());
    QCOMPARE(::prompts(strictResult), issueLines.isEmpty() ? prompts : QStringList{});
    QCOMPARE(::issueLines(strictResult), issueLines);
}

void TestPromptImport::a1111AllOptions()
{
    const ImportResult result = importPromptFile(Test::dataPath(u"prompts/a1111-all-options.txt"_s));
    QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
    QCOMPARE(result.jobs.size(), 6);

    const RenderSettings& full = result.jobs.at(0);
    QCOMPARE(full.prompt, u"a lighthouse on a cliff, oil painting"_s);
    QCOMPARE(full.negativePrompt, u"blurry, low quality"_s);
    QCOMPARE(full.seed, std::optional<quint64>(42));
    QCOMPARE(full.steps, std::optional<int>(25));
    QCOMPARE(full.cfgScale, std::optional<double>(7.5));
    QCOMPARE(full.width, std::optional<int>(512));
    QCOMPARE(full.height, std::optional<int>(768));
    QCOMPARE(full.scheduler, std::optional<QString>(u"dpmpp_2m_karras"_s));

    // --prompt and --negative_prompt take every word up to the next option, as in A1111.
    const RenderSettings& words = result.jobs.at(1);
    QCOMPARE(words.prompt, u"a cat sitting"_s);
    QCOMPARE(words.negativePrompt, u"dog"_s);
    QCOMPARE(words.steps, std::optional<int>(10));
    QVERIFY(!words.seed.has_value()); // drawn by the run when it dispatches the job
    QVERIFY(!words.cfgScale && !words.width && !words.height && !words.scheduler);

    QCOMPARE(result.jobs.at(2).prompt, u"a plain prompt with \"quotes\" and --dashes inside"_s);
    QCOMPARE(result.jobs.at(3).prompt, u"single quoted \"inner\""_s);
    QCOMPARE(result.jobs.at(3).seed, std::optional<quint64>(7));
    QCOMPARE(result.jobs.at(4).prompt, u"escaped \"quote\" and \\ backslash"_s);
    QCOMPARE(result.jobs.at(5).prompt, u"back slash joined"_s);
    QCOMPARE(result.jobs.at(5).seed, std::optional<quint64>(9));
}

void TestPromptImport::csvEmbeddedFields()
{
    const ImportResult result = importPromptFile(Test::dataPath(u"prompts/embedded.csv"_s));
    QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
    QCOMPARE(prompts(result),
             (QStringList{u"a cat, sitting"_s, u"line one\nline two"_s, u"crlf one\r\ncrlf two"_s, u"she said \"hi\""_s,
                          u"plain"_s}));
    QCOMPARE(result.jobs.at(0).negativePrompt, u"blurry"_s);
    QCOMPARE(result.jobs.at(0).seed, std::optional<quint64>(1));
    QCOMPARE(result.jobs.at(0).steps, std::optional<int>(20));
    QCOMPARE(result.jobs.at(1).seed, std::optional<quint64>(2));
    QVERIFY(!result.jobs.at(1).steps.has_value()); // empty cell: unset
    QCOMPARE(result.jobs.at(2).seed, std::optional<quint64>(4));
    QCOMPARE(result.jobs.at(3).seed, std::optional<quint64>(3));
    QCOMPARE(result.jobs.at(3).steps, std::optional<int>(30));
    QVERIFY(!result.jobs.at(4).seed.has_value());
    QCOMPARE(result.jobs.at(4).negativePrompt, QString());

    // A row after the multi-line fields is reported with its own line.
    QByteArray data;
    QFile file(Test::dataPath(u"prompts/embedded.csv"_s));
    QVERIFY(file.open(QIODevice::ReadOnly));
    data = file.readAll() + "bad,row,with,too,many,fields\r\n";
    const ImportResult extended = importPromptData(data, u"csv"_s, u"embedded.csv"_s);
    QCOMPARE(issueLines(extended), QList<int>{9});
    QCOMPARE(extended.jobs.size(), 5);
}

void TestPromptImport::jsonArray()
{
    const ImportResult result = importPromptFile(Test::dataPath(u"prompts/array.json"_s));
    QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
    QCOMPARE(result.jobs.size(), 3);
    const RenderSettings& first = result.jobs.at(0);
    QCOMPARE(first.prompt, u"a lighthouse"_s);
    QCOMPARE(first.negativePrompt, u"blurry"_s);
    QCOMPARE(first.seed, std::optional<quint64>(18446744073709551615ULL)); // exact, not via double
    QCOMPARE(first.steps, std::optional<int>(30));
    QCOMPARE(first.cfgScale, std::optional<double>(7.5));
    QCOMPARE(first.width, std::optional<int>(512));
    QCOMPARE(first.height, std::optional<int>(512));
    QCOMPARE(first.scheduler, std::optional<QString>(u"euler_a"_s));
    const RenderSettings& strings = result.jobs.at(1);
    QCOMPARE(strings.seed, std::optional<quint64>(12));
    QCOMPARE(strings.steps, std::optional<int>(20));
    QCOMPARE(strings.cfgScale, std::optional<double>(6.0));
    QCOMPARE(strings.width, std::optional<int>(768));
    QVERIFY(!strings.height.has_value()); // null: unset
    QCOMPARE(result.jobs.at(2).prompt, u"escapes é 🦊 \"q\" \\ \n"_s);
}

void TestPromptImport::invalidBytesNameTheirOffset()
{
    const ImportResult result = importPromptFile(Test::dataPath(u"prompts/latin1.txt"_s));
    QCOMPARE(result.issues.size(), 1);
    QVERIFY2(result.issues.first().message.contains(u"0xe9"_s), qPrintable(result.issues.first().message));
    QVERIFY2(result.issues.first().message.contains(u"offset 9"_s), qPrintable(result.issues.first().message));

    // Overlong forms and encoded surrogates are not UTF-8 either.
    for (const QByteArray& bad : {QByteArray("\xC0\xAF"), QByteArray("\xED\xA0\x80"), QByteArray("\xF4\x90\x80\x80"),
                                  QByteArray("ab\xE2\x82")}) {
        const ImportResult r = importPromptData("ok\n" + bad + "\nok2", u"txt"_s, u"bad.txt"_s);
        QCOMPARE(prompts(r), (QStringList{u"ok"_s, u"ok2"_s}));
        QCOMPARE(issueLines(r), QList<int>{2});
    }

    // UTF-16 with an odd number of bytes or an unpaired surrogate.
    const ImportResult odd = importPromptData(QByteArray("\xFF\xFE"
                                                         "a\0\n\0b\0c",
                                                         9),
                                              u"txt"_s, u"odd.txt"_s);
    QCOMPARE(prompts(odd), QStringList{u"a"_s});
    QCOMPARE(issueLines(odd), QList<int>{2});
    const ImportResult lone = importPromptData(QByteArray("\xFF\xFE"
                                                          "a\0\n\0\x00\xD8x\0",
                                                          10),
                                               u"txt"_s, u"lone.txt"_s);
    QCOMPARE(prompts(lone), QStringList{u"a"_s});
    QCOMPARE(issueLines(lone), QList<int>{2});
}

void TestPromptImport::batchExpansionUsesConsecutiveSeeds()
{
    const ImportResult result = importPromptFile(Test::dataPath(u"prompts/batch.txt"_s));
    QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
    QCOMPARE(result.jobs.size(), 2 * 3 + 2);
    for (int i = 0; i < 6; ++i) {
        QCOMPARE(result.jobs.at(i).prompt, u"batch"_s);
        QCOMPARE(result.jobs.at(i).seed, std::optional<quint64>(10 + i));
    }
    // Without a seed every image is left to get its own when the run dispatches it.
    QCOMPARE(result.jobs.at(6).prompt, u"random"_s);
    QVERIFY(!result.jobs.at(6).seed && !result.jobs.at(7).seed);

    // The last seeds of a batch must still fit in 64 bits.
    const ImportResult overflow = importText(u"--prompt x --seed 18446744073709551615 --batch_size 2"_s);
    QCOMPARE(overflow.jobs.size(), 0);
    QCOMPARE(issueFields(overflow), QStringList{u"seed"_s});
    const ImportResult last = importText(u"--prompt x --seed 18446744073709551614 --n_iter 2"_s);
    QCOMPARE(last.jobs.size(), 2);
    QCOMPARE(last.jobs.at(1).seed, std::optional<quint64>(18446744073709551615ULL));
}

void TestPromptImport::missingSeedsAreLeftForTheRun()
{
    for (const auto& [format, text] :
         {std::pair{u"txt"_s, u"a\nb\n"_s},
          std::pair{u"jsonl"_s, u"{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"seed\": -1}"_s},
          std::pair{u"csv"_s, u"prompt,seed\na,\nb,-1\n"_s}}) {
        const ImportResult result = importText(text, format);
        QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
        QCOMPARE(result.jobs.size(), 2);
        // Left unset ("-1" too): the run draws each one once, at its first dispatch (TestJobLedger).
        QVERIFY(!result.jobs.at(0).seed.has_value());
        QVERIFY(!result.jobs.at(1).seed.has_value());
    }
}

void TestPromptImport::samplerNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("scheduler"); ///< null: refused
    QTest::newRow("Euler a") << u"Euler a"_s << u"euler_a"_s;
    QTest::newRow("Euler") << u"Euler"_s << u"euler"_s;
    QTest::newRow("DDIM") << u"DDIM"_s << u"ddim"_s;
    QTest::newRow("PLMS") << u"PLMS"_s << u"pndm"_s;
    QTest::newRow("LMS") << u"LMS"_s << u"lms"_s;
    QTest::newRow("DPM++ 2M") << u"DPM++ 2M"_s << u"dpmpp_2m"_s;
    QTest::newRow("DPM++ 2M Karras") << u"DPM++ 2M Karras"_s << u"dpmpp_2m_karras"_s;
    QTest::newRow("lower case") << u"euler a"_s << u"euler_a"_s;
    QTest::newRow("A1111 alias") << u"k_euler_a"_s << u"euler_a"_s;
    QTest::newRow("Atelier name") << u"dpmpp_2m_karras"_s << u"dpmpp_2m_karras"_s;
    QTest::newRow("Atelier pndm") << u"pndm"_s << u"pndm"_s;
    QTest::newRow("unknown UniPC") << u"UniPC"_s << QString();
    QTest::newRow("unknown LMS Karras") << u"LMS Karras"_s << QString();
    // Named but empty: the model's own sampler (the queue store writes the window's "Model default" so).
    QTest::newRow("empty") << QString() << u""_s;
}

void TestPromptImport::samplerNames()
{
    QFETCH(QString, name);
    QFETCH(QString, scheduler);
    const ImportResult result = importText(u"--prompt x --sampler_name '%1'"_s.arg(name));
    if (scheduler.isNull()) {
        QCOMPARE(result.jobs.size(), 0);
        QCOMPARE(issueFields(result), QStringList{u"sampler_name"_s});
    } else {
        QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
        QCOMPARE(result.jobs.value(0).scheduler, std::optional<QString>(scheduler));
    }
    const ImportResult json = importText(u"[{\"prompt\": \"x\", \"sampler_name\": \"%1\"}]"_s.arg(name), u"json"_s);
    QCOMPARE(json.jobs.size(), scheduler.isNull() ? 0 : 1);
}

void TestPromptImport::values_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("badField"); // empty: the record is valid
    QTest::addColumn<int>("line");

    auto row = [](const char* name, const QString& format, const QString& text, const QString& badField, int line = 1) {
        QTest::newRow(name) << format << text << badField << line;
    };
    const QString txt = u"txt"_s;
    const QString json = u"json"_s;
    const QString jsonl = u"jsonl"_s;
    const QString csv = u"csv"_s;
    row("steps 1e9 txt", txt, u"--prompt x --steps 1e9"_s, u"steps"_s);
    row("steps 1e9 jsonl", jsonl, u"{\"prompt\": \"x\", \"steps\": 1e9}"_s, u"steps"_s);
    row("steps 1e9 string", jsonl, u"{\"prompt\": \"x\", \"steps\": \"1e9\"}"_s, u"steps"_s);
    row("steps 0", txt, u"--prompt x --steps 0"_s, u"steps"_s);
    row("steps 151", txt, u"--prompt x --steps 151"_s, u"steps"_s);
    row("steps 1000", txt, u"--prompt x --steps 1000"_s, u"steps"_s);
    row("steps 2.5", txt, u"--prompt x --steps 2.5"_s, u"steps"_s);
    row("steps huge", txt, u"--prompt x --steps 99999999999999999999999"_s, u"steps"_s);
    row("steps word", txt, u"--prompt x --steps many"_s, u"steps"_s);
    row("steps 150", txt, u"--prompt x --steps 150"_s, QString());
    row("steps 1", txt, u"--prompt x --steps 1"_s, QString());
    row("steps 20.0", jsonl, u"{\"prompt\": \"x\", \"steps\": 20.0}"_s, QString());
    row("clip skip 0", txt, u"--prompt x --clip_skip 0"_s, u"clip_skip"_s);
    row("clip skip 13", jsonl, u"{\"prompt\": \"x\", \"clip_skip\": 13}"_s, u"clip_skip"_s);
    row("clip skip word", csv, u"prompt,clip_skip\nx,two"_s, u"clip_skip"_s, 2);
    row("clip skip 2", txt, u"--prompt x --clip_skip 2"_s, QString());
    row("clip skip 12", jsonl, u"{\"prompt\": \"x\", \"clip_skip\": 12}"_s, QString());
    row("strength 0", txt, u"--prompt x --denoising_strength 0"_s, u"denoising_strength"_s);
    row("strength 1.5", jsonl, u"{\"prompt\": \"x\", \"denoising_strength\": 1.5}"_s, u"denoising_strength"_s);
    row("strength 0.35", jsonl, u"{\"prompt\": \"x\", \"denoising_strength\": 0.35}"_s, QString());
    row("hr_scale 8", txt, u"--prompt x --hr_scale 8"_s, u"hr_scale"_s);
    row("hr_scale 1.3 from 512", txt, u"--prompt x --width 512 --height 512 --hr_scale 1.3"_s, u"hr_scale"_s);
    row("hr_scale 1.5", txt, u"--prompt x --width 512 --height 512 --hr_scale 1.5"_s, QString());
    row("enable_hr word", jsonl, u"{\"prompt\": \"x\", \"enable_hr\": \"yes\"}"_s, u"enable_hr"_s);
    row("enable_hr true", jsonl, u"{\"prompt\": \"x\", \"enable_hr\": true}"_s, QString());
    row("hr steps -1", csv, u"prompt,hr_second_pass_steps\nx,-1"_s, u"hr_second_pass_steps"_s, 2);
    row("hr steps 0", csv, u"prompt,hr_second_pass_steps\nx,0"_s, QString());
    row("hr_upscaler ESRGAN", jsonl, u"{\"prompt\": \"x\", \"hr_upscaler\": \"ESRGAN_4x\"}"_s, u"hr_upscaler"_s);
    row("hr_upscaler number", jsonl, u"{\"prompt\": \"x\", \"hr_upscaler\": 4}"_s, u"hr_upscaler"_s);
    row("init image and hires", jsonl, u"{\"prompt\": \"x\", \"init_image\": \"/a.png\", \"enable_hr\": true}"_s,
        u"enable_hr"_s);
    row("relative init image in memory", txt, u"--prompt x --init_image a.png"_s, u"init_image"_s);
    row("steps bool", jsonl, u"{\"prompt\": \"x\", \"steps\": true}"_s, u"steps"_s);
    row("steps array", jsonl, u"{\"prompt\": \"x\", \"steps\": [20]}"_s, u"steps"_s);
    row("cfg nan", txt, u"--prompt x --cfg_scale nan"_s, u"cfg_scale"_s);
    row("cfg inf", txt, u"--prompt x --cfg_scale inf"_s, u"cfg_scale"_s);
    row("cfg negative", txt, u"--prompt x --cfg_scale -1"_s, u"cfg_scale"_s);
    row("cfg 30.5", txt, u"--prompt x --cfg_scale 30.5"_s, u"cfg_scale"_s);
    row("cfg 100", jsonl, u"{\"prompt\": \"x\", \"cfg_scale\": 100}"_s, u"cfg_scale"_s);
    row("cfg 0", txt, u"--prompt x --cfg_scale 0"_s, QString());
    row("cfg 30", jsonl, u"{\"prompt\": \"x\", \"cfg_scale\": 30}"_s, QString());
    row("cfg 7.5 string", jsonl, u"{\"prompt\": \"x\", \"cfg_scale\": \"7.5\"}"_s, QString());
    row("width 513", txt, u"--prompt x --width 513"_s, u"width"_s);
    row("width 0", txt, u"--prompt x --width 0"_s, u"width"_s);
    row("width 8200", txt, u"--prompt x --width 8200"_s, u"width"_s);
    row("width 8192", txt, u"--prompt x --width 8192"_s, u"width"_s);
    row("width 2056", txt, u"--prompt x --width 2056"_s, u"width"_s);
    row("width 2048", txt, u"--prompt x --width 2048"_s, QString());
    row("width 2048.0", jsonl, u"{\"prompt\": \"x\", \"width\": 2048.0}"_s, QString());
    row("height 8", txt, u"--prompt x --height 8"_s, u"height"_s);
    row("height 56", txt, u"--prompt x --height 56"_s, u"height"_s);
    row("height 64", txt, u"--prompt x --height 64"_s, QString());
    row("height -8", txt, u"--prompt x --height -8"_s, u"height"_s);
    row("seed -1", txt, u"--prompt x --seed -1"_s, QString());
    row("seed max", txt, u"--prompt x --seed 18446744073709551615"_s, QString());
    row("seed max + 1", txt, u"--prompt x --seed 18446744073709551616"_s, u"seed"_s);
    row("seed -2", txt, u"--prompt x --seed -2"_s, u"seed"_s);
    row("seed word", txt, u"--prompt x --seed abc"_s, u"seed"_s);
    row("seed float", jsonl, u"{\"prompt\": \"x\", \"seed\": 1.5}"_s, u"seed"_s);
    row("batch_size 0", txt, u"--prompt x --batch_size 0"_s, u"batch_size"_s);
    row("n_iter 1001", txt, u"--prompt x --n_iter 1001"_s, u"n_iter"_s);
    const QString limit = QString(RenderLimits::MaxPromptBytes, u'a');
    row("prompt at the byte limit", jsonl, u"{\"prompt\": \"%1\"}"_s.arg(limit), QString());
    row("prompt a byte over", jsonl, u"{\"prompt\": \"%1b\"}"_s.arg(limit), u"prompt"_s);
    // 'é' is 2 bytes of UTF-8 but one character: the limit counts bytes.
    const QString accents = QString(RenderLimits::MaxPromptBytes / 2, u'é');
    row("two-byte prompt at the limit", jsonl, u"{\"prompt\": \"%1\"}"_s.arg(accents), QString());
    row("two-byte prompt over", txt, u"--prompt x%1"_s.arg(accents), u"prompt"_s);
    row("negative a byte over", jsonl, u"{\"prompt\": \"x\", \"negative_prompt\": \"%1b\"}"_s.arg(limit),
        u"negative_prompt"_s);
    row("plain line over", txt, limit + u"b"_s, u"prompt"_s);
    row("no prompt", txt, u"--seed 5 --steps 20"_s, u"prompt"_s);
    row("empty prompt", txt, u"--prompt '' --seed 5"_s, u"prompt"_s);
    row("blank JSON prompt", jsonl, u"{\"prompt\": \"  \"}"_s, u"prompt"_s);
    row("null JSON prompt", jsonl, u"{\"prompt\": null}"_s, u"prompt"_s);
    row("numeric JSON prompt", jsonl, u"{\"prompt\": 42}"_s, u"prompt"_s);
    row("NUL escape in prompt", jsonl, u"{\"prompt\": \"a\\u0000b\"}"_s, u"prompt"_s);
    row("empty CSV prompt", csv, u"prompt,seed\n,5\n"_s, u"prompt"_s, 2);
    row("duplicate option", txt, u"--prompt a --prompt b"_s, u"prompt"_s);
    row("option without value", txt, u"--prompt x --seed"_s, u"seed"_s);
    row("stray word", txt, u"--seed 5 stray --prompt x"_s, QString(), -1);
    row("unknown JSON key", jsonl, u"{\"prompt\": \"x\", \"outpath_samples\": \"/tmp\"}"_s, u"outpath_samples"_s);
    row("case matters", jsonl, u"{\"Prompt\": \"x\"}"_s, u"Prompt"_s);
    row("unknown CSV column", csv, u"prompt,styles\nx,y\n"_s, u"styles"_s);
    row("no CSV prompt column", csv, u"seed\n5\n"_s, u"prompt"_s);
    row("JSON element not an object", json, u"[\n\"y\"\n]"_s, QString(), -2);
    row("JSONL line not an object", jsonl, u"[1]"_s, QString(), -1);
    row("JSON lone surrogate escape", jsonl, u"{\"prompt\": \"\\ud800\"}"_s, QString(), -1);
    row("JSON raw control character", jsonl, u"{\"prompt\": \"a\tb\"}"_s, QString(), -1);
    row("JSON leading comma", json, u"[,{\"prompt\": \"x\"}]"_s, QString(), -1);
    row("JSON trailing text", json, u"[] x"_s, QString(), -1);
    row("JSON deep nesting", json, u"[{\"prompt\": "_s + QString(200, u'[') + QString(200, u']') + u"}]"_s, QString(),
        -1);
}

// A valid record imports one job and no issue; an invalid one imports nothing and reports one issue naming
// badField at line (a negative line: an issue not tied to a field, at line -line).
void TestPromptImport::values()
{
    QFETCH(QString, format);
    QFETCH(QString, text);
    QFETCH(QString, badField);
    QFETCH(int, line);
    const ImportResult result = importText(text, format);
    if (badField.isEmpty() && line > 0) {
        QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
        QCOMPARE(result.jobs.size(), 1);
        return;
    }
    QCOMPARE(result.jobs.size(), 0);
    QVERIFY2(!result.issues.isEmpty(), "expected an issue");
    const ImportIssue& issue = result.issues.first();
    QCOMPARE(issue.line, qsizetype(std::abs(line)));
    QCOMPARE(issue.field, badField);
    if (!badField.isEmpty()) {
        QVERIFY2(issue.message.contains(badField), qPrintable(issue.message));
    }
}

// The image-to-image, hires-fix and VAE keys as a file gives them, and what each item holds.
void TestPromptImport::imageToImageHiresAndVae()
{
    ImportOptions options;
    options.baseFolder = u"/art/prompts"_s;
    const ImportResult result = importText(u"--prompt a --init_image ../init/fox.png --denoising_strength 0.4\n"
                                           "--prompt b --enable_hr true\n"
                                           "--prompt c --enable_hr false --hr_scale 2\n"
                                           "--prompt d --hr_scale 1.5 --hr_second_pass_steps 12 --hr_upscaler lanczos\n"
                                           "--prompt e --sd_vae vae-ft-mse-840000-ema-pruned.safetensors\n"
                                           "--prompt f --sd_vae Automatic\n"
                                           "--prompt g --init_image /abs/owl.png\n"_s,
                                           u"txt"_s, options);
    QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
    QCOMPARE(result.jobs.size(), 7);
    QCOMPARE(result.jobs[0].initImage, std::optional<QString>(u"/art/init/fox.png"_s));
    QCOMPARE(result.jobs[0].denoisingStrength, std::optional<double>(0.4));
    QCOMPARE(result.jobs[1].hiresScale, std::optional<double>(RenderDefaults::HiresScale)); // A1111's default
    QCOMPARE(result.jobs[2].hiresScale, std::optional<double>(1.0)); // enable_hr false wins: off
    QVERIFY(!result.jobs[2].hiresEnabled());
    QCOMPARE(result.jobs[3].hiresScale, std::optional<double>(1.5));
    QCOMPARE(result.jobs[3].hiresSteps, std::optional<int>(12));
    QCOMPARE(result.jobs[3].hiresUpscaler, std::optional<QString>(u"Lanczos"_s));
    QCOMPARE(result.jobs[4].vae, std::optional<QString>(u"vae-ft-mse-840000-ema-pruned.safetensors"_s));
    QCOMPARE(result.jobs[5].vae, std::optional<QString>(QString())); // the model's own
    QCOMPARE(result.jobs[6].initImage, std::optional<QString>(u"/abs/owl.png"_s));
    for (const RenderSettings& job : result.jobs) {
        QVERIFY(!job.clipSkip && !job.steps); // nothing else set
    }
}

void TestPromptImport::renderLimitMessages_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("issue");

    QTest::newRow("steps 0") << u"txt"_s << u"--prompt x --steps 0"_s
                             << u"inline.txt:1: --steps must be a whole number from 1 to 150, not \"0\""_s;
    QTest::newRow("steps 1e9 as written")
        << u"jsonl"_s << u"{\"prompt\": \"x\", \"steps\": 1e9}"_s
        << u"inline.jsonl:1: steps must be a whole number from 1 to 150, not \"1e9\""_s;
    QTest::newRow("steps word") << u"txt"_s << u"--prompt x --steps many"_s
                                << u"inline.txt:1: --steps must be a whole number from 1 to 150, not \"many\""_s;
    QTest::newRow("cfg nan") << u"txt"_s << u"--prompt x --cfg_scale nan"_s
                             << u"inline.txt:1: --cfg_scale must be a number from 0 to 30, not \"nan\""_s;
    QTest::newRow("width 100") << u"csv"_s << u"prompt,width\nx,100\n"_s
                               << u"inline.csv:2: width must be a whole number (a multiple of 8) from 64 to 2048, "
                                  "not \"100\""_s;
    QTest::newRow("prompt bytes") << u"jsonl"_s
                                  << u"{\"prompt\": \"%1\"}"_s.arg(QString(RenderLimits::MaxPromptBytes + 1, u'a'))
                                  << u"inline.jsonl:1: prompt must be at most 16384 bytes of UTF-8 (16 KiB), not 16385 "
                                     "bytes"_s;
    QTest::newRow("unknown sampler") << u"txt"_s << u"--prompt x --sampler_name UniPC"_s
                                     << u"inline.txt:1: unknown sampler \"UniPC\" in --sampler_name (known: Euler a, "
                                        "Euler, LMS, DDIM, PLMS, DPM++ 2M, DPM++ 2M Karras, or pndm, ddim, euler, "
                                        "euler_a, dpmpp_2m, dpmpp_2m_karras, lms)"_s;
}

// Every limit the importer applies is RenderLimits', worded by RenderChecks, with the file, line and field.
void TestPromptImport::renderLimitMessages()
{
    QFETCH(QString, format);
    QFETCH(QString, text);
    QFETCH(QString, issue);
    const ImportResult result = importText(text, format);
    QCOMPARE(result.jobs.size(), 0);
    QCOMPARE(result.issues.size(), 1);
    QCOMPARE(result.issues.first().toString(), issue);
}

void TestPromptImport::shellQuoting_data()
{
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("prompt"); // empty: the line is refused
    QTest::newRow("double quotes") << u"--prompt \"a b\""_s << u"a b"_s;
    QTest::newRow("single quotes keep backslashes") << u"--prompt 'a\\b'"_s << u"a\\b"_s;
    QTest::newRow("adjacent parts join") << u"--prompt a\"b c\"'d'"_s << u"ab cd"_s;
    QTest::newRow("backslash before other char in double quotes") << u"--prompt \"x\\y\""_s << u"x\\y"_s;
    QTest::newRow("escaped backslash in double quotes") << u"--prompt \"x\\\\y\""_s << u"x\\y"_s;
    QTest::newRow("escaped space") << u"--prompt x\\ y"_s << u"x y"_s;
    QTest::newRow("tabs separate words") << u"--prompt\tx\t\ty"_s << u"x y"_s;
    QTest::newRow("prompt value starting with --") << u"--prompt --flag-like text"_s << u"--flag-like text"_s;
    QTest::newRow("unclosed double quote") << u"--prompt \"x"_s << QString();
    QTest::newRow("unclosed single quote") << u"--prompt 'x"_s << QString();
    QTest::newRow("trailing backslash") << u"--prompt x\\"_s << QString();
    QTest::newRow("equals form is not an option") << u"--prompt=x"_s << QString();
}

void TestPromptImport::shellQuoting()
{
    QFETCH(QString, line);
    QFETCH(QString, prompt);
    const ImportResult result = importText(line + u"\nnext"_s);
    if (prompt.isEmpty()) {
        QCOMPARE(prompts(result), QStringList{u"next"_s});
        QCOMPARE(issueLines(result), QList<int>{1});
    } else {
        QVERIFY2(result.issues.isEmpty(), qPrintable(describe(result)));
        QCOMPARE(prompts(result), (QStringList{prompt, u"next"_s}));
    }
}

void TestPromptImport::overlongLine()
{
    ImportOptions options;
    const QByteArray overLimit(options.maxLineBytes + 1, 'y');
    for (const QString& format : {u"txt"_s, u"jsonl"_s}) {
        const bool txt = format == u"txt";
        const auto record
            = [&](const QByteArray& prompt) { return txt ? "--prompt " + prompt : "{\"prompt\":\"" + prompt + "\"}"; };
        // Spaces pad a record to @p length bytes while its prompt stays below the prompt's own (smaller) limit.
        const auto padded = [&](qsizetype length) {
            const QByteArray head = txt ? "--prompt" : "{\"prompt\":";
            const QByteArray tail = txt ? "long" : "\"long\"}";
            return head + QByteArray(length - head.size() - tail.size(), ' ') + tail;
        };
        const QByteArray data = record("ok") + '\n' + padded(options.maxLineBytes + 1) + "\r\n"
            + padded(options.maxLineBytes) + '\n' + record("ok2");
        const ImportResult result = importPromptData(data, format, u"long"_s);
        QCOMPARE(result.jobs.size(), 3);
        QCOMPARE(issueLines(result), QList<int>{2});
        QVERIFY(result.issues.first().message.contains(u"64 KiB"_s));
    }
    // In CSV a record spanning an over-long line is skipped as a whole.
    const QByteArray csv = "prompt,seed\n\"a\n" + overLimit + "\",1\nb,2\n";
    const ImportResult result = importPromptData(csv, u"csv"_s, u"long.csv"_s);
    QCOMPARE(prompts(result), QStringList{u"b"_s});
    QCOMPARE(issueLines(result), QList<int>{3});
}

void TestPromptImport::minifiedJsonHasNoLineLimit()
{
    // A whole array on one line (as json.dumps writes it) is fine; each value is limited instead.
    const ImportOptions options;
    QString json = u"["_s;
    for (int i = 0; i < 5000; ++i) {
        json += u"{\"prompt\": \"prompt number %1\", \"seed\": %1},"_s.arg(i);
    }
    json += u"{\"prompt\": \"%1\"}, {\"prompt\": \"last\"}]"_s.arg(QString(options.maxLineBytes + 1, u'x'));
    QVERIFY(json.size() > 2 * options.maxLineBytes);
    const ImportResult result = importText(json, u"json"_s);
    QCOMPARE(result.jobs.size(), 5001);
    QCOMPARE(result.jobs.at(4999).seed, std::optional<quint64>(4999));
    QCOMPARE(result.jobs.last().prompt, u"last"_s);
    QCOMPARE(issueLines(result), QList<int>{1});
    QCOMPARE(issueFields(result), QStringList{u"prompt"_s});
}

void TestPromptImport::oversizedFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const ImportOptions options;
    QByteArray data;
    data.reserve(options.maxFileBytes + 2);
    while (data.size() <= options.maxFileBytes) {
        data.append("a prompt\n");
    }
    const QString path = dir.filePath(u"big.txt"_s);
    QVERIFY(writeFile(path, data));
    const ImportResult result = importPromptFile(path);
    QCOMPARE(result.jobs.size(), 0);
    QCOMPARE(issueLines(result), QList<int>{0});
    QVERIFY2(result.issues.first().message.contains(u"16 MiB"_s), qPrintable(result.issues.first().message));
    QCOMPARE(importPromptData(data, u"txt"_s, u"big.txt"_s).jobs.size(), 0);

    // Exactly at the limit is fine (with a limit lowered to keep the test quick).
    ImportOptions small;
    small.maxFileBytes = 90;
    QCOMPARE(importPromptData(data.left(90), u"txt"_s, u"ok.txt"_s, small).jobs.size(), 10);
    QCOMPARE(importPromptData(data.left(91), u"txt"_s, u"big.txt"_s, small).jobs.size(), 0);
}

void TestPromptImport::devZeroIsRefusedQuickly()
{
    if (!QFile::exists(u"/dev/zero"_s)) {
        QSKIP("no /dev/zero here");
    }
    QElapsedTimer timer;
    timer.start();
    const ImportResult result = importPromptFile(u"/dev/zero"_s, {}, u"txt"_s);
    QVERIFY2(timer.elapsed() < 10000, qPrintable(u"took %1 ms"_s.arg(timer.elapsed())));
    QCOMPARE(result.jobs.size(), 0);
    QCOMPARE(issueLines(result), QList<int>{0});

    // Without a format the extension decides, and /dev/zero has none.
    const ImportResult noFormat = importPromptFile(u"/dev/zero"_s);
    QCOMPARE(noFormat.jobs.size(), 0);
    QCOMPARE(noFormat.issues.size(), 1);
}

void TestPromptImport::maxPrompts()
{
    ImportOptions options;
    options.maxPrompts = 3;
    const ImportResult result = importText(u"a\nb\nc\nd\ne\n"_s, u"txt"_s, options);
    QCOMPARE(prompts(result), (QStringList{u"a"_s, u"b"_s, u"c"_s}));
    QCOMPARE(issueLines(result), QList<int>{4});

    // A huge batch is refused before it is expanded.
    const ImportResult batch = importText(u"--prompt x --batch_size 1000 --n_iter 1000"_s);
    QCOMPARE(batch.jobs.size(), 0);
    QCOMPARE(issueLines(batch), QList<int>{1});
}

void TestPromptImport::maxIssues()
{
    QByteArray data;
    for (int i = 0; i < 5000; ++i) {
        data.append("caf\xE9\n");
    }
    data.append("fine\n");
    ImportOptions options;
    options.maxIssues = 10;
    const ImportResult result = importPromptData(data, u"txt"_s, u"junk.txt"_s, options);
    QCOMPARE(prompts(result), QStringList{u"fine"_s});
    QCOMPARE(result.issues.size(), 11);
    QCOMPARE(result.issues.last().line, qsizetype(0));
    QVERIFY2(result.issues.last().message.contains(u"4990"_s), qPrintable(result.issues.last().message));
}

void TestPromptImport::jsonSyntaxErrorKeepsEarlierElements()
{
    const QString text = u"[\n{\"prompt\": \"one\"},\n{\"prompt\": \"two\"},\n{\"prompt\": \"three\" \"seed\": 1},\n"
                         "{\"prompt\": \"four\"}\n]"_s;
    const ImportResult lenient = importText(text, u"json"_s);
    QCOMPARE(prompts(lenient), (QStringList{u"one"_s, u"two"_s}));
    QCOMPARE(issueLines(lenient), QList<int>{4});
    QVERIFY2(lenient.issues.first().message.contains(u"column 20"_s), qPrintable(lenient.issues.first().message));
    const ImportResult strictResult = importText(text, u"json"_s, strict());
    QVERIFY(strictResult.aborted);
    QVERIFY(strictResult.jobs.isEmpty());
    QCOMPARE(issueLines(strictResult), QList<int>{4});

    const ImportResult trailingComma = importText(u"[{\"prompt\": \"one\"},\n]"_s, u"json"_s);
    QCOMPARE(prompts(trailingComma), QStringList{u"one"_s});
    QCOMPARE(issueLines(trailingComma), QList<int>{2});

    const ImportResult truncated = importText(u"[{\"prompt\": \"one\"},\n{\"prompt\": \"tw"_s, u"json"_s);
    QCOMPARE(prompts(truncated), QStringList{u"one"_s});
    QCOMPARE(issueLines(truncated), QList<int>{2});
}

void TestPromptImport::fileNamesAndFormats()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString upper = dir.filePath(u"PROMPTS.TXT"_s);
    QVERIFY(writeFile(upper, "a cat\n"));
    QCOMPARE(prompts(importPromptFile(upper)), QStringList{u"a cat"_s});

    const QString jsonl = dir.filePath(u"prompts.JsonL"_s);
    QVERIFY(writeFile(jsonl, "{\"prompt\": \"a dog\"}\n"));
    QCOMPARE(prompts(importPromptFile(jsonl)), QStringList{u"a dog"_s});

    const QString unknown = dir.filePath(u"prompts.yaml"_s);
    QVERIFY(writeFile(unknown, "prompt: a cat\n"));
    const ImportResult wrongKind = importPromptFile(unknown);
    QCOMPARE(wrongKind.jobs.size(), 0);
    QCOMPARE(issueLines(wrongKind), QList<int>{0});
    QVERIFY(wrongKind.issues.first().message.contains(u".txt"_s));
    // The format argument overrides the extension.
    QCOMPARE(importPromptFile(unknown, {}, u"txt"_s).jobs.size(), 1);
    QCOMPARE(importPromptFile(upper, {}, u"xml"_s).jobs.size(), 0);
    QCOMPARE(importPromptData("x", u"xml"_s, u"x"_s).issues.size(), 1);

    const ImportResult missing = importPromptFile(dir.filePath(u"missing.txt"_s));
    QCOMPARE(missing.jobs.size(), 0);
    QCOMPARE(issueLines(missing), QList<int>{0});

    QVERIFY(QDir(dir.path()).mkdir(u"folder.txt"_s));
    const ImportResult folder = importPromptFile(dir.filePath(u"folder.txt"_s));
    QCOMPARE(folder.jobs.size(), 0);
    QCOMPARE(issueLines(folder), QList<int>{0});
}

void TestPromptImport::issueText()
{
    const QByteArray data = "first\nsecond\n--prompt x --outpath_samples /tmp/elsewhere\n";
    const ImportResult result = importPromptData(data, u"txt"_s, u"prompts.txt"_s);
    QCOMPARE(result.issues.size(), 1);
    QCOMPARE(result.issues.first().toString(), u"prompts.txt:3: unknown option --outpath_samples"_s);
    QCOMPARE(result.issues.first().field, u"outpath_samples"_s);

    const ImportResult empty = importPromptData({}, u"csv"_s, u"empty.csv"_s);
    QCOMPARE(empty.issues.size(), 1);
    QCOMPARE(empty.issues.first().toString(), u"empty.csv: the file contains no prompts"_s);
}

QTEST_GUILESS_MAIN(TestPromptImport)
#include "TestPromptImport.moc"
