// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/zeros.h>

#include <c10/core/InferenceMode.h>

#include <functional>
#include <map>
#include <set>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/ClipTextEncoder.h"
#include "engine/EngineError.h"
#include "engine/JsonConfig.h"
#include "engine/Safetensors.h"
#include "engine/SingleFileCheckpoint.h"
#include "engine/UNet.h"

using namespace Atelier::Engine;
using Atelier::Test::fixturePath;
using Atelier::Test::goldenIndex;

namespace
{
    const QString Fixture = QStringLiteral("tiny-sd15");

    std::shared_ptr<const SafetensorsFile> openShared(const QString& relative)
    {
        return std::make_shared<const SafetensorsFile>(
            SafetensorsFile::open(fixturePath(Fixture + QLatin1Char('/') + relative).toStdString()));
    }

    std::shared_ptr<const SafetensorsFile> checkpoint()
    {
        return openShared(QStringLiteral("single-file/tiny-sd15.safetensors"));
    }

    JsonConfig folderConfig(const QString& component)
    {
        return JsonConfig::fromFile(
            fixturePath(Fixture + QLatin1Char('/') + component + QStringLiteral("/config.json")).toStdString());
    }

    /// One diffusers-layout component of the fixture: its weights file and the key map that finds its names in the
    /// single file.
    struct Component
    {
        QString weights;
        WeightSource::KeyMap keyMap;
    };

    std::map<QString, Component> components(const SafetensorsFile& single)
    {
        return {
            {QStringLiteral("unet"),
             {QStringLiteral("unet/diffusion_pytorch_model.safetensors"),
              unetKeyMap(unetConfigFromCheckpoint(single))}},
            {QStringLiteral("vae"),
             {QStringLiteral("vae/diffusion_pytorch_model.safetensors"),
              vaeKeyMap(static_cast<std::int64_t>(vaeConfigFromCheckpoint(single).blockOutChannels.size()))}},
            {QStringLiteral("text_encoder"), {QStringLiteral("text_encoder/model.safetensors"), textEncoderKeyMap()}},
        };
    }

    /// Writes a copy of the checkpoint's tensors that @p keep accepts, plus @p extra, to @p path.
    void writeVariant(const SafetensorsFile& source, const std::string& path,
                      const std::function<bool(const std::string&)>& keep,
                      const std::vector<std::pair<std::string, at::Tensor>>& extra = {})
    {
        std::vector<std::pair<std::string, at::Tensor>> tensors;
        for (const SafetensorsTensorInfo& info : source.header().tensors) {
            if (keep(info.name)) {
                tensors.emplace_back(info.name, source.tensor(info.name));
            }
        }
        tensors.insert(tensors.end(), extra.begin(), extra.end());
        writeSafetensors(path, tensors);
    }

    bool isUNetKey(const std::string& key)
    {
        return key.rfind("model.diffusion_model.", 0) == 0;
    }
} // namespace

class TestSingleFileCheckpoint final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void derivesTheFolderConfigs();
    void mapsExampleNames();
    void everyFolderTensorIsInTheCheckpoint_data();
    void everyFolderTensorIsInTheCheckpoint();
    void mappingIsABijectionOntoTheModelKeys();
    void unetMatchesDiffusers_data();
    void unetMatchesDiffusers();
    void namesAMissingTensor_data();
    void namesAMissingTensor();
    void refusesOtherModelFamilies_data();
    void refusesOtherModelFamilies();
    void refusesEmptyWeights_data();
    void refusesEmptyWeights();
};

