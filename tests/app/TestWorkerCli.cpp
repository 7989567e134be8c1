// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <ATen/TensorOperators.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/from_blob.h>

#include "EngineTestSupport.h"
#include "ImageTestSupport.h"
#include "TestSupport.h"
#include "engine/Safetensors.h"

using namespace Atelier;
using Atelier::Test::fixturePath;
using Atelier::Test::goldenIndex;

namespace
{
    Test::ProcessResult worker(const QStringList& arguments)
    {
        return Test::runProcess(Test::executablePath(QStringLiteral("atelier-worker")), arguments, 120000);
    }

} // namespace

class TestWorkerCli final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void generateReproducesDiffusersFromTheSeed_data();
    void generateReproducesDiffusersFromTheSeed();
    void latentsRoundTrip();
    void clipSkipChangesTheImageAndIsWrittenDown();
    void lorasFromThePromptAndTheCommandLine_data();
    void lorasFromThePromptAndTheCommandLine();
    void aMissingLoraFailsBeforeLoading();
    void embeddingsFromTheirFolder();
    void aVaeOfItsOwnIsNamedInTheInfotext();
    void imageToImageFromAPng();
    void aSymlinkAtTheNameIsNeverFollowed_data();
    void aSymlinkAtTheNameIsNeverFollowed();
    void tokenizePrintsTheIds();
    void badArgumentsAreNamed_data();
    void badArgumentsAreNamed();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestWorkerCli::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
}

void TestWorkerCli::generateReproducesDiffusersFromTheSeed_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("caseName");
    const QString folder = fixturePath(QStringLiteral("tiny-sd15"));
    const QString single = fixturePath(QStringLiteral("tiny-sd15/single-file/tiny-sd15.safetensors"));
    QTest::addColumn<QString>("sampler"); // as given to --scheduler
    QTest::addColumn<QString>("a1111"); // as the infotext names it
    QTest::newRow("folder, pndm") << folder << QStringLiteral("seed_pndm") << QStringLiteral("pndm")
                                  << QStringLiteral("PLMS");
    QTest::newRow("folder, dpmpp_2m with negative")
        << folder << QStringLiteral("seed_dpmpp_2m") << QStringLiteral("dpmpp_2m")
        << QStringLiteral("DPM++ 2M, Schedule type: Uniform");
    // An A1111 name, as copied from an infotext, is taken as well.
    QTest::newRow("single file, Euler a")
        << single << QStringLiteral("seed_euler_a") << QStringLiteral("Euler a") << QStringLiteral("Euler a");
}

