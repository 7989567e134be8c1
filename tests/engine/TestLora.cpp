// SPDX-License-Identifier: GPL-3.0-or-later
// LoRA on a loaded model: kohya/A1111 files read and checked, deltas merged in place and taken off exactly, the
// formats Atelier does not apply refused by name, and the images against diffusers' load_lora_weights
// (tests/data/lora, made by its make_golden.py).
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>

#include <c10/core/InferenceMode.h>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/DiffusionBlocks.h"
#include "engine/EngineError.h"
#include "engine/Lora.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"
#include "engine/Weights.h"

using namespace Atelier;
using namespace Atelier::Engine;
using namespace Qt::StringLiterals;

namespace
{
    const std::string ToQ = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight";
    const std::string Conv = "unet.down_blocks.0.resnets.0.conv1.weight";
    const std::string TextQ = "text_encoder.encoder.layers.0.self_attn.q_proj.weight";

    std::shared_ptr<const StableDiffusionModel> tinyModel()
    {
        return StableDiffusionModel::loadFolder(Test::fixturePath(u"tiny-sd15"_s).toStdString());
    }

    struct Factors
    {
        std::string target;
        at::Tensor down, up;
        std::optional<double> alpha;
    };

    /// Random rank-@p rank factors for the weight @p target of @p model: LoCon factors for a 3×3 convolution.
    Factors randomFactors(const StableDiffusionModel& model, const std::string& target, std::int64_t rank,
                          std::optional<double> alpha, std::uint64_t seed)
    {
        const at::Tensor& weight = *model.weights->find(target);
        at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
        std::vector<std::int64_t> down{rank, weight.size(1)}, up{weight.size(0), rank};
        if (weight.dim() == 4) {
            down.insert(down.end(), {weight.size(2), weight.size(3)});
            up.insert(up.end(), {1, 1});
        }
        return {target, at::randn(down, generator) * 0.1, at::randn(up, generator) * 0.1, alpha};
    }

    std::filesystem::path writeLora(const QTemporaryDir& dir, const QString& name, const std::vector<Factors>& layers)
    {
        std::vector<std::pair<std::string, at::Tensor>> tensors;
        for (const Factors& layer : layers) {
            const std::string module = kohyaModuleName(layer.target);
            tensors.emplace_back(module + ".lora_down.weight", layer.down);
            tensors.emplace_back(module + ".lora_up.weight", layer.up);
            if (layer.alpha) {
                tensors.emplace_back(module + ".alpha", at::scalar_tensor(*layer.alpha, at::kFloat));
            }
        }
        const std::filesystem::path path = dir.filePath(name).toStdString();
        writeSafetensors(path, tensors);
        return path;
    }

    /// What the weight @p layer changes becomes at @p weight: base + weight · alpha/rank · up·down.
    at::Tensor expectedWeight(const at::Tensor& base, const Factors& layer, double weight)
    {
        const double rank = static_cast<double>(layer.down.size(0));
        const at::Tensor delta = at::matmul(layer.up.flatten(1), layer.down.flatten(1)).view(base.sizes());
        return base + delta * (weight * layer.alpha.value_or(rank) / rank);
    }

} // namespace

class TestLora final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void registryHoldsTheWeightsTheModelUses();
    void appliesAndTakesOffExactly();
    void packedProjectionsArePatchedThroughTheirViews();
    void refusesWhatItCannotApply_data();
    void refusesWhatItCannotApply();
    void aBadFileLeavesTheModelAsItWas();
    void textEncoderLoraChangesTheCachedEmbedding();
    void matchesDiffusers_data();
    void matchesDiffusers();
    void refusesTheGeneratorsFixtures_data();
    void refusesTheGeneratorsFixtures();

private:
    std::shared_ptr<const StableDiffusionModel> m_model;
    QTemporaryDir m_dir;
};

void TestLora::initTestCase()
{
    m_model = tinyModel();
    QVERIFY(m_model->weights);
    QVERIFY(m_model->loras);
}

