// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <map>
#include <memory>
#include <thread>

#include "TestSupport.h"
#include "engine/ClipTokenizer.h"
#include "engine/EngineError.h"

using namespace Atelier::Engine;
using namespace Qt::StringLiterals;
using Ids = std::vector<std::int64_t>;

Q_DECLARE_METATYPE(Ids)

namespace
{
    Ids toIds(const QJsonArray& array)
    {
        Ids ids;
        for (const auto& value : array) {
            ids.push_back(value.toInteger());
        }
        return ids;
    }

    QString describe(const Ids& ids)
    {
        QStringList parts;
        for (const auto id : ids) {
            parts << QString::number(id);
        }
        return u"["_s + parts.join(u", "_s) + u"]"_s;
    }

    std::filesystem::path toPath(const QString& path)
    {
        return {path.toStdString()};
    }

    void writeFile(const QString& path, const QByteArray& contents)
    {
        QFile file(path);
        QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
        QCOMPARE(file.write(contents), contents.size());
    }

    /// Runs @p load, expecting an EngineError whose message contains every one of @p fragments.
    template <typename Load> void expectLoadError(Load load, const QStringList& fragments)
    {
        try {
            load();
        } catch (const EngineError& e) {
            const QString message = QString::fromUtf8(e.what());
            for (const auto& fragment : fragments) {
                QVERIFY2(message.contains(fragment), qPrintable(u"'%1' lacks '%2'"_s.arg(message, fragment)));
            }
            return;
        }
        QFAIL("no EngineError was thrown");
    }
} // namespace

class TestClipTokenizer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesTheGoldens_data();
    void matchesTheGoldens();
    void splitsLongPromptsIntoChunks();
    void keepsShortPromptsInOneChunk();
    void replacesInvalidUtf8();
    void findsSpecialTokensAfterNormalization();
    void isThreadSafe();
    void copiesShareTheVocabulary();
    void rejectsMissingFiles_data();
    void rejectsMissingFiles();
    void rejectsGarbledVocabulary_data();
    void rejectsGarbledVocabulary();
    void rejectsGarbledMerges_data();
    void rejectsGarbledMerges();

private:
    /// The tokenizer of a fixture folder, loaded once (vocab.json is 1 MB of JSON).
    const ClipTokenizer& tokenizer(const QString& fixture = u"tiny-sd"_s);
    /// A temporary copy of tiny-sd's tokenizer folder, for breaking one file at a time.
    std::unique_ptr<QTemporaryDir> copyOfTokenizerFolder();

    std::map<QString, ClipTokenizer> m_tokenizers;
};

const ClipTokenizer& TestClipTokenizer::tokenizer(const QString& fixture)
{
    auto found = m_tokenizers.find(fixture);
    if (found == m_tokenizers.end()) {
        const auto folder = toPath(Atelier::Test::fixturePath(fixture + u"/tokenizer"_s));
        found = m_tokenizers.emplace(fixture, ClipTokenizer::fromFolder(folder)).first;
    }
    return found->second;
}

std::unique_ptr<QTemporaryDir> TestClipTokenizer::copyOfTokenizerFolder()
{
    auto dir = std::make_unique<QTemporaryDir>();
    const QString source = Atelier::Test::fixturePath(u"tiny-sd/tokenizer"_s);
    for (const auto& name : {u"vocab.json"_s, u"merges.txt"_s}) {
        if (!QFile::copy(source + u'/' + name, dir->filePath(name))) {
            return nullptr;
        }
        QFile::setPermissions(dir->filePath(name), QFile::ReadOwner | QFile::WriteOwner);
    }
    return dir;
}