void TestWorkerCli::generateReproducesDiffusersFromTheSeed()
{
    QFETCH(QString, model);
    QFETCH(QString, caseName);
    QFETCH(QString, sampler);
    QFETCH(QString, a1111);
    QJsonObject golden;
    for (const auto& c :
         goldenIndex(QStringLiteral("tiny-sd15"))[QStringLiteral("seed_cases")][QStringLiteral("cases")].toArray()) {
        if (c[QStringLiteral("name")].toString() == caseName) {
            golden = c.toObject();
        }
    }
    QVERIFY(!golden.isEmpty());
    const QString out = m_dir->filePath(QStringLiteral("out.png"));
    QStringList args{QStringLiteral("generate"),
                     QStringLiteral("--model"),
                     model,
                     QStringLiteral("--prompt"),
                     golden[QStringLiteral("prompts")][0].toString(),
                     QStringLiteral("--seed"),
                     QString::number(golden[QStringLiteral("seeds")][0].toInteger()),
                     QStringLiteral("--steps"),
                     QString::number(golden[QStringLiteral("num_inference_steps")].toInt()),
                     QStringLiteral("--cfg"),
                     QString::number(golden[QStringLiteral("guidance_scale")].toDouble()),
                     QStringLiteral("--width"),
                     QString::number(golden[QStringLiteral("width")].toInt()),
                     QStringLiteral("--height"),
                     QString::number(golden[QStringLiteral("height")].toInt()),
                     QStringLiteral("--scheduler"),
                     sampler,
                     QStringLiteral("--device"),
                     QStringLiteral("cpu"),
                     QStringLiteral("--out"),
                     out};
    if (golden[QStringLiteral("negative_prompts")].isArray()) {
        args << QStringLiteral("--negative") << golden[QStringLiteral("negative_prompts")][0].toString();
    }
    const auto result = worker(args);
    QVERIFY2(result.exitCode == 0 && !result.crashed, qPrintable(result.standardError));

    const auto goldens = Engine::SafetensorsFile::open(
        fixturePath(QStringLiteral("tiny-sd15/goldens/seed_cases.safetensors")).toStdString());
    const at::Tensor expected
        = goldens.tensor(golden[QStringLiteral("image_uint8")][QStringLiteral("key")].toString().toStdString());
    const at::Tensor actual = Atelier::Test::pngPixels(out);
    QCOMPARE(actual.sizes().vec(), expected.sizes().vec());
    const double difference = (actual.to(at::kInt) - expected.to(at::kInt)).abs().max().item<double>();
    QVERIFY2(difference <= 1, qPrintable(QString::number(difference)));
    QVERIFY(!QFileInfo::exists(out + QStringLiteral(".tmp")));

    // A1111's infotext, which its PNG Info tab reads: the settings as given, the sampler by A1111's name.
    const QString infotext = QImage(out).text(QStringLiteral("parameters"));
    const QString prompt = golden[QStringLiteral("prompts")][0].toString();
    QVERIFY2(infotext.startsWith(prompt + QLatin1Char('\n')), qPrintable(infotext));
    QCOMPARE(infotext.contains(QStringLiteral("\nNegative prompt: ")),
             golden[QStringLiteral("negative_prompts")].isArray());
    const QString parameters = QStringLiteral("Steps: %1, Sampler: %2, CFG scale: %3, Seed: %4, Size: %5x%6, Model: %7")
                                   .arg(golden[QStringLiteral("num_inference_steps")].toInt())
                                   .arg(a1111)
                                   .arg(golden[QStringLiteral("guidance_scale")].toDouble())
                                   .arg(golden[QStringLiteral("seeds")][0].toInteger())
                                   .arg(golden[QStringLiteral("width")].toInt())
                                   .arg(golden[QStringLiteral("height")].toInt())
                                   .arg(QFileInfo(model).completeBaseName());
    QVERIFY2(infotext.endsWith(QLatin1Char('\n') + parameters), qPrintable(infotext));
}

void TestWorkerCli::latentsRoundTrip()
{
    // Final latents written by one run, fed to another as initial latents, give the same start: the file
    // format and shapes agree in both directions.
    const QString model = fixturePath(QStringLiteral("tiny-sd"));
    const QString latents = m_dir->filePath(QStringLiteral("latents.safetensors"));
    const QStringList common{QStringLiteral("generate"), QStringLiteral("--model"), model,
                             QStringLiteral("--prompt"), QStringLiteral("a cat"),   QStringLiteral("--steps"),
                             QStringLiteral("3"),        QStringLiteral("--width"), QStringLiteral("64"),
                             QStringLiteral("--height"), QStringLiteral("64")};
    auto first = worker(common
                        + QStringList{QStringLiteral("--out"), m_dir->filePath(QStringLiteral("a.png")),
                                      QStringLiteral("--latents-out"), latents});
    QVERIFY2(first.exitCode == 0, qPrintable(first.standardError));
    const auto file = Engine::SafetensorsFile::open(latents.toStdString());
    QCOMPARE(file.tensor("latents").sizes().vec(), (std::vector<int64_t>{1, 4, 32, 32}));

    auto second = worker(common
                         + QStringList{QStringLiteral("--out"), m_dir->filePath(QStringLiteral("b.png")),
                                       QStringLiteral("--latents-in"), latents});
    QVERIFY2(second.exitCode == 0, qPrintable(second.standardError));
    // Different starting latents than the seed's noise, so a different image.
    QVERIFY(!at::equal(Atelier::Test::pngPixels(m_dir->filePath(QStringLiteral("a.png"))),
                       Atelier::Test::pngPixels(m_dir->filePath(QStringLiteral("b.png")))));

    auto wrongSize
        = worker(QStringList{QStringLiteral("generate"), QStringLiteral("--model"), model, QStringLiteral("--prompt"),
                             QStringLiteral("a cat"), QStringLiteral("--width"), QStringLiteral("128"),
                             QStringLiteral("--height"), QStringLiteral("64"), QStringLiteral("--out"),
                             m_dir->filePath(QStringLiteral("c.png")), QStringLiteral("--latents-in"), latents});
    QCOMPARE(wrongSize.exitCode, 1);
    QVERIFY2(wrongSize.standardError.contains(QStringLiteral("initial latents must have shape [1, 4, 32, 64]")),
             qPrintable(wrongSize.standardError));
}