// Every layer a LoRA can name is in the registry, and is the tensor the model computes with: from a folder and
// from a single-file checkpoint (CompVis names) alike.
void TestLora::registryHoldsTheWeightsTheModelUses()
{
    for (const std::string& name :
         {ToQ, Conv, TextQ, std::string("unet.up_blocks.1.attentions.2.proj_out.weight"),
          std::string("unet.mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"),
          std::string("unet.down_blocks.0.resnets.0.time_emb_proj.weight"),
          std::string("text_encoder.encoder.layers.1.mlp.fc2.weight")}) {
        QVERIFY2(m_model->weights->find(name), name.c_str());
    }
    const auto single = StableDiffusionModel::loadSingleFile(
        Test::fixturePath(u"tiny-sd15/single-file/tiny-sd15.safetensors"_s).toStdString(),
        Test::fixturePath(u"tiny-sd15/tokenizer"_s).toStdString());
    QCOMPARE(single->weights->size(), m_model->weights->size());
    for (const auto& [name, tensor] : m_model->weights->tensors()) {
        const at::Tensor* other = single->weights->find(name);
        QVERIFY2(other, name.c_str());
        QVERIFY2(at::equal(*other, tensor), name.c_str());
    }
}

// A set of two LoRAs (a linear, a LoCon 3×3 convolution and a text-encoder layer; one layer in both) changes each
// weight to base + Σ weight·alpha/rank·up·down; another set, then none, give the base weights back bit for bit.
void TestLora::appliesAndTakesOffExactly()
{
    c10::InferenceMode inference;
    const auto model = tinyModel();
    const at::Tensor baseQ = model->weights->find(ToQ)->clone();
    const at::Tensor baseConv = model->weights->find(Conv)->clone();
    const at::Tensor baseText = model->weights->find(TextQ)->clone();
    const Factors q1 = randomFactors(*model, ToQ, 4, 2.0, 1);
    const Factors conv = randomFactors(*model, Conv, 4, std::nullopt, 2);
    const Factors text = randomFactors(*model, TextQ, 2, 8.0, 3);
    const Factors q2 = randomFactors(*model, ToQ, 8, 4.0, 4);
    const auto a = writeLora(m_dir, u"a.safetensors"_s, {q1, conv, text});
    const auto b = writeLora(m_dir, u"b.safetensors"_s, {q2});

    model->loras->apply({{a, 0.5, 0.7}, {b, 1.0, -0.4}});
    QCOMPARE(model->loras->patchedLayers(), std::size_t{3});
    // The patcher sums in another order than this test: equal to float32 rounding of values of order 0.1.
    const auto close = [](const at::Tensor& actual, const at::Tensor& expected) {
        const double error = Test::maxAbsDifference(actual, expected);
        return error <= 1e-6 ? QString() : u"max abs difference %1"_s.arg(error);
    };
    QString mismatch = close(*model->weights->find(ToQ), expectedWeight(expectedWeight(baseQ, q1, 0.7), q2, -0.4));
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
    mismatch = close(*model->weights->find(Conv), expectedWeight(baseConv, conv, 0.7));
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
    mismatch = close(*model->weights->find(TextQ), expectedWeight(baseText, text, 0.5));
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

    // Only b: the layers only a changed are the base again, exactly.
    model->loras->apply({{b, 1.0, 1.0}});
    QCOMPARE(model->loras->patchedLayers(), std::size_t{1});
    QVERIFY(at::equal(*model->weights->find(Conv), baseConv));
    QVERIFY(at::equal(*model->weights->find(TextQ), baseText));
    mismatch = close(*model->weights->find(ToQ), expectedWeight(baseQ, q2, 1.0));
    QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

    // Back and forth many times: no drift.
    for (int i = 0; i < 20; ++i) {
        model->loras->apply({{a, 1.0, 1.0}});
        model->loras->apply({{b, 0.3, 0.3}});
    }
    model->loras->apply({});
    QCOMPARE(model->loras->patchedLayers(), std::size_t{0});
    QVERIFY(at::equal(*model->weights->find(ToQ), baseQ));
    QVERIFY(at::equal(*model->weights->find(Conv), baseConv));
    QVERIFY(at::equal(*model->weights->find(TextQ), baseText));
    QVERIFY(model->loras->current().empty());

    // A weight of 0 changes nothing.
    model->loras->apply({{a, 0.0, 0.0}});
    QCOMPARE(model->loras->patchedLayers(), std::size_t{0});
}

