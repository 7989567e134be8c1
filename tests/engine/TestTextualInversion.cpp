// SPDX-License-Identifier: GPL-3.0-or-later
// Textual-inversion embeddings: AUTOMATIC1111 and diffusers files read, the wrong ones refused by name, found in
// prompts by their names' CLIP ids as A1111 does, and the text encoder's output and a whole render against
// diffusers' load_textual_inversion (tests/data/embeddings, made by its make_golden.py).
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
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
#include "engine/TextualInversion.h"

using namespace Atelier;
using namespace Atelier::Engine;
using namespace Qt::StringLiterals;

namespace
{
    std::shared_ptr<const StableDiffusionModel> tinyModel()
    {
        return StableDiffusionModel::loadFolder(Test::fixturePath(u"tiny-sd15"_s).toStdString());
    }

    std::filesystem::path embeddingsFolder()
    {
        return Test::dataPath(u"embeddings"_s).toStdString();
    }

} // namespace

class TestTextualInversion final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void readsBothFormats();
    void refusesWhatItCannotUse_data();
    void refusesWhatItCannotUse();
    void namesAreFoundByTheirIds();
    void anEmbeddingIsNeverSplitAcrossChunks();
    void matchesDiffusers_data();
    void matchesDiffusers();
    void rendersAsDiffusers();
    void aBrokenEmbeddingFailsOnlyThePromptsNamingIt();

private:
    std::shared_ptr<const StableDiffusionModel> m_model;
    std::shared_ptr<const EmbeddingLibrary> m_library;
    SafetensorsFile m_golden = SafetensorsFile::open(Test::dataPath(u"embeddings/golden.safetensors"_s).toStdString());
};

void TestTextualInversion::initTestCase()
{
    m_model = tinyModel();
    m_library = std::make_shared<const EmbeddingLibrary>(m_model->tokenizer, m_model->textEncoder.config().hiddenSize,
                                                         std::vector{embeddingsFolder()});
}

void TestTextualInversion::readsBothFormats()
{
    const std::int64_t hidden = m_model->textEncoder.config().hiddenSize;
    const Embedding a1111 = loadEmbedding(embeddingsFolder() / "inkemb.safetensors", hidden);
    QCOMPARE(QString::fromStdString(a1111.name), u"inkemb"_s);
    QCOMPARE(a1111.vectors.sizes(), (at::IntArrayRef{2, hidden}));
    const Embedding diffusers = loadEmbedding(embeddingsFolder() / "softglow.safetensors", hidden);
    QCOMPARE(QString::fromStdString(diffusers.name), u"softglow"_s);
    QCOMPARE(diffusers.vectors.sizes(), (at::IntArrayRef{1, hidden}));
    QVERIFY(at::equal(diffusers.vectors[0],
                      SafetensorsFile::open(embeddingsFolder() / "softglow.safetensors").tensor("<softglow>")));
}

void TestTextualInversion::refusesWhatItCannotUse_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("error");
    QTest::newRow("SDXL") << u"sdxl_emb.safetensors"_s << u"an SDXL embedding"_s;
    QTest::newRow("another width") << u"wrongdim.safetensors"_s << u"has shape [1, 64]"_s;
    QTest::newRow("not an embedding") << u"golden.safetensors"_s << u"not a textual-inversion embedding"_s;
}

void TestTextualInversion::refusesWhatItCannotUse()
{
    QFETCH(QString, file);
    QFETCH(QString, error);
    const std::filesystem::path path = embeddingsFolder() / file.toStdString();
    const QString message = Test::engineErrorOf([&] { loadEmbedding(path, m_model->textEncoder.config().hiddenSize); });
    QVERIFY2(message.contains(error), qPrintable(message));
    QVERIFY2(message.contains(QString::fromStdString(path.string())), qPrintable(message));
}

// The name's CLIP ids inside the prompt's, as A1111 matches them: "inkembs" is another word, "inkemb" is the
// embedding, whose two vectors take two positions (ids 0) with the run's weight.
void TestTextualInversion::namesAreFoundByTheirIds()
{
    const auto chunks
        = promptChunks(m_model->tokenizer, "inkembs and (inkemb:1.5)", DefaultCommaBacktrack, m_library.get());
    QCOMPARE(chunks.size(), std::size_t{1});
    const PromptChunk& chunk = chunks.front();
    QCOMPARE(chunk.embeddings.size(), std::size_t{1});
    QCOMPARE(chunk.embeddings.front().offset, std::size_t{5});
    QCOMPARE(chunk.embeddings.front().match.vectors, std::size_t{2});
    const at::Tensor expected = m_golden.tensor("a1111_ids_4")[0];
    for (std::size_t i = 0; i < ClipTokenizer::ContextLength; ++i) {
        const bool embedded = i == 5 || i == 6;
        QCOMPARE(chunk.ids[i], embedded ? 0 : expected[static_cast<std::int64_t>(i)].item<std::int64_t>());
        QCOMPARE(chunk.weights[i], embedded ? 1.5 : 1.0);
    }
}

