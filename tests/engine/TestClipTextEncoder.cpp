// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>

#include <c10/core/InferenceMode.h>

#include "TestSupport.h"
#include "engine/ClipTextEncoder.h"
#include "engine/EngineError.h"
#include "engine/JsonConfig.h"
#include "engine/Safetensors.h"

using namespace Atelier::Engine;
using Atelier::Test::dataPath;
using Atelier::Test::fixturePath;
using Atelier::Test::goldenIndex;

namespace
{
    std::shared_ptr<const SafetensorsFile> openShared(const QString& path)
    {
        return std::make_shared<const SafetensorsFile>(SafetensorsFile::open(path.toStdString()));
    }

    double maxAbsError(const at::Tensor& a, const at::Tensor& b)
    {
        return (a - b).abs().max().item<double>();
    }
} // namespace

class TestClipTextEncoder final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesTransformers_data();
    void matchesTransformers();
    void clipSkipTakesAnEarlierLayer_data();
    void clipSkipTakesAnEarlierLayer();
    void reportsMissingAndMisshapedWeights();
    void reportsBadConfig_data();
    void reportsBadConfig();
};

void TestClipTextEncoder::matchesTransformers_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("weights");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<int>("caseIndex");
    const QList<std::pair<QString, QString>> sources{
        {QStringLiteral("tiny-sd"), QStringLiteral("text_encoder/model.safetensors")},
        {QStringLiteral("tiny-sd15"), QStringLiteral("text_encoder/model.safetensors")},
        {QStringLiteral("tiny-sd15"), QStringLiteral("single-file/tiny-sd15.safetensors")},
    };
    for (const auto& [fixture, weights] : sources) {
        const bool singleFile = weights.startsWith(QStringLiteral("single-file"));
        const QString prefix
            = singleFile ? QStringLiteral("cond_stage_model.transformer.text_model.") : QStringLiteral("text_model.");
        const QJsonArray cases
            = goldenIndex(fixture)[QStringLiteral("text_encoder")][QStringLiteral("cases")].toArray();
        QVERIFY(!cases.isEmpty());
        for (int i = 0; i < cases.size(); ++i) {
            const QString name
                = QStringLiteral("%1 %2 case %3 (%4)")
                      .arg(fixture, singleFile ? QStringLiteral("single-file") : QStringLiteral("folder"))
                      .arg(i)
                      .arg(cases[i][QStringLiteral("prompt")].toString().left(30));
            QTest::newRow(qPrintable(name)) << fixture << weights << prefix << i;
        }
    }
}

void TestClipTextEncoder::matchesTransformers()
{
    QFETCH(QString, fixture);
    QFETCH(QString, weights);
    QFETCH(QString, prefix);
    QFETCH(int, caseIndex);
    c10::InferenceMode guard;

    const auto config = ClipTextConfig::fromConfig(
        JsonConfig::fromFile(fixturePath(fixture + QStringLiteral("/text_encoder/config.json")).toStdString()));
    const WeightSource source(openShared(fixturePath(fixture + QLatin1Char('/') + weights)), prefix.toStdString(),
                              at::TensorOptions().dtype(at::kFloat));
    const ClipTextEncoder encoder = ClipTextEncoder::load(config, source);

    const QJsonObject golden
        = goldenIndex(fixture)[QStringLiteral("text_encoder")][QStringLiteral("cases")].toArray()[caseIndex].toObject();
    const auto goldens = SafetensorsFile::open(
        fixturePath(fixture + QStringLiteral("/goldens/text_encoder.safetensors")).toStdString());
    const at::Tensor ids
        = goldens.tensor(golden[QStringLiteral("input_ids")][QStringLiteral("key")].toString().toStdString());
    const at::Tensor expected
        = goldens.tensor(golden[QStringLiteral("last_hidden_state")][QStringLiteral("key")].toString().toStdString());

    const at::Tensor hidden = encoder.forward(ids);
    QCOMPARE(hidden.sizes().vec(), expected.sizes().vec());
    const double error = maxAbsError(hidden, expected);
    QVERIFY2(error <= 1e-4, qPrintable(QStringLiteral("max abs error %1").arg(error)));
}

void TestClipTextEncoder::clipSkipTakesAnEarlierLayer_data()
{
    QTest::addColumn<int>("clipSkip");
    QTest::addColumn<int>("caseIndex");
    // The fixture's encoder has 3 layers: every skip it allows, on three prompts (one empty).
    for (int skip = 1; skip <= 3; ++skip) {
        for (int i = 0; i < 3; ++i) {
            QTest::addRow("clip skip %d, prompt %d", skip, i) << skip << i;
        }
    }
}

