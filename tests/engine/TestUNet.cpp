// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/zeros.h>

#include <c10/core/InferenceMode.h>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/DiffusionBlocks.h"
#include "engine/EngineError.h"
#include "engine/FusedKernels.h"
#include "engine/GraphRunner.h"
#include "engine/JsonConfig.h"
#include "engine/Safetensors.h"
#include "engine/UNet.h"

using namespace Atelier::Engine;
using Atelier::Test::fixturePath;
using Atelier::Test::goldenIndex;
using Atelier::Test::unetGoldenError;

namespace
{
    UNetConfig configOf(const QString& fixture)
    {
        return UNetConfig::fromConfig(
            JsonConfig::fromFile(fixturePath(fixture + QStringLiteral("/unet/config.json")).toStdString()));
    }

    UNet loadFolderUNet(const QString& fixture, bool channelsLast = false)
    {
        auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(
            fixturePath(fixture + QStringLiteral("/unet/diffusion_pytorch_model.safetensors")).toStdString()));
        return UNet::load(configOf(fixture),
                          WeightSource(file, "", at::TensorOptions().dtype(at::kFloat)).withChannelsLast(channelsLast));
    }
} // namespace

class TestUNet final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesDiffusers_data();
    void matchesDiffusers();
    void oddLatentSizesLineUp();
    void runnerIsTheUNetOnTheCpu();
    void fusedKernelsLeaveTheCpuAlone();
    void packedProjectionsMatchSeparate_data();
    void packedProjectionsMatchSeparate();
    void rejectsUnsupportedConfigs_data();
    void rejectsUnsupportedConfigs();
};

void TestUNet::matchesDiffusers_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<int>("caseIndex");
    QTest::addColumn<bool>("channelsLast");
    for (const QString& fixture : {QStringLiteral("tiny-sd"), QStringLiteral("tiny-sd15")}) {
        const QJsonArray cases = goldenIndex(fixture)[QStringLiteral("unet")][QStringLiteral("cases")].toArray();
        QVERIFY(!cases.isEmpty());
        for (int i = 0; i < cases.size(); ++i) {
            // The CUDA path runs channels-last (NHWC); the same layout on the CPU checks the layout handling of
            // every block against the goldens on machines without a GPU.
            for (const bool channelsLast : {false, true}) {
                QTest::newRow(qPrintable(QStringLiteral("%1 case %2%3: %4")
                                             .arg(fixture)
                                             .arg(i)
                                             .arg(channelsLast ? QStringLiteral(" channels-last") : QString())
                                             .arg(cases[i][QStringLiteral("note")].toString())))
                    << fixture << i << channelsLast;
            }
        }
    }
}

void TestUNet::matchesDiffusers()
{
    QFETCH(QString, fixture);
    QFETCH(int, caseIndex);
    QFETCH(bool, channelsLast);
    const double error = unetGoldenError(loadFolderUNet(fixture, channelsLast), fixture, caseIndex);
    qInfo("max abs error %.3g", error);
    QVERIFY2(error >= 0 && error <= 1e-4, qPrintable(QStringLiteral("max abs error %1").arg(error)));
}

void TestUNet::oddLatentSizesLineUp()
{
    // 40×24 latents are not a multiple of the UNet's total downsampling (8 for tiny-sd15): upsampling must meet
    // each skip connection at its own size.
    c10::InferenceMode guard;
    const UNet unet = loadFolderUNet(QStringLiteral("tiny-sd15"));
    const at::Tensor sample = at::ones({1, 4, 40, 24});
    const at::Tensor context = at::zeros({1, 77, unet.config().crossAttentionDim});
    const at::Tensor out = unet.forward(sample, at::scalar_tensor(500, at::kLong), context);
    QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{1, 4, 40, 24}));
    QVERIFY(out.isfinite().all().item<bool>());
}