void TestSingleFileCheckpoint::derivesTheFolderConfigs()
{
    const auto single = checkpoint();
    QVERIFY(isSingleFileCheckpoint(*single));
    QVERIFY(!isSingleFileCheckpoint(*openShared(QStringLiteral("unet/diffusion_pytorch_model.safetensors"))));

    const UNetConfig derived = unetConfigFromCheckpoint(*single);
    const UNetConfig folder = UNetConfig::fromConfig(folderConfig(QStringLiteral("unet")));
    QCOMPARE(derived.inChannels, folder.inChannels);
    QCOMPARE(derived.outChannels, folder.outChannels);
    QCOMPARE(derived.blockOutChannels, folder.blockOutChannels);
    QCOMPARE(derived.downBlockTypes, folder.downBlockTypes);
    QCOMPARE(derived.upBlockTypes, folder.upBlockTypes);
    QCOMPARE(derived.layersPerBlock, folder.layersPerBlock);
    QCOMPARE(derived.headsPerBlock, folder.headsPerBlock);
    QCOMPARE(derived.transformerLayersPerBlock, folder.transformerLayersPerBlock);
    QCOMPARE(derived.crossAttentionDim, folder.crossAttentionDim);
    QCOMPARE(derived.normGroups, folder.normGroups);
    QCOMPARE(derived.normEps, folder.normEps);
    QCOMPARE(derived.downsamplePadding, folder.downsamplePadding);
    QCOMPARE(derived.flipSinToCos, folder.flipSinToCos);
    QCOMPARE(derived.freqShift, folder.freqShift);
    QCOMPARE(derived.linearProjection, folder.linearProjection);
    // The training size is not in the weights: a single file is taken to be SD 1.x's 512 px (64 latents), while
    // the tiny fixture's folder config says 8.
    QCOMPARE(derived.sampleSize, std::int64_t{64});

    const ClipTextConfig text = textConfigFromCheckpoint(*single);
    const ClipTextConfig folderText = ClipTextConfig::fromConfig(folderConfig(QStringLiteral("text_encoder")));
    QCOMPARE(text.vocabSize, folderText.vocabSize);
    QCOMPARE(text.hiddenSize, folderText.hiddenSize);
    QCOMPARE(text.intermediateSize, folderText.intermediateSize);
    QCOMPARE(text.numLayers, folderText.numLayers);
    QCOMPARE(text.numHeads, folderText.numHeads);
    QCOMPARE(text.maxPositions, folderText.maxPositions);
    QCOMPARE(text.layerNormEps, folderText.layerNormEps);
    QCOMPARE(text.hiddenAct, folderText.hiddenAct);

    const VaeConfig vae = vaeConfigFromCheckpoint(*single);
    const JsonConfig folderVae = folderConfig(QStringLiteral("vae"));
    QCOMPARE(vae.blockOutChannels, folderVae.integers("block_out_channels"));
    QCOMPARE(vae.layersPerBlock, folderVae.integer("layers_per_block"));
    QCOMPARE(vae.latentChannels, folderVae.integer("latent_channels"));
    QCOMPARE(vae.outChannels, folderVae.integer("out_channels"));
    QCOMPARE(vae.normGroups, folderVae.integer("norm_num_groups"));
    QCOMPARE(vae.scalingFactor, folderVae.number("scaling_factor"));
    QVERIFY(vae.postQuantConv && vae.midAttention);
}

void TestSingleFileCheckpoint::mapsExampleNames()
{
    const UNetConfig sd15; // SD 1.5's own layout: 4 levels, 2 resnets each, no attention at the deepest
    const auto unet = unetKeyMap(sd15);
    QCOMPARE(unet("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight"),
             std::string("model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight"));
    QCOMPARE(unet("down_blocks.2.downsamplers.0.conv.bias"),
             std::string("model.diffusion_model.input_blocks.9.0.op.bias"));
    QCOMPARE(unet("mid_block.resnets.1.time_emb_proj.weight"),
             std::string("model.diffusion_model.middle_block.2.emb_layers.1.weight"));
    QCOMPARE(unet("up_blocks.0.upsamplers.0.conv.weight"),
             std::string("model.diffusion_model.output_blocks.2.1.conv.weight"));
    QCOMPARE(unet("up_blocks.2.upsamplers.0.conv.weight"),
             std::string("model.diffusion_model.output_blocks.8.2.conv.weight"));
    QCOMPARE(unet("up_blocks.3.resnets.2.conv_shortcut.weight"),
             std::string("model.diffusion_model.output_blocks.11.0.skip_connection.weight"));
    QCOMPARE(unet("time_embedding.linear_2.bias"), std::string("model.diffusion_model.time_embed.2.bias"));
    QCOMPARE(unet("conv_norm_out.weight"), std::string("model.diffusion_model.out.0.weight"));
    // Unknown names keep their spelling, so the load fails naming them.
    QCOMPARE(unet("no_such.weight"), std::string("model.diffusion_model.no_such.weight"));

    const auto vae = vaeKeyMap(4);
    QCOMPARE(vae("decoder.mid_block.attentions.0.to_q.weight"),
             std::string("first_stage_model.decoder.mid.attn_1.q.weight"));
    QCOMPARE(vae("decoder.mid_block.attentions.0.to_out.0.bias"),
             std::string("first_stage_model.decoder.mid.attn_1.proj_out.bias"));
    QCOMPARE(vae("decoder.up_blocks.0.resnets.1.conv1.weight"),
             std::string("first_stage_model.decoder.up.3.block.1.conv1.weight"));
    QCOMPARE(vae("decoder.up_blocks.3.resnets.0.conv_shortcut.weight"),
             std::string("first_stage_model.decoder.up.0.block.0.nin_shortcut.weight"));
    QCOMPARE(vae("post_quant_conv.weight"), std::string("first_stage_model.post_quant_conv.weight"));

    const auto text = textEncoderKeyMap();
    const std::string token = "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight";
    QCOMPARE(text("embeddings.token_embedding.weight"), token);
    QCOMPARE(text("text_model.embeddings.token_embedding.weight"), token);
}