// On CUDA the attention projections are packed into one GEMM; a LoRA on to_k reaches the packed weight through the
// view the registry holds.
void TestLora::packedProjectionsArePatchedThroughTheirViews()
{
    c10::InferenceMode inference;
    const auto registry = std::make_shared<WeightRegistry>();
    const auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(
        Test::fixturePath(u"tiny-sd15/unet/diffusion_pytorch_model.safetensors"_s).toStdString()));
    const WeightSource source
        = WeightSource(file, "down_blocks.0.attentions.0.transformer_blocks.0.", at::TensorOptions().dtype(at::kFloat))
              .withRegistry(registry, "unet");
    const std::int64_t channels = file->find("down_blocks.0.attentions.0.proj_in.weight")->shape[0];
    const std::int64_t heads = 8;
    const MultiHeadAttention attention
        = MultiHeadAttention::load(source.sub("attn1"), channels, 0, heads, channels / heads, false, true);
    QCOMPARE(attention.projections.size(), std::size_t{1});
    const at::Tensor packed = attention.projections.front().linear.weight;
    const at::Tensor* toK = registry->find("unet.attn1.to_k.weight");
    QVERIFY(toK);
    const at::Tensor before = packed.clone();
    toK->add_(1.0);
    QVERIFY(at::equal(packed.narrow(0, channels, channels), before.narrow(0, channels, channels) + 1.0));
    QVERIFY(at::equal(packed.narrow(0, 0, channels), before.narrow(0, 0, channels)));
    QVERIFY(at::equal(packed.narrow(0, 2 * channels, channels), before.narrow(0, 2 * channels, channels)));
}

void TestLora::refusesWhatItCannotApply_data()
{
    QTest::addColumn<QStringList>("keys");
    QTest::addColumn<QString>("error");
    const QString q = QString::fromStdString(kohyaModuleName(ToQ));
    QTest::newRow("LoHa") << QStringList{q + u".hada_w1_a"_s, q + u".hada_w1_b"_s, q + u".alpha"_s}
                          << u"\"%1.hada_w1_a\" shows LoHa"_s.arg(q);
    QTest::newRow("LoKr") << QStringList{q + u".lokr_w1"_s, q + u".lokr_w2"_s} << u"\"%1.lokr_w1\" shows LoKr"_s.arg(q);
    QTest::newRow("DoRA") << QStringList{q + u".lora_down.weight"_s, q + u".lora_up.weight"_s, q + u".dora_scale"_s}
                          << u"shows DoRA"_s;
    QTest::newRow("PEFT names") << QStringList{q + u".lora_A.weight"_s} << u"the diffusers/PEFT format"_s;
    QTest::newRow("diffusers names") << QStringList{u"unet.down_blocks.0.attn1.to_q.lora_A.weight"_s}
                                     << u"not a kohya LoRA for Stable Diffusion 1.x"_s;
    QTest::newRow("SDXL") << QStringList{u"lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"_s}
                          << u"belongs to an SDXL LoRA"_s;
    QTest::newRow("a layer SD 1.x lacks")
        << QStringList{u"lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight"_s,
                       u"lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_up.weight"_s}
        << u"names a layer this model does not have"_s;
    QTest::newRow("no up factor") << QStringList{q + u".lora_down.weight"_s} << u"lacks its lora_up.weight"_s;
    QTest::newRow("bundled embedding") << QStringList{u"bundle_emb.myToken.string_to_param.*"_s}
                                       << u"embeddings bundled in a LoRA"_s;
    QTest::newRow("empty") << QStringList{} << u"holds no LoRA layers"_s;
}