void TestWorkerCli::clipSkipChangesTheImageAndIsWrittenDown()
{
    // The same seed with Clip skip 2 conditions on the penultimate layer: another image, and its infotext says so,
    // so that the image can be made again in AUTOMATIC1111.
    const QStringList common{
        QStringLiteral("generate"), QStringLiteral("--model"), fixturePath(QStringLiteral("tiny-sd15")),
        QStringLiteral("--prompt"), QStringLiteral("a cat"),   QStringLiteral("--steps"),
        QStringLiteral("3"),        QStringLiteral("--width"), QStringLiteral("64"),
        QStringLiteral("--height"), QStringLiteral("64"),      QStringLiteral("--seed"),
        QStringLiteral("7")};
    const QString plain = m_dir->filePath(QStringLiteral("plain.png"));
    const QString skipped = m_dir->filePath(QStringLiteral("skipped.png"));
    const auto first = worker(common + QStringList{QStringLiteral("--out"), plain});
    QVERIFY2(first.exitCode == 0, qPrintable(first.standardError));
    const auto second = worker(
        common + QStringList{QStringLiteral("--clip-skip"), QStringLiteral("2"), QStringLiteral("--out"), skipped});
    QVERIFY2(second.exitCode == 0, qPrintable(second.standardError));
    QVERIFY(!at::equal(Atelier::Test::pngPixels(plain), Atelier::Test::pngPixels(skipped)));
    QVERIFY(QImage(skipped).text(QStringLiteral("parameters")).endsWith(QStringLiteral(", Clip skip: 2")));
    QVERIFY(!QImage(plain).text(QStringLiteral("parameters")).contains(QStringLiteral("Clip skip")));
}

void TestWorkerCli::lorasFromThePromptAndTheCommandLine_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("golden");
    QTest::addColumn<QString>("infotextPrompt");
    QTest::addColumn<QString>("hashes");
    const QString prompt = QStringLiteral("a lighthouse at dusk, oil painting");
    const QString b = Test::dataPath(QStringLiteral("lora/lora_b.safetensors"));
    QTest::newRow("tag") << prompt + QStringLiteral("<lora:lora_a:1>") << QStringList{} << QStringLiteral("a")
                         << prompt + QStringLiteral("<lora:lora_a:1>") << QStringLiteral("lora_a: %1");
    QTest::newRow("tag and --lora by path")
        << prompt + QStringLiteral("<lora:lora_a:0.7>")
        << QStringList{QStringLiteral("--lora"), b + QStringLiteral(":-0.4")} << QStringLiteral("ab")
        << prompt + QStringLiteral("<lora:lora_a:0.7> <lora:lora_b:-0.4>") << QStringLiteral("lora_a: %1, lora_b: %2");
}