void TestClipTokenizer::matchesTheGoldens_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<Ids>("inputIds");
    QTest::addColumn<Ids>("untruncatedIds");

    for (const auto& fixture : {u"tiny-sd"_s, u"tiny-sd15"_s}) {
        const QString path = Atelier::Test::fixturePath(fixture + u"/goldens/tokenizer.json"_s);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            QFAIL(qPrintable(u"cannot open "_s + path));
        }
        const QJsonArray cases = QJsonDocument::fromJson(file.readAll()).object().value(u"cases"_s).toArray();
        if (cases.size() != 41) {
            QFAIL(qPrintable(u"expected 41 cases in "_s + path));
        }
        for (const auto& value : cases) {
            const QJsonObject entry = value.toObject();
            const QString prompt = entry.value(u"prompt"_s).toString();
            QTest::addRow("%s #%d", qPrintable(fixture), entry.value(u"id"_s).toInt())
                << fixture << prompt << toIds(entry.value(u"input_ids"_s).toArray())
                << toIds(entry.value(u"untruncated_ids"_s).toArray());
        }
    }
}

void TestClipTokenizer::matchesTheGoldens()
{
    QFETCH(QString, fixture);
    QFETCH(QString, prompt);
    QFETCH(Ids, inputIds);
    QFETCH(Ids, untruncatedIds);

    const QByteArray utf8 = prompt.toUtf8();
    const auto& clip = tokenizer(fixture);

    const Ids padded = clip.encodePadded(utf8.toStdString());
    QVERIFY2(padded == inputIds, qPrintable(describe(padded) + u" != "_s + describe(inputIds)));

    // The untruncated golden is `tokenizer(prompt, padding="longest")`: the ids with BOS in front, EOS behind.
    QVERIFY(untruncatedIds.size() >= 2);
    QCOMPARE(untruncatedIds.front(), ClipTokenizer::BosId);
    QCOMPARE(untruncatedIds.back(), ClipTokenizer::EosId);
    const Ids expected(untruncatedIds.begin() + 1, untruncatedIds.end() - 1);
    const Ids ids = clip.encode(utf8.toStdString());
    QVERIFY2(ids == expected, qPrintable(describe(ids) + u" != "_s + describe(expected)));
}

void TestClipTokenizer::splitsLongPromptsIntoChunks()
{
    const auto& clip = tokenizer();
    // 100 words of one token each: 75 in the first chunk, 25 in the second.
    std::string prompt;
    for (int i = 0; i < 100; ++i) {
        prompt += i % 2 == 0 ? "cat " : "dog ";
    }
    const Ids ids = clip.encode(prompt);
    QCOMPARE(ids.size(), std::size_t{100});

    const auto chunks = clip.encodeChunks(prompt);
    QCOMPARE(chunks.size(), std::size_t{2});
    Ids concatenated;
    const std::array<std::size_t, 2> sizes = {75, 25};
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const auto& chunk = chunks.at(c);
        const std::size_t size = sizes.at(c);
        QCOMPARE(chunk.size(), std::size_t{ClipTokenizer::ContextLength});
        QCOMPARE(chunk.front(), ClipTokenizer::BosId);
        // EOS right after the ids, then EOS as padding.
        for (std::size_t i = 1 + size; i < chunk.size(); ++i) {
            QCOMPARE(chunk.at(i), ClipTokenizer::EosId);
        }
        concatenated.insert(concatenated.end(), chunk.begin() + 1,
                            chunk.begin() + 1 + static_cast<std::ptrdiff_t>(size));
    }
    QVERIFY(concatenated == ids);
    // The first chunk is exactly what the truncating pipeline sees.
    QVERIFY(chunks.front() == clip.encodePadded(prompt));
}

void TestClipTokenizer::keepsShortPromptsInOneChunk()
{
    const auto& clip = tokenizer();
    const auto empty = clip.encodeChunks("");
    QCOMPARE(empty.size(), std::size_t{1});
    QVERIFY(empty.front() == clip.encodePadded(""));
    QCOMPARE(empty.front()[0], ClipTokenizer::BosId);
    QCOMPARE(empty.front()[1], ClipTokenizer::EosId);

    std::string exactlyOneChunk;
    for (int i = 0; i < 75; ++i) {
        exactlyOneChunk += "cat ";
    }
    const auto one = clip.encodeChunks(exactlyOneChunk);
    QCOMPARE(one.size(), std::size_t{1});
    QCOMPARE(one.front()[76], ClipTokenizer::EosId);
    QCOMPARE(clip.encodeChunks(exactlyOneChunk + "cat").size(), std::size_t{2});
}

