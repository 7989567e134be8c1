// SPDX-License-Identifier: GPL-3.0-or-later
// How a prompt reaches CLIP: A1111's attention syntax, runs tokenized alone, chunks of 75 ids, BREAK, and the comma
// backtrack, against tests/data/prompt-syntax/chunks.json (make_goldens.py, with Hugging Face's CLIPTokenizer).
// Ids and weights are compared exactly: both are integers or the same double products.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "TestSupport.h"
#include "engine/ClipTokenizer.h"
#include "engine/PromptChunks.h"

using namespace Atelier;
using namespace Atelier::Engine;
using namespace Qt::StringLiterals;

class TestPromptChunks final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void matchReference_data();
    void matchReference();
    void aShortPlainPromptIsWhatThePipelineFedBefore_data();
    void aShortPlainPromptIsWhatThePipelineFedBefore();
    void backtrackZeroCutsWhereTheChunkFills();

private:
    std::optional<ClipTokenizer> m_tokenizer;
};

void TestPromptChunks::initTestCase()
{
    m_tokenizer
        = ClipTokenizer::fromFolder(Test::sourcePath(u"resources/models/atelier-tiny/tokenizer"_s).toStdString());
}

void TestPromptChunks::matchReference_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QJsonArray>("expected");
    QFile file(Test::dataPath(u"prompt-syntax/chunks.json"_s));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    const QJsonArray cases = QJsonDocument::fromJson(file.readAll()).object().value(u"cases"_s).toArray();
    QVERIFY(cases.size() >= 60);
    int index = 0;
    for (const QJsonValue& value : cases) {
        const QString prompt = value[u"prompt"_s].toString();
        QTest::addRow("%d: %s", index++, qPrintable(prompt.left(40))) << prompt << value[u"chunks"_s].toArray();
    }
}

void TestPromptChunks::matchReference()
{
    QFETCH(QString, prompt);
    QFETCH(QJsonArray, expected);
    const std::vector<PromptChunk> chunks = promptChunks(*m_tokenizer, prompt.toStdString());
    QCOMPARE(chunks.size(), std::size_t(expected.size()));
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const QJsonArray ids = expected.at(qsizetype(c))[u"ids"_s].toArray();
        const QJsonArray weights = expected.at(qsizetype(c))[u"weights"_s].toArray();
        QCOMPARE(ids.size(), qsizetype(ClipTokenizer::ContextLength));
        for (int i = 0; i < ClipTokenizer::ContextLength; ++i) {
            QVERIFY2(chunks[c].ids[std::size_t(i)] == ids.at(i).toInteger(),
                     qPrintable(u"chunk %1, id %2: %3, want %4"_s.arg(c)
                                    .arg(i)
                                    .arg(chunks[c].ids[std::size_t(i)])
                                    .arg(ids.at(i).toInteger())));
            QVERIFY2(chunks[c].weights[std::size_t(i)] == weights.at(i).toDouble(),
                     qPrintable(u"chunk %1, weight %2: %3, want %4"_s.arg(c)
                                    .arg(i)
                                    .arg(chunks[c].weights[std::size_t(i)], 0, 'g', 17)
                                    .arg(weights.at(i).toDouble(), 0, 'g', 17)));
        }
    }
}

void TestPromptChunks::aShortPlainPromptIsWhatThePipelineFedBefore_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::newRow("empty") << QString();
    QTest::newRow("words") << u"a lighthouse at dusk, oil painting"_s;
    QTest::newRow("unicode") << u"東京の夜景, café au lait"_s;
}

void TestPromptChunks::aShortPlainPromptIsWhatThePipelineFedBefore()
{
    // A prompt without syntax that fits one chunk keeps today's ids, every weight 1: its image does not change.
    QFETCH(QString, prompt);
    const std::vector<PromptChunk> chunks = promptChunks(*m_tokenizer, prompt.toStdString());
    QCOMPARE(chunks.size(), std::size_t(1));
    const std::vector<std::int64_t> padded = m_tokenizer->encodePadded(prompt.toStdString());
    QVERIFY(std::equal(padded.begin(), padded.end(), chunks.front().ids.begin(), chunks.front().ids.end()));
    QVERIFY(chunks.front().isPlain());
}

void TestPromptChunks::backtrackZeroCutsWhereTheChunkFills()
{
    // With the backtrack off, a long prompt is cut every 75 ids, as the pipeline's own chunks are.
    // Two words first, so that the first chunk fills in the middle of a "red fox," phrase.
    QString prompt = u"big old "_s;
    for (int i = 0; i < 40; ++i) {
        prompt += u"red fox, "_s;
    }
    const std::vector<PromptChunk> chunks = promptChunks(*m_tokenizer, prompt.toStdString(), 0);
    const std::vector<std::vector<std::int64_t>> plain = m_tokenizer->encodeChunks(prompt.toStdString());
    QCOMPARE(chunks.size(), plain.size());
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        QVERIFY(std::equal(plain[c].begin(), plain[c].end(), chunks[c].ids.begin(), chunks[c].ids.end()));
    }
    // With it on, the phrase cut by the edge moves to the next chunk whole: the first chunk ends at its comma.
    const PromptChunk first = promptChunks(*m_tokenizer, prompt.toStdString()).front();
    const std::int64_t comma = m_tokenizer->encode(",").front();
    QCOMPARE(first.ids[74], comma);
    QCOMPARE(first.ids[75], ClipTokenizer::EosId);
    QVERIFY(first.ids != chunks.front().ids);
}

QTEST_GUILESS_MAIN(TestPromptChunks)
#include "TestPromptChunks.moc"