// A LoRA named by a prompt tag (found in --lora-dir) and one given by path on the command line render as diffusers
// renders them (tests/data/lora); the infotext keeps the tags, adds the command line's, and lists A1111's hashes.
void TestWorkerCli::lorasFromThePromptAndTheCommandLine()
{
    QFETCH(QString, prompt);
    QFETCH(QStringList, extra);
    QFETCH(QString, golden);
    QFETCH(QString, infotextPrompt);
    QFETCH(QString, hashes);
    const QString out = m_dir->filePath(QStringLiteral("lora.png"));
    const auto result = worker(
        QStringList{QStringLiteral("generate"), QStringLiteral("--model"), fixturePath(QStringLiteral("tiny-sd15")),
                    QStringLiteral("--prompt"), prompt, QStringLiteral("--scheduler"), QStringLiteral("euler"),
                    QStringLiteral("--steps"), QStringLiteral("8"), QStringLiteral("--width"), QStringLiteral("64"),
                    QStringLiteral("--height"), QStringLiteral("64"), QStringLiteral("--seed"), QStringLiteral("1234"),
                    QStringLiteral("--lora-dir"), Test::dataPath(QStringLiteral("lora")), QStringLiteral("--out"), out}
        + extra);
    QVERIFY2(result.exitCode == 0, qPrintable(result.standardError));
    const auto file
        = Engine::SafetensorsFile::open(Test::dataPath(QStringLiteral("lora/golden.safetensors")).toStdString());
    const at::Tensor expected = (file.tensor(golden.toStdString() + "_image")[0].permute({1, 2, 0}) * 255).round();
    const double levels = (Atelier::Test::pngPixels(out).to(at::kFloat) - expected).abs().max().item<double>();
    QVERIFY2(levels <= 2, qPrintable(QString::number(levels)));
    const QString parameters = QImage(out).text(QStringLiteral("parameters"));
    QVERIFY2(parameters.startsWith(infotextPrompt + QLatin1Char('\n')), qPrintable(parameters));
    // A1111's hash of a LoRA: SHA-256 of the data after the safetensors header, 12 hex digits.
    QStringList expectedHashes;
    for (const QString& name : {QStringLiteral("lora_a"), QStringLiteral("lora_b")}) {
        QFile lora(Test::dataPath(QStringLiteral("lora/%1.safetensors").arg(name)));
        QVERIFY(lora.open(QIODevice::ReadOnly));
        const QByteArray bytes = lora.readAll();
        const quint64 header = qFromLittleEndian<quint64>(bytes.constData());
        expectedHashes.append(QString::fromLatin1(
            QCryptographicHash::hash(bytes.mid(static_cast<qsizetype>(8 + header)), QCryptographicHash::Sha256)
                .toHex()
                .left(12)));
    }
    const QString hashText = golden == QStringLiteral("a") ? hashes.arg(expectedHashes[0])
                                                           : hashes.arg(expectedHashes[0], expectedHashes[1]);
    QVERIFY2(parameters.contains(QStringLiteral("Lora hashes: \"%1\"").arg(hashText)), qPrintable(parameters));
}

void TestWorkerCli::aMissingLoraFailsBeforeLoading()
{
    const QString out = m_dir->filePath(QStringLiteral("missing.png"));
    const auto result = worker({QStringLiteral("generate"), QStringLiteral("--prompt"),
                                QStringLiteral("a fox <lora:inkStyle:0.7> <hypernet:x:1>"),
                                QStringLiteral("--lora-dir"), m_dir->path(), QStringLiteral("--out"), out});
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.standardError.contains(QStringLiteral("LoRA \"inkStyle\" not found")),
             qPrintable(result.standardError));
    QVERIFY2(result.standardError.contains(m_dir->path()), qPrintable(result.standardError));
    QVERIFY2(result.standardError.contains(QStringLiteral("no \"hypernet\" networks")),
             qPrintable(result.standardError));
    QVERIFY(!QFile::exists(out));
}

