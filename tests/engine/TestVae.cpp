// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/tensor.h>

#include <c10/core/InferenceMode.h>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/EngineError.h"
#include "engine/GraphRunner.h"
#include "engine/JsonConfig.h"
#include "engine/Safetensors.h"
#include "engine/Vae.h"

using namespace Atelier::Engine;
using Atelier::Test::fixturePath;
using Atelier::Test::goldenIndex;

class TestVae final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decodesLikeDiffusers_data();
    void decodesLikeDiffusers();
    void postprocessClampsAndScales();
    void rejectsUnsupportedConfig();
    void rejectsValuesThatCannotWork_data();
    void rejectsValuesThatCannotWork();
};

void TestVae::decodesLikeDiffusers_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<int>("caseIndex");
    // Channels-last too: ModelPlacement::vaeChannelsLast lays the decoder out NHWC (attention's token view included).
    QTest::addColumn<bool>("channelsLast");
    for (const QString& fixture : {QStringLiteral("tiny-sd"), QStringLiteral("tiny-sd15")}) {
        const QJsonArray cases = goldenIndex(fixture)[QStringLiteral("vae")][QStringLiteral("cases")].toArray();
        QVERIFY(!cases.isEmpty());
        for (int i = 0; i < cases.size(); ++i) {
            for (const bool channelsLast : {false, true}) {
                QTest::newRow(
                    qPrintable(QStringLiteral("%1 case %2%3").arg(fixture).arg(i).arg(channelsLast ? u", NHWC" : u"")))
                    << fixture << i << channelsLast;
            }
        }
    }
}

void TestVae::decodesLikeDiffusers()
{
    QFETCH(QString, fixture);
    QFETCH(int, caseIndex);
    QFETCH(bool, channelsLast);
    c10::InferenceMode guard;
    const auto config = VaeConfig::fromConfig(
        JsonConfig::fromFile(fixturePath(fixture + QStringLiteral("/vae/config.json")).toStdString()));
    auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(
        fixturePath(fixture + QStringLiteral("/vae/diffusion_pytorch_model.safetensors")).toStdString()));
    const VaeDecoder vae = VaeDecoder::load(
        config, WeightSource(file, "", at::TensorOptions().dtype(at::kFloat)).withChannelsLast(channelsLast));

    const Atelier::Test::GoldenCase golden(fixture, QStringLiteral("vae"), caseIndex);
    auto tensor = [&](const char* field) { return golden.tensor(field); };
    const at::Tensor decoded = vae.decode(tensor("latents"));
    QVERIFY(decoded.is_contiguous()); // NCHW out, whatever the decoder's own layout
    const at::Tensor expected = tensor("decoded");
    // The pipeline decodes through its GraphRunner: on the CPU that is the decoder itself, bit for bit.
    GraphRunner runner;
    QVERIFY(at::equal(runner.decode(vae, tensor("latents")), decoded));
    QCOMPARE(runner.graphCount(), std::size_t{0});
    QCOMPARE(decoded.sizes().vec(), expected.sizes().vec());
    const double error = (decoded - expected).abs().max().item<double>();
    qInfo("decoded max abs error %.3g", error);
    QVERIFY2(error <= 1e-4, qPrintable(QStringLiteral("max abs error %1").arg(error)));

    // Post-processing of the golden decoded tensor must give the golden bytes exactly; ours within one level.
    QVERIFY(at::equal(toUint8Image(expected), tensor("image_uint8")));
    const double pixelError
        = (toUint8Image(decoded).to(at::kInt) - tensor("image_uint8").to(at::kInt)).abs().max().item<double>();
    QVERIFY2(pixelError <= 1, qPrintable(QStringLiteral("pixel error %1").arg(pixelError)));
}

void TestVae::postprocessClampsAndScales()
{
    // Out-of-range values clamp; x = 2k/255 - 1 lands on pixel k; 0 is 127.5, which rounds up to 128.
    const at::Tensor decoded
        = at::tensor({-2.0, -1.0, 1.0, 3.0, 0.0, 2.0 * 10 / 255 - 1, 2.0 * 200 / 255 - 1}, at::kDouble)
              .view({1, 1, 1, 7});
    const at::Tensor image = toUint8Image(decoded);
    QCOMPARE(image.sizes().vec(), (std::vector<int64_t>{1, 1, 7, 1}));
    QCOMPARE(image.scalar_type(), at::kByte);
    const std::vector<int> expected{0, 0, 255, 255, 128, 10, 200};
    for (int i = 0; i < 7; ++i) {
        QCOMPARE(image[0][0][i][0].item<int>(), expected[i]);
    }
}