void TestLora::refusesWhatItCannotApply()
{
    QFETCH(QStringList, keys);
    QFETCH(QString, error);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const QString& key : keys) {
        tensors.emplace_back(key.toStdString(), at::randn({2, 2}));
    }
    const std::filesystem::path path = m_dir.filePath(u"refused.safetensors"_s).toStdString();
    writeSafetensors(path, tensors);
    const QString message = Test::engineErrorOf([&] { LoraFile::open(path, *m_model->weights); });
    QVERIFY2(message.contains(error), qPrintable(message));
    QVERIFY2(message.contains(QString::fromStdString(path.string())), qPrintable(message));
}

// Factors of the wrong shape (a LoRA for SD 2's 1024-wide text) and a bad file are refused before any weight
// changes; the model keeps the set it had.
void TestLora::aBadFileLeavesTheModelAsItWas()
{
    c10::InferenceMode inference;
    const auto model = tinyModel();
    const Factors good = randomFactors(*model, ToQ, 4, 4.0, 5);
    const auto a = writeLora(m_dir, u"good.safetensors"_s, {good});
    model->loras->apply({{a, 1.0, 1.0}});
    const at::Tensor patched = model->weights->find(ToQ)->clone();

    Factors wide = good;
    wide.target = TextQ;
    wide.down = at::randn({4, 1024});
    const auto misshaped = writeLora(m_dir, u"wide.safetensors"_s, {wide});
    QString message = Test::engineErrorOf([&] { model->loras->apply({{misshaped, 1.0, 1.0}}); });
    QVERIFY2(message.contains(u"do not fit the model's weight"_s), qPrintable(message));
    message = Test::engineErrorOf([&] {
        model->loras->apply({{a, 1.0, 1.0}, {m_dir.filePath(u"absent.safetensors"_s).toStdString(), 1, 1}});
    });
    QVERIFY2(message.contains(u"absent.safetensors"_s), qPrintable(message));
    QVERIFY(at::equal(*model->weights->find(ToQ), patched));
    QCOMPARE(model->loras->current().size(), std::size_t{1});
}

// The embedding cache knows the text encoder's LoRAs: a prompt encoded with a LoRA is not served without it.
void TestLora::textEncoderLoraChangesTheCachedEmbedding()
{
    c10::InferenceMode inference;
    const auto model = tinyModel();
    const auto text = writeLora(m_dir, u"text.safetensors"_s, {randomFactors(*model, TextQ, 4, 4.0, 6)});
    auto cache = std::make_shared<PromptEmbeddingCache>(8);
    const Pipeline pipeline(model, cache);
    GenerationSettings settings;
    settings.steps = 2;
    settings.width = settings.height = 64;
    const ImageRequest request{"a lighthouse at dusk", "", 7, std::nullopt};
    const auto plain = pipeline.generate({request}, settings);
    settings.loras = {{text, 1.0, 1.0}};
    const auto withLora = pipeline.generate({request}, settings);
    QVERIFY(!at::equal(plain.promptEmbeds, withLora.promptEmbeds));
    const auto fresh = Pipeline(model).generate({request}, settings);
    QVERIFY(at::equal(fresh.promptEmbeds, withLora.promptEmbeds));
    settings.loras.clear();
    const auto plainAgain = pipeline.generate({request}, settings);
    QVERIFY(at::equal(plain.promptEmbeds, plainAgain.promptEmbeds));
    QVERIFY(at::equal(plain.images, plainAgain.images));
}

void TestLora::matchesDiffusers_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("weightA");
    QTest::addColumn<double>("weightB");
    QTest::newRow("no LoRA") << u"base"_s << 0.0 << 0.0;
    QTest::newRow("A at 1") << u"a"_s << 1.0 << 0.0;
    QTest::newRow("A at 0.7, B at -0.4") << u"ab"_s << 0.7 << -0.4;
}