// Textual inversions named in the prompt and the negative prompt, found in --embeddings-dir: the image diffusers
// renders with them (tests/data/embeddings), and A1111's TI hashes (SHA-256 of the file, 12 hex digits). One the
// model cannot use (an SDXL embedding) fails the render with the reason.
void TestWorkerCli::embeddingsFromTheirFolder()
{
    const QString folder = Test::dataPath(QStringLiteral("embeddings"));
    const QString out = m_dir->filePath(QStringLiteral("embeddings.png"));
    const QStringList common{QStringLiteral("generate"),
                             QStringLiteral("--model"),
                             fixturePath(QStringLiteral("tiny-sd15")),
                             QStringLiteral("--scheduler"),
                             QStringLiteral("euler"),
                             QStringLiteral("--steps"),
                             QStringLiteral("6"),
                             QStringLiteral("--width"),
                             QStringLiteral("64"),
                             QStringLiteral("--height"),
                             QStringLiteral("64"),
                             QStringLiteral("--seed"),
                             QStringLiteral("77"),
                             QStringLiteral("--embeddings-dir"),
                             folder};
    const auto result
        = worker(common
                 + QStringList{QStringLiteral("--prompt"), QStringLiteral("a red fox, inkemb, in the snow"),
                               QStringLiteral("--negative"), QStringLiteral("softglow"), QStringLiteral("--out"), out});
    QVERIFY2(result.exitCode == 0, qPrintable(result.standardError));
    const auto golden
        = Engine::SafetensorsFile::open(Test::dataPath(QStringLiteral("embeddings/golden.safetensors")).toStdString());
    const at::Tensor expected = (golden.tensor("image")[0].permute({1, 2, 0}) * 255).round();
    const double levels = (Atelier::Test::pngPixels(out).to(at::kFloat) - expected).abs().max().item<double>();
    QVERIFY2(levels <= 2, qPrintable(QString::number(levels)));
    QStringList hashes;
    for (const QString& name : {QStringLiteral("inkemb"), QStringLiteral("softglow")}) {
        QFile file(QDir(folder).filePath(name + QStringLiteral(".safetensors")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        hashes.append(name + QStringLiteral(": ")
                      + QString::fromLatin1(
                          QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex().left(12)));
    }
    const QString parameters = QImage(out).text(QStringLiteral("parameters"));
    QVERIFY2(parameters.contains(QStringLiteral("TI hashes: \"%1\"").arg(hashes.join(QStringLiteral(", ")))),
             qPrintable(parameters));

    const auto refused = worker(common
                                + QStringList{QStringLiteral("--prompt"), QStringLiteral("a fox, sdxl_emb"),
                                              QStringLiteral("--out"), m_dir->filePath(QStringLiteral("no.png"))});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.standardError.contains(QStringLiteral("an SDXL embedding")), qPrintable(refused.standardError));
}

// --vae: the infotext names the VAE's file and A1111's hash of it (SHA-256, 10 hex digits), after the model.
void TestWorkerCli::aVaeOfItsOwnIsNamedInTheInfotext()
{
    const QString vae = fixturePath(QStringLiteral("tiny-sd15/single-file/tiny-sd15.safetensors"));
    const QString out = m_dir->filePath(QStringLiteral("vae.png"));
    const auto result
        = worker({QStringLiteral("generate"), QStringLiteral("--model"), fixturePath(QStringLiteral("tiny-sd15")),
                  QStringLiteral("--prompt"), QStringLiteral("a cat"), QStringLiteral("--steps"), QStringLiteral("2"),
                  QStringLiteral("--width"), QStringLiteral("64"), QStringLiteral("--height"), QStringLiteral("64"),
                  QStringLiteral("--vae"), vae, QStringLiteral("--out"), out});
    QVERIFY2(result.exitCode == 0, qPrintable(result.standardError));
    QFile file(vae);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString hash
        = QString::fromLatin1(QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex().left(10));
    const QString parameters = QImage(out).text(QStringLiteral("parameters"));
    QVERIFY2(
        parameters.contains(QStringLiteral("Model: tiny-sd15, VAE hash: %1, VAE: tiny-sd15.safetensors").arg(hash)),
        qPrintable(parameters));

    const auto refused
        = worker({QStringLiteral("generate"), QStringLiteral("--model"), fixturePath(QStringLiteral("tiny-sd15")),
                  QStringLiteral("--prompt"), QStringLiteral("a cat"), QStringLiteral("--vae"),
                  Test::dataPath(QStringLiteral("lora/lora_a.safetensors")), QStringLiteral("--out"),
                  m_dir->filePath(QStringLiteral("no.png"))});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.standardError.contains(QStringLiteral("not a VAE")), qPrintable(refused.standardError));
}

