// SPDX-License-Identifier: GPL-3.0-or-later
// A VAE that replaces the model's (`--vae`): single-file VAEs with LDM names and diffusers vae/ folders, against
// diffusers' StableDiffusionPipeline given that VAE (tests/data/vae, made by its make_golden.py), and the files
// that are refused.
#include <QTemporaryDir>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/equal.h>

#include <c10/core/InferenceMode.h>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/EngineError.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"

using namespace Atelier;
using namespace Atelier::Engine;
using namespace Qt::StringLiterals;

namespace
{
    std::filesystem::path data(const QString& relative)
    {
        return Test::dataPath(u"vae/"_s + relative).toStdString();
    }

    GenerationSettings goldenSettings()
    {
        GenerationSettings settings;
        settings.scheduler = "euler";
        settings.steps = 6;
        settings.guidanceScale = 7.5;
        settings.width = settings.height = 64;
        return settings;
    }

    const ImageRequest GoldenRequest{"a lighthouse at dusk, oil painting", "", 1234, std::nullopt};

} // namespace

class TestVaeOverride final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void theModelsOwnVaeChangesNothing_data();
    void theModelsOwnVaeChangesNothing();
    void matchesDiffusers_data();
    void matchesDiffusers();
    void refusesWhatIsNotASd1Vae_data();
    void refusesWhatIsNotASd1Vae();

private:
    std::shared_ptr<const StableDiffusionModel> m_model;
    SafetensorsFile m_golden = SafetensorsFile::open(data(u"golden.safetensors"_s));
};

void TestVaeOverride::initTestCase()
{
    m_model = StableDiffusionModel::loadFolder(Test::fixturePath(u"tiny-sd15"_s).toStdString());
}

void TestVaeOverride::theModelsOwnVaeChangesNothing_data()
{
    QTest::addColumn<QString>("vae");
    QTest::newRow("its diffusers vae/ folder") << Test::fixturePath(u"tiny-sd15/vae"_s);
    QTest::newRow("the VAE of its single-file checkpoint")
        << Test::fixturePath(u"tiny-sd15/single-file/tiny-sd15.safetensors"_s);
}

// The model's own VAE given again, from its folder or as a checkpoint's first_stage_model.*: the same image, bit for
// bit (the same weights in the same order of operations).
void TestVaeOverride::theModelsOwnVaeChangesNothing()
{
    QFETCH(QString, vae);
    c10::InferenceMode inference;
    const auto replaced = StableDiffusionModel::withVae(m_model, vae.toStdString());
    QCOMPARE(QString::fromStdString(replaced->vaeSource.string()), vae);
    QVERIFY(replaced->vaeEncoder);
    GenerationSettings settings = goldenSettings();
    settings.steps = 2;
    const auto own = Pipeline(m_model).generate({GoldenRequest}, settings);
    const auto other = Pipeline(replaced).generate({GoldenRequest}, settings);
    QVERIFY(at::equal(own.decoded, other.decoded));
}

void TestVaeOverride::matchesDiffusers_data()
{
    QTest::addColumn<QString>("vae");
    QTest::newRow("single-file VAE (LDM names)") << u"other-vae.safetensors"_s;
    QTest::newRow("diffusers vae/ folder") << u"other-vae"_s;
}

// The latents are the model's; the image, the decoder alone and the encoder alone are the other VAE's, as diffusers
// computes them.
void TestVaeOverride::matchesDiffusers()
{
    QFETCH(QString, vae);
    c10::InferenceMode inference;
    const auto replaced = StableDiffusionModel::withVae(m_model, data(vae));
    const auto result = Pipeline(replaced).generate({GoldenRequest}, goldenSettings());
    const at::Tensor latents = m_golden.tensor("latents");
    const double latentError
        = Test::maxAbsDifference(result.finalLatents, latents) / std::max(1.0, latents.abs().max().item<double>());
    QVERIFY2(latentError <= 1e-3, qPrintable(QString::number(latentError)));
    const at::Tensor image = (result.decoded / 2 + 0.5).clamp(0, 1);
    const double imageError = Test::maxAbsDifference(image, m_golden.tensor("image"));
    QVERIFY2(imageError <= 2.0 / 255, qPrintable(QString::number(imageError)));
    // The other VAE really is another one.
    QVERIFY(Test::maxAbsDifference(image, m_golden.tensor("base_image")) > 0.05);

    const at::Tensor decoded = replaced->vae.decode(m_golden.tensor("decode_latents_in"));
    const at::Tensor expectedDecoded = m_golden.tensor("decoded");
    const double decodeError
        = Test::maxAbsDifference(decoded, expectedDecoded) / std::max(1.0, expectedDecoded.abs().max().item<double>());
    QVERIFY2(decodeError <= 1e-4, qPrintable(QString::number(decodeError)));
    const at::Tensor mean = replaced->vaeEncoder->encode(m_golden.tensor("encode_image_in")).mean;
    const at::Tensor expectedMean = m_golden.tensor("encoded_mean");
    const double encodeError
        = Test::maxAbsDifference(mean, expectedMean) / std::max(1.0, expectedMean.abs().max().item<double>());
    QVERIFY2(encodeError <= 1e-4, qPrintable(QString::number(encodeError)));
}

void TestVaeOverride::refusesWhatIsNotASd1Vae_data()
{
    QTest::addColumn<QString>("vae");
    QTest::addColumn<QString>("error");
    QTest::newRow("no VAE in the file") << Test::dataPath(u"lora/lora_a.safetensors"_s) << u"not a VAE"_s;
    QTest::newRow("another VAE's shape") << Test::dataPath(u"vae/broken-vae.safetensors"_s) << u"times"_s;
    QTest::newRow("a pickle") << u"/nonexistent/vae-ft-mse-840000-ema-pruned.ckpt"_s << u"pickle"_s;
    QTest::newRow("missing") << u"/nonexistent/vae.safetensors"_s << u"/nonexistent/vae.safetensors"_s;
}

void TestVaeOverride::refusesWhatIsNotASd1Vae()
{
    QFETCH(QString, vae);
    QFETCH(QString, error);
    const QString message = Test::engineErrorOf([&] { StableDiffusionModel::withVae(m_model, vae.toStdString()); });
    QVERIFY2(message.contains(error), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestVaeOverride)
#include "TestVaeOverride.moc"