void TestClipTokenizer::replacesInvalidUtf8()
{
    const auto& clip = tokenizer();
    // Each ill-formed sequence is one U+FFFD, as in Python's bytes.decode("utf-8", "replace"); HF's tokenizer gives
    // U+FFFD alone the single id 39802 ("ï¿½</w>").
    const Ids replacement = clip.encode("\xEF\xBF\xBD");
    QVERIFY(replacement == Ids{39802});
    QVERIFY(clip.encode("a\xFF"
                        "b")
            == clip.encode("a\xEF\xBF\xBD"
                           "b"));
    // A truncated sequence at the end, an overlong encoding, a lone surrogate and a stray continuation byte.
    QVERIFY(clip.encode("caf\xC3") == clip.encode("caf\xEF\xBF\xBD"));
    QVERIFY(clip.encode("\xC0\xAF") == clip.encode("\xEF\xBF\xBD\xEF\xBF\xBD"));
    QVERIFY(clip.encode("x\xED\xA0\x80y") == clip.encode("x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy"));
    QVERIFY(clip.encode("\x80") == replacement);
    // Embedded NUL bytes are text too: byte 0 is the byte-level symbol Ā.
    QVERIFY(clip.encode(std::string_view("\0a", 2)) == (Ids{444, 320}));
    QCOMPARE(clip.encodePadded("\xFF\xFE\xFD").size(), std::size_t{ClipTokenizer::ContextLength});
}

void TestClipTokenizer::findsSpecialTokensAfterNormalization()
{
    // Checked against transformers 5.12.1: the special tokens are matched in the lowercased text, even inside a run
    // of punctuation that would otherwise be one word; a combining mark that composes with '>' hides them.
    const auto& clip = tokenizer();
    QVERIFY(clip.encode("<|ENDOFTEXT|>x") == (Ids{49407, 343}));
    QVERIFY(clip.encode("!<|startoftext|>!") == (Ids{256, 49406, 256}));
    QVERIFY(clip.encode("<|endoftext|>\xCC\xB8") == (Ids{27, 347, 40786, 4160, 91, 22684, 363}));
    QVERIFY(clip.encode("<| endoftext |>") == (Ids{27, 347, 40786, 4160, 91, 285}));
    // Lowercasing is per character (no final sigma) and uses the root locale.
    QVERIFY(clip.encode("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3") == (Ids{138, 123, 138, 112, 138, 123, 139, 481}));
}

