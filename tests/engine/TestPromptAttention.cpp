// SPDX-License-Identifier: GPL-3.0-or-later
// AUTOMATIC1111's prompt-attention syntax against the reference parse in tests/data/prompt-syntax (made by its
// make_goldens.py): texts equal, weights bit-exact (the same products in the same order).
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "TestSupport.h"
#include "engine/PromptAttention.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    QString shown(const std::vector<Engine::WeightedText>& parsed)
    {
        QStringList parts;
        for (const Engine::WeightedText& run : parsed) {
            parts.append(u"(%1, %2)"_s.arg(QString::fromStdString(run.text)).arg(run.weight, 0, 'g', 17));
        }
        return parts.join(u' ');
    }
} // namespace

class TestPromptAttention final : public QObject
{
    Q_OBJECT

private slots:
    void matchesTheReference_data();
    void matchesTheReference();
    void aPromptWithoutSyntaxIsItself_data();
    void aPromptWithoutSyntaxIsItself();
    void breakIsOnlyABreakOutsideBrackets();
};

void TestPromptAttention::matchesTheReference_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QJsonArray>("expected");
    QFile file(Test::dataPath(u"prompt-syntax/attention.json"_s));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    const QJsonArray cases = QJsonDocument::fromJson(file.readAll()).object().value(u"cases"_s).toArray();
    QVERIFY(cases.size() >= 40);
    for (const QJsonValue& value : cases) {
        const QJsonObject c = value.toObject();
        const QString prompt = c.value(u"prompt"_s).toString();
        QTest::newRow(qPrintable(prompt.isEmpty() ? u"(empty)"_s : prompt)) << prompt << c.value(u"parsed"_s).toArray();
    }
}

void TestPromptAttention::matchesTheReference()
{
    QFETCH(QString, prompt);
    QFETCH(QJsonArray, expected);
    const std::vector<Engine::WeightedText> parsed = Engine::parsePromptAttention(prompt.toStdString());
    std::vector<Engine::WeightedText> wanted;
    for (const QJsonValue& run : expected) {
        wanted.push_back({run[u"text"_s].toString().toStdString(), run[u"weight"_s].toDouble()});
    }
    QVERIFY2(parsed == wanted, qPrintable(u"got %1\nwant %2"_s.arg(shown(parsed), shown(wanted))));
}

void TestPromptAttention::aPromptWithoutSyntaxIsItself_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::newRow("words") << u"a lighthouse at dusk, oil painting"_s;
    QTest::newRow("punctuation") << u"portrait, 85mm, f/1.8; golden hour!"_s;
    QTest::newRow("a colon alone") << u"ratio 16:9"_s;
    QTest::newRow("unicode") << u"東京の夜景, café"_s;
    QTest::newRow("a lora tag") << u"<lora:inkStyle:0.7> ink"_s;
}

void TestPromptAttention::aPromptWithoutSyntaxIsItself()
{
    // Today's prompts must give today's embedding: one run, the text unchanged, weight 1.
    QFETCH(QString, prompt);
    const std::vector<Engine::WeightedText> parsed = Engine::parsePromptAttention(prompt.toStdString());
    QCOMPARE(parsed.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(parsed.front().text), prompt);
    QCOMPARE(parsed.front().weight, 1.0);
}

void TestPromptAttention::breakIsOnlyABreakOutsideBrackets()
{
    const auto outside = Engine::parsePromptAttention("a BREAK b");
    QCOMPARE(outside.size(), std::size_t(3));
    QVERIFY(outside[1].isBreak());
    const auto inside = Engine::parsePromptAttention("(a BREAK b)");
    QVERIFY(std::none_of(inside.begin(), inside.end(), [](const auto& run) { return run.isBreak(); }));
}

QTEST_GUILESS_MAIN(TestPromptAttention)
#include "TestPromptAttention.moc"