void TestSingleFileCheckpoint::everyFolderTensorIsInTheCheckpoint_data()
{
    QTest::addColumn<QString>("component");
    for (const QString& component : {QStringLiteral("unet"), QStringLiteral("vae"), QStringLiteral("text_encoder")}) {
        QTest::newRow(qPrintable(component)) << component;
    }
}

void TestSingleFileCheckpoint::everyFolderTensorIsInTheCheckpoint()
{
    // Each folder weight is loaded from the single file through WeightSource, by its diffusers name and shape, as
    // the models ask for it; this also covers the VAE attention's 1×1-convolution weights loading as Linear ones.
    QFETCH(QString, component);
    c10::InferenceMode guard;
    const auto single = checkpoint();
    const Component c = components(*single).at(component);
    const auto folder = openShared(c.weights);
    const WeightSource source(single, "", at::TensorOptions(), c.keyMap);
    QVERIFY(!folder->header().tensors.empty());
    for (const SafetensorsTensorInfo& info : folder->header().tensors) {
        const at::Tensor expected = folder->tensor(info.name);
        const at::Tensor loaded = source.load(info.name, info.shape);
        QVERIFY2(loaded.scalar_type() == expected.scalar_type() && at::equal(loaded, expected),
                 qPrintable(QStringLiteral("%1 → %2 differs")
                                .arg(QString::fromStdString(info.name), QString::fromStdString(c.keyMap(info.name)))));
    }
}

void TestSingleFileCheckpoint::mappingIsABijectionOntoTheModelKeys()
{
    const auto single = checkpoint();
    std::map<std::string, std::string> hit; // checkpoint key → the diffusers name that maps to it
    for (const auto& [name, c] : components(*single)) {
        const auto folder = openShared(c.weights);
        for (const SafetensorsTensorInfo& info : folder->header().tensors) {
            const std::string key = c.keyMap(info.name);
            QVERIFY2(single->contains(key),
                     qPrintable(QStringLiteral("%1 %2 maps to %3, which the checkpoint lacks")
                                    .arg(name, QString::fromStdString(info.name), QString::fromStdString(key))));
            const auto [it, inserted] = hit.emplace(key, name.toStdString() + ":" + info.name);
            QVERIFY2(inserted,
                     qPrintable(QStringLiteral("%1 and %2:%3 both map to %4")
                                    .arg(QString::fromStdString(it->second), name, QString::fromStdString(info.name),
                                         QString::fromStdString(key))));
        }
    }
    int modelKeys = 0;
    for (const SafetensorsTensorInfo& info : single->header().tensors) {
        const std::string& key = info.name;
        const bool model
            = isUNetKey(key) || key.rfind("first_stage_model.", 0) == 0 || key.rfind("cond_stage_model.", 0) == 0;
        if (!model || key.ends_with(".position_ids")) {
            continue;
        }
        ++modelKeys;
        QVERIFY2(hit.contains(key),
                 qPrintable(QStringLiteral("no diffusers weight maps to %1").arg(QString::fromStdString(key))));
    }
    QVERIFY(modelKeys > 900);
}