// --init-image and --strength: the PNG's pixels as diffusers' img2img takes them, the render's size from the image,
// and the image diffusers makes (tests/data/img2img, DDIM at 0.6); the infotext says "Denoising strength".
void TestWorkerCli::imageToImageFromAPng()
{
    const QString out = m_dir->filePath(QStringLiteral("i2i.png"));
    const auto result
        = worker({QStringLiteral("generate"), QStringLiteral("--model"), fixturePath(QStringLiteral("tiny-sd15")),
                  QStringLiteral("--prompt"), QStringLiteral("a lighthouse on a cliff, watercolor"),
                  QStringLiteral("--init-image"), Test::dataPath(QStringLiteral("img2img/init_image.png")),
                  QStringLiteral("--strength"), QStringLiteral("0.6"), QStringLiteral("--steps"), QStringLiteral("10"),
                  QStringLiteral("--scheduler"), QStringLiteral("ddim"), QStringLiteral("--seed"), QStringLiteral("43"),
                  QStringLiteral("--out"), out});
    QVERIFY2(result.exitCode == 0, qPrintable(result.standardError));
    const auto golden
        = Engine::SafetensorsFile::open(Test::dataPath(QStringLiteral("img2img/golden.safetensors")).toStdString());
    const at::Tensor expected = golden.tensor("ddim_0.6.image_uint8")[0].to(at::kFloat);
    const double levels = (Atelier::Test::pngPixels(out).to(at::kFloat) - expected).abs().max().item<double>();
    QVERIFY2(levels <= 1, qPrintable(QString::number(levels)));
    QVERIFY2(QImage(out).text(QStringLiteral("parameters")).endsWith(QStringLiteral(", Denoising strength: 0.6")),
             qPrintable(QImage(out).text(QStringLiteral("parameters"))));

    const auto refused = worker(
        {QStringLiteral("generate"), QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--init-image"),
         Test::dataPath(QStringLiteral("img2img/init_image.png")), QStringLiteral("--strength"), QStringLiteral("0"),
         QStringLiteral("--out"), m_dir->filePath(QStringLiteral("no.png"))});
    QCOMPARE(refused.exitCode, 2);
    QVERIFY2(refused.standardError.contains(QStringLiteral("--strength must be a number more than 0")),
             qPrintable(refused.standardError));
}

void TestWorkerCli::aSymlinkAtTheNameIsNeverFollowed_data()
{
    QTest::addColumn<bool>("dangling");
    QTest::newRow("to a file") << false;
    QTest::newRow("dangling") << true;
}

// A symlink planted at an output name: the image is not written through it, its target is neither changed nor
// created, and the worker says why instead of reporting success.
void TestWorkerCli::aSymlinkAtTheNameIsNeverFollowed()
{
    QFETCH(bool, dangling);
    const QString victim = m_dir->filePath(QStringLiteral("victim.txt"));
    if (!dangling) {
        QFile file(victim);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("keep me");
    }
    const QString out = m_dir->filePath(QStringLiteral("00000-5-a-fox.png"));
    QVERIFY(QFile::link(victim, out));
    const auto result = worker(QStringList{QStringLiteral("generate"), QStringLiteral("--model"),
                                           fixturePath(QStringLiteral("tiny-sd")), QStringLiteral("--prompt"),
                                           QStringLiteral("a fox"), QStringLiteral("--steps"), QStringLiteral("2"),
                                           QStringLiteral("--width"), QStringLiteral("64"), QStringLiteral("--height"),
                                           QStringLiteral("64"), QStringLiteral("--out"), out});
    QVERIFY(result.exitCode != 0);
    QVERIFY2(result.standardError.contains(QStringLiteral("exists")), qPrintable(result.standardError));
    if (dangling) {
        QVERIFY(!QFileInfo::exists(victim));
    } else {
        QFile file(victim);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("keep me"));
    }
    QVERIFY(QFileInfo(out).isSymLink());
    // Nothing else was left behind (no temporary file).
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot).size(),
             dangling ? 1 : 2);
}