void TestClipTextEncoder::clipSkipTakesAnEarlierLayer()
{
    // Against transformers' hidden_states[-N] through the final layer norm (tests/data/clip-skip/make_golden.py).
    QFETCH(int, clipSkip);
    QFETCH(int, caseIndex);
    c10::InferenceMode guard;
    const QString fixture = QStringLiteral("tiny-sd15");
    const auto config = ClipTextConfig::fromConfig(
        JsonConfig::fromFile(fixturePath(fixture + QStringLiteral("/text_encoder/config.json")).toStdString()));
    const WeightSource source(openShared(fixturePath(fixture + QStringLiteral("/text_encoder/model.safetensors"))),
                              "text_model.", at::TensorOptions().dtype(at::kFloat));
    const ClipTextEncoder encoder = ClipTextEncoder::load(config, source);
    QCOMPARE(encoder.layerCount(), 3);
    const auto goldens
        = SafetensorsFile::open(dataPath(QStringLiteral("clip-skip/clip_skip.safetensors")).toStdString());
    const at::Tensor ids = goldens.tensor("ids_" + std::to_string(caseIndex));
    const at::Tensor expected = goldens.tensor("skip" + std::to_string(clipSkip) + "_" + std::to_string(caseIndex));
    const double error = maxAbsError(encoder.forward(ids, clipSkip), expected);
    QVERIFY2(error <= 1e-4, qPrintable(QStringLiteral("max abs error %1").arg(error)));
    if (clipSkip > 1) {
        // It is another layer, not a rounding of the same one.
        QVERIFY(maxAbsError(encoder.forward(ids, clipSkip), encoder.forward(ids)) > 1e-3);
    }
    for (const int bad : {0, 4}) {
        try {
            encoder.forward(ids, bad);
            QFAIL("a clip skip beyond the layers was taken");
        } catch (const EngineError& error) {
            QVERIFY2(QString::fromStdString(error.what()).contains(QStringLiteral("from 1 to 3")), error.what());
        }
    }
}

void TestClipTextEncoder::reportsMissingAndMisshapedWeights()
{
    const auto config = ClipTextConfig::fromConfig(
        JsonConfig::fromFile(fixturePath(QStringLiteral("tiny-sd/text_encoder/config.json")).toStdString()));
    const auto file = openShared(fixturePath(QStringLiteral("tiny-sd/text_encoder/model.safetensors")));
    try {
        ClipTextEncoder::load(config, WeightSource(file, "no_such_prefix.", at::TensorOptions()));
        QFAIL("loaded weights that are not there");
    } catch (const EngineError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(
                     QStringLiteral("has no weight \"no_such_prefix.embeddings.token_embedding.weight\"")),
                 e.what());
    }
    ClipTextConfig wider = config;
    wider.hiddenSize = 64;
    try {
        ClipTextEncoder::load(wider, WeightSource(file, "text_model.", at::TensorOptions()));
        QFAIL("loaded weights of the wrong shape");
    } catch (const EngineError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(
                     QStringLiteral("has shape [49408, 32] but the model's configuration needs [49408, 64]")),
                 e.what());
    }
}

void TestClipTextEncoder::reportsBadConfig_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("not JSON") << QByteArray("{hidden_size: 1") << QStringLiteral("not valid JSON");
    QTest::newRow("missing key") << QByteArray(
        R"({"vocab_size":10,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":1,"max_position_embeddings":77})")
                                 << QStringLiteral("\"hidden_size\" is missing");
    QTest::newRow("ill-typed key") << QByteArray(
        R"({"vocab_size":10,"hidden_size":"32","intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":1,"max_position_embeddings":77})")
                                   << QStringLiteral("\"hidden_size\" must be an integer");
    QTest::newRow("heads do not divide width") << QByteArray(
        R"({"vocab_size":10,"hidden_size":30,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":77})")
                                               << QStringLiteral("multiple of \"num_attention_heads\"");
    // Values that cannot work: they used to load and fail later, or render black images.
    QTest::newRow("no vocabulary") << QByteArray(
        R"({"vocab_size":0,"hidden_size":32,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":77})")
                                   << QStringLiteral("vocab_size must be a positive integer, got 0");
    QTest::newRow("negative width") << QByteArray(
        R"({"vocab_size":10,"hidden_size":-32,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":77})")
                                    << QStringLiteral("hidden_size must be a positive integer, got -32");
    QTest::newRow("no layers") << QByteArray(
        R"({"vocab_size":10,"hidden_size":32,"intermediate_size":4,"num_hidden_layers":0,"num_attention_heads":4,"max_position_embeddings":77})")
                               << QStringLiteral("num_hidden_layers must be a positive integer, got 0");
    QTest::newRow("no heads") << QByteArray(
        R"({"vocab_size":10,"hidden_size":32,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":0,"max_position_embeddings":77})")
                              << QStringLiteral("num_attention_heads must be a positive integer, got 0");
    QTest::newRow("no positions") << QByteArray(
        R"({"vocab_size":10,"hidden_size":32,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":0})")
                                  << QStringLiteral("max_position_embeddings must be a positive integer, got 0");
    QTest::newRow("layer norm epsilon NaN") << QByteArray(
        R"({"vocab_size":10,"hidden_size":32,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":77,"layer_norm_eps":NaN})")
                                            << QStringLiteral("layer_norm_eps must be a positive number, got NaN");
    QTest::newRow("unknown activation") << QByteArray(
        R"({"vocab_size":10,"hidden_size":32,"intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":4,"max_position_embeddings":77,"hidden_act":"relu"})")
                                        << QStringLiteral("\"hidden_act\" \"relu\" is not supported");
}

void TestClipTextEncoder::reportsBadConfig()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    try {
        ClipTextConfig::fromConfig(JsonConfig::fromText(json.toStdString(), "text_encoder/config.json"));
        QFAIL("a bad config was accepted");
    } catch (const EngineError& e) {
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.startsWith(QStringLiteral("text_encoder/config.json: ")), e.what());
        QVERIFY2(what.contains(message), e.what());
    }
}

QTEST_GUILESS_MAIN(TestClipTextEncoder)
#include "TestClipTextEncoder.moc"