void TestSingleFileCheckpoint::unetMatchesDiffusers_data()
{
    QTest::addColumn<int>("caseIndex");
    const QJsonArray cases = goldenIndex(Fixture)[QStringLiteral("unet")][QStringLiteral("cases")].toArray();
    QVERIFY(!cases.isEmpty());
    for (int i = 0; i < cases.size(); ++i) {
        QTest::newRow(qPrintable(QStringLiteral("case %1: %2").arg(i).arg(cases[i][QStringLiteral("note")].toString())))
            << i;
    }
}

void TestSingleFileCheckpoint::unetMatchesDiffusers()
{
    QFETCH(int, caseIndex);
    c10::InferenceMode guard;
    const auto single = checkpoint();
    const UNetConfig config = unetConfigFromCheckpoint(*single);
    const UNet unet
        = UNet::load(config, WeightSource(single, "", at::TensorOptions().dtype(at::kFloat), unetKeyMap(config)));
    const double error = Atelier::Test::unetGoldenError(unet, Fixture, caseIndex);
    qInfo("max abs error %.3g", error);
    QVERIFY2(error >= 0 && error <= 1e-4, qPrintable(QStringLiteral("max abs error %1").arg(error)));
}

void TestSingleFileCheckpoint::namesAMissingTensor_data()
{
    QTest::addColumn<QString>("missing");
    // The upsampler after a level with attention sits at element 2 of its output block, not 1.
    QTest::newRow("unet upsampler") << QStringLiteral("model.diffusion_model.output_blocks.5.2.conv.weight");
    QTest::newRow("unet resnet time projection")
        << QStringLiteral("model.diffusion_model.input_blocks.7.0.emb_layers.1.bias");
    QTest::newRow("text encoder") << QStringLiteral(
        "cond_stage_model.transformer.text_model.encoder.layers.2.mlp.fc2.bias");
}

void TestSingleFileCheckpoint::namesAMissingTensor()
{
    QFETCH(QString, missing);
    c10::InferenceMode guard;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("truncated.safetensors")).toStdString();
    const std::string key = missing.toStdString();
    const auto single = checkpoint();
    QVERIFY(single->contains(key));
    writeVariant(*single, path, [&](const std::string& name) { return name != key; });
    const auto truncated = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(path));
    QCOMPARE(truncated->header().tensors.size() + 1, single->header().tensors.size());
    try {
        if (isUNetKey(key)) {
            const UNetConfig config = unetConfigFromCheckpoint(*truncated);
            UNet::load(config, WeightSource(truncated, "", at::TensorOptions(), unetKeyMap(config)));
        } else {
            ClipTextEncoder::load(textConfigFromCheckpoint(*truncated),
                                  WeightSource(truncated, "text_model.", at::TensorOptions(), textEncoderKeyMap()));
        }
        QFAIL("a checkpoint with a missing tensor loaded");
    } catch (const EngineError& e) {
        qInfo("%s", e.what());
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.contains(QStringLiteral("\"%1\"").arg(missing)), e.what());
        QVERIFY2(message.contains(QStringLiteral("truncated.safetensors")), e.what());
    }
}

void TestSingleFileCheckpoint::refusesOtherModelFamilies_data()
{
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("message");
    QTest::newRow("SDXL conditioner") << QStringLiteral("sdxl") << QStringLiteral("SDXL checkpoint");
    QTest::newRow("SDXL label embedding") << QStringLiteral("sdxl-label") << QStringLiteral("SDXL checkpoint");
    QTest::newRow("SD 2 OpenCLIP") << QStringLiteral("sd2-openclip") << QStringLiteral("Stable Diffusion 2.x");
    QTest::newRow("SD 2 linear projection") << QStringLiteral("sd2-linear") << QStringLiteral("Stable Diffusion 2.x");
    QTest::newRow("SD 2 1024-wide context") << QStringLiteral("sd2-context") << QStringLiteral("Stable Diffusion 2.x");
    QTest::newRow("diffusers component") << QStringLiteral("folder-unet")
                                         << QStringLiteral("not a single-file Stable Diffusion checkpoint");
}