void TestWorkerCli::tokenizePrintsTheIds()
{
    QFile file(fixturePath(QStringLiteral("tiny-sd15/goldens/tokenizer.json")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonArray cases = QJsonDocument::fromJson(file.readAll())[QStringLiteral("cases")].toArray();
    for (int i : {0, 7, 24}) {
        const QJsonObject c = cases[i].toObject();
        const auto result = worker({QStringLiteral("tokenize"), c[QStringLiteral("prompt")].toString()});
        QCOMPARE(result.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(result.standardOutput.toUtf8()).array(),
                 c[QStringLiteral("input_ids")].toArray());
    }
}

void TestWorkerCli::badArgumentsAreNamed_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--prompt"), QStringLiteral("x"),
                           QStringLiteral("--out"), QStringLiteral("/tmp/never-written.png")};
    QTest::newRow("no prompt") << QStringList{QStringLiteral("generate"), QStringLiteral("--out"),
                                              QStringLiteral("x.png")}
                               << 2 << QStringLiteral("--prompt is required");
    QTest::newRow("steps not a number") << base + QStringList{QStringLiteral("--steps"), QStringLiteral("many")} << 2
                                        << QStringLiteral("--steps must be a whole number from 1 to 150, not \"many\"");
    QTest::newRow("steps 151") << base + QStringList{QStringLiteral("--steps"), QStringLiteral("151")} << 2
                               << QStringLiteral("--steps must be a whole number from 1 to 150, not \"151\"");
    QTest::newRow("cfg nan") << base + QStringList{QStringLiteral("--cfg"), QStringLiteral("nan")} << 2
                             << QStringLiteral("--cfg must be a number from 0 to 30, not \"nan\"");
    QTest::newRow("width 8192") << base + QStringList{QStringLiteral("--width"), QStringLiteral("8192")} << 2
                                << QStringLiteral("--width must be a whole number (a multiple of 8) from 64 to 2048");
    QTest::newRow("height 100") << base + QStringList{QStringLiteral("--height"), QStringLiteral("100")} << 2
                                << QStringLiteral("--height must be a whole number (a multiple of 8)");
    QTest::newRow("prompt over 16 KiB") << QStringList{QStringLiteral("generate"), QStringLiteral("--prompt"),
                                                       QString(16385, QLatin1Char('a')), QStringLiteral("--out"),
                                                       QStringLiteral("/tmp/never-written.png")}
                                        << 2 << QStringLiteral("--prompt must be at most 16384 bytes of UTF-8");
    QTest::newRow("lora weight not a number")
        << base + QStringList{QStringLiteral("--lora"), QStringLiteral("ink:strong")} << 2
        << QStringLiteral("--lora must be NAME_OR_PATH[:WEIGHT], not \"ink:strong\"");
    QTest::newRow("lora pickle") << base + QStringList{QStringLiteral("--lora"), QStringLiteral("/x/ink.ckpt")} << 1
                                 << QStringLiteral("LoRA \"/x/ink.ckpt\": pickle files");
    QTest::newRow("seed negative") << base + QStringList{QStringLiteral("--seed"), QStringLiteral("-1")} << 2
                                   << QStringLiteral("--seed must be a number");
    QTest::newRow("unknown scheduler") << base + QStringList{QStringLiteral("--scheduler"), QStringLiteral("heun")} << 2
                                       << QStringLiteral("unknown sampler \"heun\" in --scheduler (known: Euler a");
    QTest::newRow("bad device") << base + QStringList{QStringLiteral("--device"), QStringLiteral("gpu0")} << 2
                                << QStringLiteral("unknown device \"gpu0\"");
    QTest::newRow("fp16 on the CPU") << base + QStringList{QStringLiteral("--dtype"), QStringLiteral("fp16")} << 2
                                     << QStringLiteral("--dtype fp16 needs a CUDA device");
    QTest::newRow("absent GPU") << base + QStringList{QStringLiteral("--device"), QStringLiteral("cuda:7")} << 1
                                << QStringLiteral("cuda:7 is not available");
    QTest::newRow("pickle model") << base + QStringList{QStringLiteral("--model"), QStringLiteral("/tmp/model.ckpt")}
                                  << 1 << QStringLiteral("never loads pickle");
    QTest::newRow("clip skip 0") << base + QStringList{QStringLiteral("--clip-skip"), QStringLiteral("0")} << 2
                                 << QStringLiteral("--clip-skip must be a whole number from 1 to 12, not \"0\"");
    QTest::newRow("unknown option") << base + QStringList{QStringLiteral("--outpath"), QStringLiteral("/etc")} << 2
                                    << QStringLiteral("outpath");
}

void TestWorkerCli::badArgumentsAreNamed()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const auto result = worker(arguments);
    QVERIFY(!result.crashed);
    QCOMPARE(result.exitCode, exitCode);
    QVERIFY2(result.standardError.contains(message), qPrintable(result.standardError));
    QVERIFY(!QFileInfo::exists(QStringLiteral("/tmp/never-written.png")));
}

QTEST_GUILESS_MAIN(TestWorkerCli)
#include "TestWorkerCli.moc"