// When the vectors do not fit the chunk, the embedding starts the next one whole.
void TestTextualInversion::anEmbeddingIsNeverSplitAcrossChunks()
{
    std::string prompt;
    for (int i = 0; i < 74; ++i) {
        prompt += "cat ";
    }
    prompt += "inkemb";
    const auto chunks = promptChunks(m_model->tokenizer, prompt, 0, m_library.get());
    QCOMPARE(chunks.size(), std::size_t{2});
    QVERIFY(chunks[0].embeddings.empty());
    // 74 cats, then one free position: too few for the embedding's two vectors.
    QCOMPARE(chunks[0].ids[74], m_model->tokenizer.encode("cat").front());
    QCOMPARE(chunks[0].ids[75], ClipTokenizer::EosId);
    QCOMPARE(chunks[1].embeddings.size(), std::size_t{1});
    QCOMPARE(chunks[1].embeddings.front().offset, std::size_t{1});
}

void TestTextualInversion::matchesDiffusers_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("key");
    QTest::newRow("A1111 file, 2 vectors, mid-prompt") << u"a red fox, inkemb, in the snow"_s << u"embeds_0"_s;
    QTest::newRow("diffusers file, first word") << u"softglow portrait of a woman"_s << u"embeds_1"_s;
    QTest::newRow("both, side by side") << u"inkemb softglow"_s << u"embeds_2"_s;
    QTest::newRow("none") << u"a lighthouse at dusk"_s << u"embeds_3"_s;
    // diffusers replaces "inkemb" inside "inkembs" too; A1111 (and Atelier) only the word's own ids: the golden is
    // the text encoder fed A1111's ids.
    QTest::newRow("a longer word is not the name") << u"inkembs and inkemb"_s << u"a1111_embeds_4"_s;
    QTest::newRow("alone") << u"softglow"_s << u"embeds_5"_s;
}

void TestTextualInversion::matchesDiffusers()
{
    QFETCH(QString, prompt);
    QFETCH(QString, key);
    c10::InferenceMode inference;
    const Pipeline pipeline(m_model, {}, {}, m_library);
    const at::Tensor embeds = pipeline.encodePrompts({prompt.toStdString()});
    const double error = Test::maxAbsDifference(embeds, m_golden.tensor(key.toStdString()));
    QVERIFY2(error <= 1e-4, qPrintable(QString::number(error)));
}

// A whole render with an embedding in the prompt and another as the negative prompt, as diffusers renders it.
void TestTextualInversion::rendersAsDiffusers()
{
    c10::InferenceMode inference;
    const Pipeline pipeline(m_model, {}, {}, m_library);
    GenerationSettings settings;
    settings.scheduler = "euler";
    settings.steps = 6;
    settings.guidanceScale = 7.5;
    settings.width = settings.height = 64;
    const ImageRequest request{"a red fox, inkemb, in the snow", "softglow", 77, std::nullopt};
    const auto result = pipeline.generate({request}, settings);
    const at::Tensor latents = m_golden.tensor("latents");
    const double latentError
        = Test::maxAbsDifference(result.finalLatents, latents) / std::max(1.0, latents.abs().max().item<double>());
    QVERIFY2(latentError <= 1e-3, qPrintable(QString::number(latentError)));
    const double imageError = Test::maxAbsDifference((result.decoded / 2 + 0.5).clamp(0, 1), m_golden.tensor("image"));
    QVERIFY2(imageError <= 2.0 / 255, qPrintable(QString::number(imageError)));
    const std::vector<UsedEmbedding> used = pipeline.embeddingsOf(request);
    QCOMPARE(used.size(), std::size_t{2});
    QCOMPARE(QString::fromStdString(used[0].name), u"inkemb"_s);
    QCOMPARE(QString::fromStdString(used[1].name), u"softglow"_s);
}

// A pickle or an SDXL file in the folder fails the prompts that name it, with the reason; the rest render.
void TestTextualInversion::aBrokenEmbeddingFailsOnlyThePromptsNamingIt()
{
    QTemporaryDir dir;
    QFile pickle(dir.filePath(u"badhands.pt"_s));
    QVERIFY(pickle.open(QIODevice::WriteOnly));
    pickle.write("not opened");
    pickle.close();
    const auto library = std::make_shared<const EmbeddingLibrary>(
        m_model->tokenizer, m_model->textEncoder.config().hiddenSize,
        std::vector<std::filesystem::path>{dir.path().toStdString(), embeddingsFolder()});
    const Pipeline pipeline(m_model, {}, {}, library);
    c10::InferenceMode inference;
    QString message = Test::engineErrorOf([&] { pipeline.encodePrompts({"a hand, badhands"}); });
    QVERIFY2(message.contains(u"badhands"_s) && message.contains(u"pickle"_s), qPrintable(message));
    message = Test::engineErrorOf([&] { pipeline.embeddingsOf({"ok", "sdxl_emb", 1, std::nullopt}); });
    QVERIFY2(message.contains(u"an SDXL embedding"_s), qPrintable(message));
    QVERIFY(Test::engineErrorOf([&] { pipeline.encodePrompts({"a lighthouse at dusk, inkemb"}); }).isEmpty());
}

QTEST_GUILESS_MAIN(TestTextualInversion)
#include "TestTextualInversion.moc"