void TestUNet::runnerIsTheUNetOnTheCpu()
{
    c10::InferenceMode guard;
    const UNet unet = loadFolderUNet(QStringLiteral("tiny-sd15"));
    const at::Tensor sample = at::randn({2, 4, 8, 8});
    const at::Tensor context = at::randn({2, 77, unet.config().crossAttentionDim});
    const at::Tensor t = at::scalar_tensor(321.0, at::kDouble);
    GraphRunner runner;
    QVERIFY(at::equal(runner.forward(unet, sample, t, context), unet.forward(sample, t, context)));
    // CUDA graphs are for CUDA tensors only: nothing is captured for the CPU.
    QCOMPARE(runner.graphCount(), std::size_t{0});
    QCOMPARE(runner.replays(), std::size_t{0});
}

void TestUNet::fusedKernelsLeaveTheCpuAlone()
{
    // The engine's own kernels are CUDA kernels: switched on, a CPU UNet (channels-last here, the layout they take on
    // CUDA) must still run LibTorch's, bit for bit.
    c10::InferenceMode guard;
    const UNet unet = loadFolderUNet(QStringLiteral("tiny-sd15"), /*channelsLast=*/true);
    const at::Tensor sample = at::randn({2, 4, 8, 8});
    const at::Tensor context = at::randn({2, 77, unet.config().crossAttentionDim});
    const at::Tensor t = at::scalar_tensor(321.0, at::kDouble);
    const FusedKernelSet before = fusedKernels();
    setFusedKernels(0);
    const at::Tensor off = unet.forward(sample, t, context);
    setFusedKernels(AllFusedKernels);
    const at::Tensor on = unet.forward(sample, t, context);
    setFusedKernels(before);
    QVERIFY(at::equal(on, off));
}

void TestUNet::packedProjectionsMatchSeparate_data()
{
    QTest::addColumn<QString>("layer");
    QTest::addColumn<int>("contextDim");
    QTest::newRow("self-attention: one [q;k;v] GEMM") << QStringLiteral("attn1") << 0;
    QTest::newRow("cross-attention: q, then one [k;v] GEMM") << QStringLiteral("attn2") << 48;
}

void TestUNet::packedProjectionsMatchSeparate()
{
    // On CUDA the engine packs q, k and v into wider GEMMs and hands SDPA strided views of their output; here both
    // ways run on the CPU and must agree (to GEMM rounding: a wider GEMM may sum in another order).
    QFETCH(QString, layer);
    QFETCH(int, contextDim);
    c10::InferenceMode guard;
    auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(
        fixturePath(QStringLiteral("tiny-sd15/unet/diffusion_pytorch_model.safetensors")).toStdString()));
    const WeightSource source = WeightSource(file, "", at::TensorOptions().dtype(at::kFloat))
                                    .sub("down_blocks.0.attentions.0.transformer_blocks.0")
                                    .sub(layer.toStdString());
    const auto separate = MultiHeadAttention::load(source, 32, contextDim, 8, 4, false, /*pack=*/false);
    const auto packed = MultiHeadAttention::load(source, 32, contextDim, 8, 4, false, /*pack=*/true);
    QCOMPARE(separate.projections.size(), std::size_t{3});
    QCOMPARE(packed.projections.size(), contextDim > 0 ? std::size_t{2} : std::size_t{1});
    const at::Tensor x = at::randn({2, 64, 32});
    const at::Tensor context = at::randn({2, 77, 48});
    const at::Tensor expected = separate(x, context);
    const at::Tensor actual = packed(x, context);
    QCOMPARE(actual.sizes().vec(), (std::vector<int64_t>{2, 64, 32}));
    const double error = (actual - expected).abs().max().item<double>();
    QVERIFY2(error <= 1e-5, qPrintable(QStringLiteral("max abs error %1").arg(error)));
}