void TestSingleFileCheckpoint::refusesOtherModelFamilies()
{
    QFETCH(QString, family);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("other.safetensors")).toStdString();
    const auto single = checkpoint();
    const std::string midProjIn = "model.diffusion_model.middle_block.1.proj_in.weight";
    const std::string midToK = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight";
    // Each variant is the tiny UNet with what gives the other family away.
    if (family == QStringLiteral("sdxl")) {
        writeVariant(*single, path, isUNetKey,
                     {{"conditioner.embedders.1.model.token_embedding.weight", at::zeros({8, 4})}});
    } else if (family == QStringLiteral("sdxl-label")) {
        writeVariant(*single, path, isUNetKey, {{"model.diffusion_model.label_emb.0.0.weight", at::zeros({8, 4})}});
    } else if (family == QStringLiteral("sd2-openclip")) {
        writeVariant(*single, path, isUNetKey, {{"cond_stage_model.model.token_embedding.weight", at::zeros({8, 4})}});
    } else if (family == QStringLiteral("sd2-linear")) {
        writeVariant(*single, path, [&](const std::string& k) { return isUNetKey(k) && k != midProjIn; },
                     {{midProjIn, at::zeros({64, 64})}});
    } else if (family == QStringLiteral("sd2-context")) {
        writeVariant(*single, path, [&](const std::string& k) { return isUNetKey(k) && k != midToK; },
                     {{midToK, at::zeros({64, 1024})}});
    } else {
        writeVariant(*openShared(QStringLiteral("unet/diffusion_pytorch_model.safetensors")), path,
                     [](const std::string&) { return true; });
    }
    const auto other = SafetensorsFile::open(path);
    try {
        unetConfigFromCheckpoint(other);
        QFAIL("another model family was accepted");
    } catch (const EngineError& e) {
        qInfo("%s", e.what());
        QVERIFY2(QString::fromUtf8(e.what()).contains(message), e.what());
        QVERIFY2(QString::fromUtf8(e.what()).startsWith(QString::fromStdString(path)), e.what());
    }
}

void TestSingleFileCheckpoint::refusesEmptyWeights_data()
{
    // The configs' sizes come from these weights' shapes; a zero extent gave a model with no channels.
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("emptied"); // the dimension set to 0
    QTest::addColumn<QString>("shape"); // the shape the message must show
    QTest::newRow("UNet input channels") << QStringLiteral("model.diffusion_model.input_blocks.0.0.weight") << 1
                                         << QStringLiteral("[32, 0, 3, 3]");
    QTest::newRow("VAE latent channels") << QStringLiteral("first_stage_model.decoder.conv_in.weight") << 1
                                         << QStringLiteral("[64, 0, 3, 3]");
    QTest::newRow("text vocabulary") << QStringLiteral(
        "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight")
                                     << 0 << QStringLiteral("[0, 48]");
}

void TestSingleFileCheckpoint::refusesEmptyWeights()
{
    QFETCH(QString, key);
    QFETCH(int, emptied);
    QFETCH(QString, shape);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("empty.safetensors")).toStdString();
    const std::string name = key.toStdString();
    const auto single = checkpoint();
    QVERIFY(single->contains(name));
    std::vector<std::int64_t> sizes = single->tensor(name).sizes().vec();
    sizes.at(static_cast<std::size_t>(emptied)) = 0;
    writeVariant(*single, path, [&](const std::string& k) { return k != name; }, {{name, at::zeros(sizes)}});
    const auto file = SafetensorsFile::open(path);
    try {
        if (isUNetKey(name)) {
            unetConfigFromCheckpoint(file);
        } else if (key.startsWith(QStringLiteral("first_stage_model."))) {
            vaeConfigFromCheckpoint(file);
        } else {
            textConfigFromCheckpoint(file);
        }
        QFAIL("a checkpoint with an empty weight was accepted");
    } catch (const EngineError& e) {
        QCOMPARE(QString::fromUtf8(e.what()),
                 QString::fromStdString(path)
                     + QStringLiteral(": weight \"%1\" has the empty shape %2").arg(key, shape));
    }
}

QTEST_GUILESS_MAIN(TestSingleFileCheckpoint)
#include "TestSingleFileCheckpoint.moc"
