// SPDX-License-Identifier: GPL-3.0-or-later
// AUTOMATIC1111's extra-network tags (`<lora:NAME:WEIGHT>`) taken out of prompts, `--lora` arguments, and finding a
// LoRA's file by name in the LoRA folders.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "engine/EngineError.h"
#include "engine/ExtraNetworks.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(std::vector<Engine::LoraTag>)

namespace
{
    QString shown(const std::vector<Engine::LoraTag>& loras)
    {
        QStringList parts;
        for (const Engine::LoraTag& lora : loras) {
            parts.append(u"%1 te %2 unet %3"_s.arg(QString::fromStdString(lora.name))
                             .arg(lora.textEncoderWeight)
                             .arg(lora.unetWeight));
        }
        return parts.join(u"; "_s);
    }

    void touch(const QString& path)
    {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    }

    Engine::LoraTag lora(const char* name, double te, double unet)
    {
        return {name, te, unet};
    }
} // namespace

class TestExtraNetworks final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tagsAreTakenOut_data();
    void tagsAreTakenOut();
    void badTagsAreNamed_data();
    void badTagsAreNamed();
    void loraArgument_data();
    void loraArgument();
    void findsALoraByName();
    void aMissingLoraNamesTheFolders();
    void aPickleLoraIsRefused();
};

void TestExtraNetworks::tagsAreTakenOut_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("text");
    QTest::addColumn<std::vector<Engine::LoraTag>>("loras");
    QTest::newRow("no tags") << u"a red fox, (snow:1.2)"_s << u"a red fox, (snow:1.2)"_s
                             << std::vector<Engine::LoraTag>{};
    QTest::newRow("weight") << u"masterpiece, <lora:inkStyle:0.7> a fox"_s << u"masterpiece,  a fox"_s
                            << std::vector{lora("inkStyle", 0.7, 0.7)};
    QTest::newRow("no weight is 1") << u"<lora:ink>fox"_s << u"fox"_s << std::vector{lora("ink", 1, 1)};
    QTest::newRow("te and unet") << u"fox <lora:ink:0.5:0.25>"_s << u"fox "_s << std::vector{lora("ink", 0.5, 0.25)};
    QTest::newRow("named weights") << u"fox <lora:ink:te=0.3:unet=0.9>"_s << u"fox "_s
                                   << std::vector{lora("ink", 0.3, 0.9)};
    QTest::newRow("named beats positional")
        << u"<lora:ink:0.5:unet=0.1>"_s << u""_s << std::vector{lora("ink", 0.5, 0.1)};
    QTest::newRow("negative weight") << u"<lora:ink:-1.5>"_s << u""_s << std::vector{lora("ink", -1.5, -1.5)};
    QTest::newRow("two, in order") << u"<lora:b:0.2> x <lyco:a:1e-1>"_s << u" x "_s
                                   << std::vector{lora("b", 0.2, 0.2), lora("a", 0.1, 0.1)};
    QTest::newRow("name with spaces and dots")
        << u"<lora:my style v1.5:0.8>!"_s << u"!"_s << std::vector{lora("my style v1.5", 0.8, 0.8)};
    // Not tags: A1111's pattern needs a word, a colon and something before '>'.
    QTest::newRow("heart") << u"I <3 cats"_s << u"I <3 cats"_s << std::vector<Engine::LoraTag>{};
    QTest::newRow("empty arguments") << u"<lora:>"_s << u"<lora:>"_s << std::vector<Engine::LoraTag>{};
    QTest::newRow("unclosed") << u"<lora:ink:0.5"_s << u"<lora:ink:0.5"_s << std::vector<Engine::LoraTag>{};
    QTest::newRow("space in type") << u"<lo ra:ink>"_s << u"<lo ra:ink>"_s << std::vector<Engine::LoraTag>{};
    QTest::newRow("inside brackets") << u"(fox <lora:ink:0.5>:1.2)"_s << u"(fox :1.2)"_s
                                     << std::vector{lora("ink", 0.5, 0.5)};
}

void TestExtraNetworks::tagsAreTakenOut()
{
    QFETCH(QString, prompt);
    QFETCH(QString, text);
    QFETCH(std::vector<Engine::LoraTag>, loras);
    const Engine::PromptNetworks result = Engine::extractExtraNetworks(prompt.toStdString());
    QCOMPARE(QString::fromStdString(result.prompt), text);
    QCOMPARE(shown(result.loras), shown(loras));
    QVERIFY(result.loras == loras);
    QVERIFY(result.errors.empty());
}