// Against diffusers' load_lora_weights + set_adapters (peft, computing the low-rank path each step) on tiny-sd15:
// LoRA A (rank 4, alpha 2) on every UNet attention, feed-forward, projection and resnet convolution (LoCon) and every
// text-encoder layer; LoRA B (rank 8) on cross-attention keys/values, a time projection and text MLPs.
void TestLora::matchesDiffusers()
{
    QFETCH(QString, name);
    QFETCH(double, weightA);
    QFETCH(double, weightB);
    c10::InferenceMode inference;
    const SafetensorsFile golden = SafetensorsFile::open(Test::dataPath(u"lora/golden.safetensors"_s).toStdString());
    const auto tensor = [&](const QString& key) { return golden.tensor((name + u'_' + key).toStdString()); };
    const auto model = tinyModel();
    GenerationSettings settings;
    settings.scheduler = "euler";
    settings.steps = 8;
    settings.guidanceScale = 7.5;
    settings.width = settings.height = 64;
    for (const auto& [file, weight] :
         {std::pair{u"lora/lora_a.safetensors"_s, weightA}, std::pair{u"lora/lora_b.safetensors"_s, weightB}}) {
        if (weight != 0.0) {
            settings.loras.push_back({Test::dataPath(file).toStdString(), weight, weight});
        }
    }
    const auto result
        = Pipeline(model).generate({{"a lighthouse at dusk, oil painting", "", 1234, std::nullopt}}, settings);
    // The text encoder alone; classifier-free guidance puts the prompt's embedding second.
    const double embedError = Test::maxAbsDifference(result.promptEmbeds.narrow(0, 1, 1), tensor(u"prompt_embeds"_s));
    QVERIFY2(embedError <= 1e-4, qPrintable(QString::number(embedError)));
    if (name == u"a") {
        // The UNet alone, on the golden's own input.
        const at::Tensor sample = golden.tensor("a_noise_pred_sample");
        const at::Tensor noise
            = model->unet.forward(sample, at::scalar_tensor(500.0).reshape({1}), golden.tensor("a_prompt_embeds"));
        const at::Tensor expected = golden.tensor("a_noise_pred");
        const double relative = Test::maxAbsDifference(noise, expected) / expected.abs().max().item<double>();
        QVERIFY2(relative <= 1e-4, qPrintable(QString::number(relative)));
    }
    // Eight CFG-amplified steps: judged relative to the latents' size, as the pipeline's own parity tests do.
    const at::Tensor latents = tensor(u"latents"_s);
    const double latentError
        = Test::maxAbsDifference(result.finalLatents, latents) / std::max(1.0, latents.abs().max().item<double>());
    qInfo("%s: latents %.3g relative", qPrintable(name), latentError);
    QVERIFY2(latentError <= 1e-3, qPrintable(QString::number(latentError)));
    const at::Tensor image = (result.decoded / 2 + 0.5).clamp(0, 1);
    const double imageError = Test::maxAbsDifference(image, tensor(u"image"_s));
    QVERIFY2(imageError <= 2.0 / 255, qPrintable(QString::number(imageError)));
}

void TestLora::refusesTheGeneratorsFixtures_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("error");
    QTest::newRow("LoHa") << u"loha.safetensors"_s << u"shows LoHa (LyCORIS)"_s;
    QTest::newRow("LoKr") << u"lokr.safetensors"_s << u"shows LoKr (LyCORIS)"_s;
    QTest::newRow("SDXL") << u"sdxl.safetensors"_s << u"SDXL"_s;
}

void TestLora::refusesTheGeneratorsFixtures()
{
    QFETCH(QString, file);
    QFETCH(QString, error);
    const QString message = Test::engineErrorOf(
        [&] { LoraFile::open(Test::dataPath(u"lora/"_s + file).toStdString(), *m_model->weights); });
    QVERIFY2(message.contains(error), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestLora)
#include "TestLora.moc"