void TestUNet::rejectsUnsupportedConfigs_data()
{
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing key") << QStringLiteral("remove:cross_attention_dim")
                                 << QStringLiteral("\"cross_attention_dim\" is missing");
    QTest::newRow("unknown block") << QStringLiteral(
        "set:down_block_types=[\"SimpleDownBlock2D\",\"CrossAttnDownBlock2D\"]")
                                   << QStringLiteral("down block type \"SimpleDownBlock2D\" is not supported");
    QTest::newRow("heads per block list of wrong length")
        << QStringLiteral("set:attention_head_dim=[8,8,8]") << QStringLiteral("one entry per block (2)");
    QTest::newRow("heads do not divide channels")
        << QStringLiteral("set:attention_head_dim=7") << QStringLiteral("not divisible into 7 attention heads");
    QTest::newRow("class embeddings") << QStringLiteral("set:class_embed_type=\"timestep\"")
                                      << QStringLiteral("not supported");
    // Values that cannot work: they used to load and render black images.
    QTest::newRow("no input channels") << QStringLiteral("set:in_channels=0")
                                       << QStringLiteral("in_channels must be a positive integer, got 0");
    QTest::newRow("negative output channels")
        << QStringLiteral("set:out_channels=-4") << QStringLiteral("out_channels must be a positive integer, got -4");
    QTest::newRow("a level of 0 channels") << QStringLiteral("set:block_out_channels=[32,0]")
                                           << QStringLiteral("block_out_channels[1] must be a positive integer, got 0");
    QTest::newRow("no layers per block") << QStringLiteral("set:layers_per_block=0")
                                         << QStringLiteral("layers_per_block must be a positive integer, got 0");
    QTest::newRow("no attention heads") << QStringLiteral("set:attention_head_dim=0")
                                        << QStringLiteral("attention_head_dim must be a positive integer, got 0");
    QTest::newRow("a level without transformer layers")
        << QStringLiteral("set:transformer_layers_per_block=[1,0]")
        << QStringLiteral("transformer_layers_per_block[1] must be a positive integer, got 0");
    QTest::newRow("no cross-attention width")
        << QStringLiteral("set:cross_attention_dim=0")
        << QStringLiteral("cross_attention_dim must be a positive integer, got 0");
    QTest::newRow("no norm groups") << QStringLiteral("set:norm_num_groups=0")
                                    << QStringLiteral("norm_num_groups must be a positive integer, got 0");
    QTest::newRow("norm groups that do not divide the channels")
        << QStringLiteral("set:norm_num_groups=24")
        << QStringLiteral("block_out_channels[0] must be a multiple of norm_num_groups (24), got 32");
    QTest::newRow("negative norm epsilon")
        << QStringLiteral("set:norm_eps=-1e-5") << QStringLiteral("norm_eps must be a positive number, got -1e-05");
    QTest::newRow("negative downsample padding")
        << QStringLiteral("set:downsample_padding=-1")
        << QStringLiteral("downsample_padding must be an integer of at least 0, got -1");
    QTest::newRow("no sample size") << QStringLiteral("set:sample_size=0")
                                    << QStringLiteral("sample_size must be a positive integer, got 0");
}

void TestUNet::rejectsUnsupportedConfigs()
{
    QFETCH(QString, change);
    QFETCH(QString, message);
    QFile file(fixturePath(QStringLiteral("tiny-sd/unet/config.json")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonObject config = QJsonDocument::fromJson(file.readAll()).object();
    if (change.startsWith(QStringLiteral("remove:"))) {
        config.remove(change.mid(7));
    } else {
        const QString assignment = change.mid(4);
        const QString key = assignment.section(QLatin1Char('='), 0, 0);
        const QString value = assignment.section(QLatin1Char('='), 1);
        config[key] = QJsonDocument::fromJson(QStringLiteral("{\"v\":%1}").arg(value).toUtf8())[QStringLiteral("v")];
    }
    try {
        UNetConfig::fromConfig(JsonConfig::fromText(QJsonDocument(config).toJson().toStdString(), "unet/config.json"));
        QFAIL("an unsupported config was accepted");
    } catch (const EngineError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(message), e.what());
        QVERIFY2(QString::fromUtf8(e.what()).startsWith(QStringLiteral("unet/config.json: ")), e.what());
    }
}

QTEST_GUILESS_MAIN(TestUNet)
#include "TestUNet.moc"