void TestClipTokenizer::isThreadSafe()
{
    // A fresh tokenizer, so that the threads race to fill its empty word cache.
    const auto folder = toPath(Atelier::Test::fixturePath(u"tiny-sd/tokenizer"_s));
    const ClipTokenizer clip = ClipTokenizer::fromFolder(folder);
    std::vector<std::string> prompts;
    for (int i = 0; i < 200; ++i) {
        prompts.push_back("a detailed painting of castle" + std::to_string(i % 13) + " ünïcödé zebra"
                          + std::to_string(i));
    }
    std::vector<std::vector<Ids>> results(4);
    std::vector<std::thread> threads;
    for (auto& result : results) {
        threads.emplace_back([&clip, &prompts, &result] {
            for (const auto& prompt : prompts) {
                result.push_back(clip.encode(prompt));
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    const ClipTokenizer reference = ClipTokenizer::fromFolder(folder);
    for (const auto& result : results) {
        QCOMPARE(result.size(), prompts.size());
        for (std::size_t i = 0; i < prompts.size(); ++i) {
            QVERIFY2(result[i] == reference.encode(prompts[i]), prompts[i].c_str());
        }
    }
}

void TestClipTokenizer::copiesShareTheVocabulary()
{
    const ClipTokenizer copy = tokenizer();
    QVERIFY(copy.encode("a photo of a cat") == (Ids{320, 1125, 539, 320, 2368}));
}

void TestClipTokenizer::rejectsMissingFiles_data()
{
    QTest::addColumn<QString>("missing");
    QTest::newRow("vocab.json") << u"vocab.json"_s;
    QTest::newRow("merges.txt") << u"merges.txt"_s;
}

void TestClipTokenizer::rejectsMissingFiles()
{
    QFETCH(QString, missing);
    const auto dir = copyOfTokenizerFolder();
    QVERIFY(dir && dir->isValid());
    QVERIFY(QFile::remove(dir->filePath(missing)));
    expectLoadError([&] { ClipTokenizer::fromFolder(toPath(dir->path())); }, {dir->filePath(missing)});
}

void TestClipTokenizer::rejectsGarbledVocabulary_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("fragment");
    QTest::newRow("empty file") << QByteArray() << u"not valid JSON"_s;
    QTest::newRow("truncated") << QByteArray(R"({"!": 0, "\"": 1, "#)") << u"not valid JSON"_s;
    QTest::newRow("array") << QByteArray("[1, 2, 3]") << u"not a JSON object"_s;
    QTest::newRow("string id") << QByteArray(R"({"a": "1"})") << u"\"a\""_s;
    QTest::newRow("negative id") << QByteArray(R"({"a": -1})") << u"\"a\""_s;
    QTest::newRow("no special tokens") << QByteArray(R"({"a": 0})") << u"<|startoftext|>"_s;
    QTest::newRow("wrong special id") << QByteArray(R"({"<|startoftext|>": 49406, "<|endoftext|>": 0})")
                                      << u"<|endoftext|>"_s;
}

void TestClipTokenizer::rejectsGarbledVocabulary()
{
    QFETCH(QByteArray, contents);
    QFETCH(QString, fragment);
    const auto dir = copyOfTokenizerFolder();
    QVERIFY(dir && dir->isValid());
    writeFile(dir->filePath(u"vocab.json"_s), contents);
    expectLoadError([&] { ClipTokenizer::fromFolder(toPath(dir->path())); },
                    {dir->filePath(u"vocab.json"_s), fragment});
}

void TestClipTokenizer::rejectsGarbledMerges_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("fragment");
    QTest::newRow("empty file") << QByteArray() << u"no merges"_s;
    QTest::newRow("header only") << QByteArray("#version: 0.2\n") << u"no merges"_s;
    QTest::newRow("three tokens") << QByteArray("#version: 0.2\ni n\nt h e\n") << u"merges.txt:3"_s;
    QTest::newRow("one token") << QByteArray("#version: 0.2\ni n\nthe\n") << u"merges.txt:3"_s;
    QTest::newRow("blank line") << QByteArray("#version: 0.2\ni n\n\nt h\n") << u"merges.txt:3"_s;
    QTest::newRow("unknown token") << QByteArray("#version: 0.2\ni n\nt h\nqqqqzzzz h\n") << u"merges.txt:4"_s;
}

void TestClipTokenizer::rejectsGarbledMerges()
{
    QFETCH(QByteArray, contents);
    QFETCH(QString, fragment);
    const auto dir = copyOfTokenizerFolder();
    QVERIFY(dir && dir->isValid());
    writeFile(dir->filePath(u"merges.txt"_s), contents);
    expectLoadError([&] { ClipTokenizer::fromFolder(toPath(dir->path())); },
                    {dir->filePath(u"merges.txt"_s), fragment});
}

QTEST_GUILESS_MAIN(TestClipTokenizer)
#include "TestClipTokenizer.moc"