void TestVae::rejectsUnsupportedConfig()
{
    const std::string json = R"({"block_out_channels":[32,64],"up_block_types":["UpDecoderBlock2D","UpDecoderBlock2D"],
        "layers_per_block":2,"latent_channels":16,"out_channels":3,"shift_factor":0.1159})";
    QVERIFY_THROWS_EXCEPTION(EngineError, VaeConfig::fromConfig(JsonConfig::fromText(json, "vae/config.json")));
    const std::string missing
        = R"({"block_out_channels":[32,64],"up_block_types":["UpDecoderBlock2D","UpDecoderBlock2D"]})";
    try {
        VaeConfig::fromConfig(JsonConfig::fromText(missing, "vae/config.json"));
        QFAIL("accepted a config without layers_per_block");
    } catch (const EngineError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("\"layers_per_block\" is missing")), e.what());
    }
}

void TestVae::rejectsValuesThatCannotWork_data()
{
    // Each row changes members of tiny-sd15's vae/config.json as a file would hold them; an empty message means the
    // changed config must load.
    QTest::addColumn<QString>("changes");
    QTest::addColumn<QString>("message");

    QTest::newRow("unchanged") << QString() << QString();
    QTest::newRow("scaling_factor null takes the default") << QStringLiteral(R"("scaling_factor": null)") << QString();
    QTest::newRow("scaling_factor 0") << QStringLiteral(R"("scaling_factor": 0)")
                                      << QStringLiteral("scaling_factor must be a positive number, got 0");
    QTest::newRow("scaling_factor negative")
        << QStringLiteral(R"("scaling_factor": -0.18215)")
        << QStringLiteral("scaling_factor must be a positive number, got -0.18215");
    QTest::newRow("scaling_factor NaN") << QStringLiteral(R"("scaling_factor": NaN)")
                                        << QStringLiteral("scaling_factor must be a positive number, got NaN");
    QTest::newRow("scaling_factor Infinity")
        << QStringLiteral(R"("scaling_factor": Infinity)")
        << QStringLiteral("scaling_factor must be a positive number, got Infinity");
    QTest::newRow("latent_channels 0") << QStringLiteral(R"("latent_channels": 0)")
                                       << QStringLiteral("latent_channels must be a positive integer, got 0");
    QTest::newRow("out_channels negative")
        << QStringLiteral(R"("out_channels": -3)") << QStringLiteral("out_channels must be a positive integer, got -3");
    QTest::newRow("layers_per_block 0") << QStringLiteral(R"("layers_per_block": 0)")
                                        << QStringLiteral("layers_per_block must be a positive integer, got 0");
    QTest::newRow("a level of 0 channels") << QStringLiteral(R"("block_out_channels": [32, 0, 64, 64])")
                                           << QStringLiteral("block_out_channels[1] must be a positive integer, got 0");
    QTest::newRow("a level of negative channels")
        << QStringLiteral(R"("block_out_channels": [32, 32, 64, -64])")
        << QStringLiteral("block_out_channels[3] must be a positive integer, got -64");
    QTest::newRow("in_channels 0 (the encoder's)")
        << QStringLiteral(R"("in_channels": 0)") << QStringLiteral("in_channels must be a positive integer, got 0");
    QTest::newRow("in_channels null takes the default") << QStringLiteral(R"("in_channels": null)") << QString();
    QTest::newRow("down_block_types of another length")
        << QStringLiteral(R"("down_block_types": ["DownEncoderBlock2D"])")
        << QStringLiteral("\"down_block_types\" must have one entry per block");
    QTest::newRow("norm_num_groups 0") << QStringLiteral(R"("norm_num_groups": 0)")
                                       << QStringLiteral("norm_num_groups must be a positive integer, got 0");
    QTest::newRow("norm groups that do not divide the channels")
        << QStringLiteral(R"("norm_num_groups": 12)")
        << QStringLiteral("block_out_channels[0] must be a multiple of norm_num_groups (12), got 32");
}

void TestVae::rejectsValuesThatCannotWork()
{
    // Such configs used to load and render black images with exit status 0.
    QFETCH(QString, changes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = Atelier::Test::writeChangedConfig(QStringLiteral("tiny-sd15"),
                                                           QStringLiteral("vae/config.json"), dir.path(), changes);
    QVERIFY(!path.isEmpty());
    QString error;
    try {
        VaeConfig::fromConfig(JsonConfig::fromFile(path.toStdString()));
    } catch (const EngineError& e) {
        error = QString::fromUtf8(e.what());
    }
    QCOMPARE(error, message.isEmpty() ? QString() : path + QStringLiteral(": ") + message);
}

QTEST_GUILESS_MAIN(TestVae)
#include "TestVae.moc"