void TestExtraNetworks::badTagsAreNamed_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("error");
    QTest::newRow("hypernetwork") << u"fox <hypernet:anime:1>"_s << u"fox "_s
                                  << u"\"<hypernet:anime:1>\": Atelier has no \"hypernet\" networks"_s;
    QTest::newRow("weight not a number") << u"<lora:ink:strong> fox"_s << u" fox"_s
                                         << u"\"<lora:ink:strong>\": the weight \"strong\" is not a number"_s;
    QTest::newRow("infinite weight") << u"<lora:ink:inf>"_s << u""_s << u"the weight \"inf\" is not a number"_s;
    QTest::newRow("no name") << u"<lora::0.5>"_s << u""_s << u"\"<lora::0.5>\": the LoRA has no name"_s;
    QTest::newRow("too many weights") << u"<lora:ink:1:1:1>"_s << u""_s << u"at most two weights"_s;
    QTest::newRow("unknown named") << u"<lora:ink:dyn=4>"_s << u""_s << u"not \"dyn=\""_s;
}

void TestExtraNetworks::badTagsAreNamed()
{
    QFETCH(QString, prompt);
    QFETCH(QString, text);
    QFETCH(QString, error);
    const Engine::PromptNetworks result = Engine::extractExtraNetworks(prompt.toStdString());
    QCOMPARE(QString::fromStdString(result.prompt), text);
    QCOMPARE(result.errors.size(), std::size_t{1});
    QVERIFY2(QString::fromStdString(result.errors.front()).contains(error), result.errors.front().c_str());
    QVERIFY(result.loras.empty());
}

void TestExtraNetworks::loraArgument_data()
{
    QTest::addColumn<QString>("argument");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("weight");
    QTest::newRow("name") << u"inkStyle"_s << true << u"inkStyle"_s << 1.0;
    QTest::newRow("name and weight") << u"inkStyle:0.6"_s << true << u"inkStyle"_s << 0.6;
    QTest::newRow("path") << u"/loras/ink.safetensors"_s << true << u"/loras/ink.safetensors"_s << 1.0;
    QTest::newRow("path with colon and weight")
        << u"/mnt/c:/ink.safetensors:-0.5"_s << true << u"/mnt/c:/ink.safetensors"_s << -0.5;
    QTest::newRow("bad weight") << u"ink:lots"_s << false << QString() << 0.0;
    QTest::newRow("empty") << QString() << false << QString() << 0.0;
    QTest::newRow("weight only") << u":0.5"_s << false << QString() << 0.0;
}

void TestExtraNetworks::loraArgument()
{
    QFETCH(QString, argument);
    QFETCH(bool, valid);
    QFETCH(QString, name);
    QFETCH(double, weight);
    const std::optional<Engine::LoraTag> parsed = Engine::parseLoraArgument(argument.toStdString());
    QCOMPARE(parsed.has_value(), valid);
    if (valid) {
        QCOMPARE(QString::fromStdString(parsed->name), name);
        QCOMPARE(parsed->textEncoderWeight, weight);
        QCOMPARE(parsed->unetWeight, weight);
    }
}

// By file name in the folders, first folder first, subfolders searched, as A1111 finds LoRAs; a path is itself.
void TestExtraNetworks::findsALoraByName()
{
    QTemporaryDir first, second;
    touch(first.filePath(u"styles/ink/inkStyle.safetensors"_s));
    touch(second.filePath(u"inkStyle.safetensors"_s));
    touch(second.filePath(u"only-here.safetensors"_s));
    const std::vector<std::filesystem::path> folders{first.path().toStdString(), second.path().toStdString()};
    QCOMPARE(QString::fromStdString(Engine::findLora("inkStyle", folders).string()),
             first.filePath(u"styles/ink/inkStyle.safetensors"_s));
    QCOMPARE(QString::fromStdString(Engine::findLora("only-here", folders).string()),
             second.filePath(u"only-here.safetensors"_s));
    const std::string path = second.filePath(u"inkStyle.safetensors"_s).toStdString();
    QCOMPARE(Engine::findLora(path, {}).string(), path);
}

void TestExtraNetworks::aMissingLoraNamesTheFolders()
{
    QTemporaryDir first, second;
    touch(first.filePath(u"other.safetensors"_s));
    try {
        Engine::findLora("inkStyle", {first.path().toStdString(), second.path().toStdString()});
        QFAIL("a missing LoRA was found");
    } catch (const Engine::EngineError& error) {
        const QString message = QString::fromUtf8(error.what());
        QVERIFY2(message.contains(u"LoRA \"inkStyle\" not found"_s), error.what());
        QVERIFY2(message.contains(first.path()) && message.contains(second.path()), error.what());
    }
    QVERIFY_THROWS_EXCEPTION(Engine::EngineError, Engine::findLora("inkStyle", {}));
}

void TestExtraNetworks::aPickleLoraIsRefused()
{
    QTemporaryDir folder;
    touch(folder.filePath(u"inkStyle.pt"_s));
    for (const std::string& name : {std::string("inkStyle"), folder.filePath(u"inkStyle.pt"_s).toStdString()}) {
        try {
            Engine::findLora(name, {folder.path().toStdString()});
            QFAIL("a pickle LoRA was accepted");
        } catch (const Engine::EngineError& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(u"pickle"_s), error.what());
        }
    }
}

QTEST_GUILESS_MAIN(TestExtraNetworks)
#include "TestExtraNetworks.moc"
