// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/full.h>
#include <ATen/ops/max.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/zeros.h>

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <limits>
#include <map>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/JsonConfig.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"
#include "engine/Schedulers.h"
#include "engine/SingleFileCheckpoint.h"
#include "engine/Vae.h"

using namespace Atelier::Engine;
using Atelier::Test::dataPath;
using Atelier::Test::fixturePath;

// The goldens are tests/data/img2img/golden.{json,safetensors}, written by make_golden.py there with diffusers 0.40's
// StableDiffusionImg2ImgPipeline on the tiny-sd15 fixture (and AutoencoderKL.encode on both fixtures).

namespace
{
    const QJsonObject& goldenJson()
    {
        static const QJsonObject json = [] {
            QFile file(dataPath(QStringLiteral("img2img/golden.json")));
            if (!file.open(QIODevice::ReadOnly)) {
                qWarning("cannot read %s", qPrintable(file.fileName()));
                return QJsonObject();
            }
            return QJsonDocument::fromJson(file.readAll()).object();
        }();
        return json;
    }

    /// The golden tensor a golden.json entry names ({"key": …}), as a copy that owns its memory.
    at::Tensor golden(const QJsonValue& reference)
    {
        static const SafetensorsFile file
            = SafetensorsFile::open(dataPath(QStringLiteral("img2img/golden.safetensors")).toStdString());
        return file.tensor(reference[QStringLiteral("key")].toString().toStdString()).clone();
    }

    at::Tensor goldenInitImage()
    {
        return golden(goldenJson()[QStringLiteral("init_image")]);
    }

    std::shared_ptr<const StableDiffusionModel> model(const QString& fixture)
    {
        static std::map<QString, std::shared_ptr<const StableDiffusionModel>> cache;
        auto& slot = cache[fixture];
        if (!slot) {
            slot = StableDiffusionModel::loadFolder(fixturePath(fixture).toStdString());
        }
        return slot;
    }

    std::shared_ptr<const StableDiffusionModel> singleFileModel()
    {
        static const auto single = StableDiffusionModel::load(
            fixturePath(QStringLiteral("tiny-sd15/single-file/tiny-sd15.safetensors")).toStdString(),
            Atelier::Test::sourcePath(QStringLiteral("resources/models/atelier-tiny/tokenizer")).toStdString());
        return single;
    }

    /// max |actual − expected| relative to the golden's range (at least 1): random weights make late latents large
    /// (|x| ~ 100), and it is their last bits that differ between CPUs.
    double relativeError(const at::Tensor& actual, const at::Tensor& expected)
    {
        const double scale = std::max(1.0, expected.abs().max().item<double>());
        return Atelier::Test::maxAbsDifference(actual, expected) / scale;
    }

    QStringList strings(const QJsonValue& value, qsizetype count)
    {
        QStringList list;
        for (const auto& item : value.toArray()) {
            list.append(item.toString());
        }
        while (list.size() < count) {
            list.append(QString());
        }
        return list;
    }

    GenerationSettings settingsOf(const QJsonObject& goldenCase)
    {
        GenerationSettings settings;
        settings.scheduler = goldenCase[QStringLiteral("sampler")].toString().toStdString();
        settings.steps = goldenCase[QStringLiteral("num_inference_steps")].toInt();
        settings.guidanceScale = goldenCase[QStringLiteral("guidance_scale")].toDouble();
        settings.width = goldenCase[QStringLiteral("width")].toInt();
        settings.height = goldenCase[QStringLiteral("height")].toInt();
        settings.strength = goldenCase[QStringLiteral("strength")].toDouble();
        return settings;
    }

    GenerationSettings smallSettings(const std::string& scheduler, double strength)
    {
        GenerationSettings settings;
        settings.scheduler = scheduler;
        settings.steps = 10;
        settings.width = settings.height = 64;
        settings.strength = strength;
        return settings;
    }

    /// What generate() threw: the EngineError's message, or an empty string.
    QString errorOf(const std::function<void()>& body)
    {
        try {
            body();
        } catch (const EngineError& e) {
            return QString::fromUtf8(e.what());
        }
        return {};
    }
} // namespace

class TestImg2Img final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void encoderMatchesDiffusers_data();
    void encoderMatchesDiffusers();
    void pixelsBecomeTheImageDiffusersEncodes();
    void matchesDiffusers_data();
    void matchesDiffusers();
    void initialLatentsReplaceTheSeedsNoise();
    void singleFileEncoderEqualsTheFolders();
    void refusesBadRequests();
    void modelWithoutEncoderRefusesImageToImage();
    void halfPrecisionEncoderRetriesOverflowInFloat32();
    void schedulerBeginIndexIsChecked();
};

void TestImg2Img::initTestCase()
{
    QVERIFY(!goldenJson().isEmpty());
    QCOMPARE(goldenJson()[QStringLiteral("environment")][QStringLiteral("diffusers")].toString(),
             QStringLiteral("0.40.0"));
}

void TestImg2Img::encoderMatchesDiffusers_data()
{
    QTest::addColumn<int>("caseIndex");
    // Channels-last too: ModelPlacement::vaeChannelsLast lays the VAE out NHWC on CUDA.
    QTest::addColumn<bool>("channelsLast");
    const QJsonArray cases = goldenJson()[QStringLiteral("encoder")].toArray();
    QVERIFY(!cases.isEmpty());
    for (int i = 0; i < cases.size(); ++i) {
        for (const bool channelsLast : {false, true}) {
            QTest::newRow(qPrintable(cases[i][QStringLiteral("fixture")].toString()
                                     + (channelsLast ? QStringLiteral(", NHWC") : QString())))
                << i << channelsLast;
        }
    }
}

void TestImg2Img::encoderMatchesDiffusers()
{
    QFETCH(int, caseIndex);
    QFETCH(bool, channelsLast);
    c10::InferenceMode guard;
    const QJsonObject goldenCase = goldenJson()[QStringLiteral("encoder")][caseIndex].toObject();
    const QString fixture = goldenCase[QStringLiteral("fixture")].toString();
    const auto config = VaeConfig::fromConfig(
        JsonConfig::fromFile(fixturePath(fixture + QStringLiteral("/vae/config.json")).toStdString()));
    auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(
        fixturePath(fixture + QStringLiteral("/vae/diffusion_pytorch_model.safetensors")).toStdString()));
    const VaeEncoder encoder = VaeEncoder::load(
        config, WeightSource(file, "", at::TensorOptions().dtype(at::kFloat)).withChannelsLast(channelsLast));

    const LatentDistribution encoded = encoder.encode(goldenInitImage());
    const at::Tensor mean = golden(goldenCase[QStringLiteral("mean")]);
    const at::Tensor logvar = golden(goldenCase[QStringLiteral("logvar")]);
    QCOMPARE(encoded.mean.sizes().vec(), mean.sizes().vec());
    QCOMPARE(encoded.logvar.sizes().vec(), logvar.sizes().vec());
    // One forward pass (as TestVae's decoder bar): float sums in another order differ in their last bits only.
    const double meanError = relativeError(encoded.mean, mean);
    const double logvarError = relativeError(encoded.logvar, logvar);
    qInfo("mean error %.3g, logvar error %.3g (max abs, relative to the range)", meanError, logvarError);
    QVERIFY2(meanError <= 1e-4, qPrintable(QString::number(meanError)));
    QVERIFY2(logvarError <= 1e-4, qPrintable(QString::number(logvarError)));
}

void TestImg2Img::pixelsBecomeTheImageDiffusersEncodes()
{
    // VaeImageProcessor.preprocess: float32(p) / 255, then 2x - 1; elementwise IEEE arithmetic, so to the ulp.
    c10::InferenceMode guard;
    const at::Tensor pixels = golden(goldenJson()[QStringLiteral("init_image_uint8")]);
    const at::Tensor image = fromUint8Image(pixels);
    QCOMPARE(image.sizes().vec(), (std::vector<std::int64_t>{1, 3, 64, 64}));
    ATELIER_COMPARE_FLOAT32(image, goldenInitImage(), "init image from uint8");
    ATELIER_COMPARE_FLOAT32(fromUint8Image(pixels[0]), goldenInitImage(), "init image from HWC uint8");
    QVERIFY_THROWS_EXCEPTION(EngineError, fromUint8Image(pixels.to(at::kFloat)));
    QVERIFY_THROWS_EXCEPTION(EngineError, fromUint8Image(pixels.narrow(3, 0, 2)));
}

void TestImg2Img::matchesDiffusers_data()
{
    QTest::addColumn<int>("caseIndex");
    const QJsonArray cases = goldenJson()[QStringLiteral("cases")].toArray();
    QVERIFY(!cases.isEmpty());
    for (int i = 0; i < cases.size(); ++i) {
        QTest::newRow(qPrintable(cases[i][QStringLiteral("name")].toString())) << i;
    }
}

void TestImg2Img::matchesDiffusers()
{
    QFETCH(int, caseIndex);
    const QJsonObject goldenCase = goldenJson()[QStringLiteral("cases")][caseIndex].toObject();
    auto tensor = [&](const char* field) { return golden(goldenCase[QLatin1String(field)]); };
    const auto sd = model(QStringLiteral("tiny-sd15"));
    const GenerationSettings settings = settingsOf(goldenCase);
    const QJsonArray seeds = goldenCase[QStringLiteral("seeds")].toArray();
    const qsizetype batch = seeds.size();
    const QStringList prompts = strings(goldenCase[QStringLiteral("prompts")], batch);
    const QStringList negatives = strings(goldenCase[QStringLiteral("negative_prompts")], batch);
    const at::Tensor initImage = goldenInitImage();

    {
        c10::InferenceMode guard;
        // The schedule diffusers ran: the timesteps its get_timesteps kept, to the last bit.
        auto scheduler = makeScheduler(settings.scheduler, sd->schedulerConfig);
        scheduler->setTimesteps(settings.steps);
        scheduler->setBeginIndex(strengthBeginIndex(*scheduler, settings.steps, settings.strength));
        const std::vector<double> kept(scheduler->timesteps().begin()
                                           + static_cast<std::ptrdiff_t>(scheduler->beginIndex()),
                                       scheduler->timesteps().end());
        std::vector<double> expectedTimesteps;
        for (const auto& t : goldenCase[QStringLiteral("timesteps")].toArray()) {
            expectedTimesteps.push_back(t.toDouble());
        }
        QCOMPARE(kept, expectedTimesteps);

        // Each image's generator draws the VAE's sample first, then the noise; the noise is diffusers' to the ulp
        // (randn's vectorised Box-Muller may round the last bit differently on another CPU, hence ulps).
        const at::Tensor encodedGolden = tensor("encoded");
        const at::Tensor noiseGolden = tensor("noise");
        for (qsizetype b = 0; b < batch; ++b) {
            at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seeds[b].toInteger());
            const at::Tensor encoded = sd->encodeImage(initImage).sample(generator) * sd->vae.config().scalingFactor;
            const double encodedError = relativeError(encoded, encodedGolden.narrow(0, b, 1));
            qInfo("encoded latents error %.3g", encodedError);
            QVERIFY2(encodedError <= 1e-4, qPrintable(QString::number(encodedError)));
            const at::Tensor noise = at::randn({1, 4, 8, 8}, generator, at::TensorOptions().dtype(at::kFloat));
            ATELIER_COMPARE_FLOAT32(noise, noiseGolden.narrow(0, b, 1), "add_noise's noise");
        }
        // add_noise itself, from diffusers' own inputs: a·latents + b·noise in float32. Where the two terms cancel,
        // one rounding (a fused multiply-add on one CPU, two roundings on another) is many ulps of the small sum, so
        // the bound is a few ulps of the terms themselves.
        const at::Tensor noised = scheduler->addNoise(encodedGolden, noiseGolden);
        const at::Tensor terms = encodedGolden.abs() + noiseGolden.abs();
        const at::Tensor excess
            = (noised - tensor("noised")).abs() - terms * (4 * std::numeric_limits<float>::epsilon());
        QVERIFY2(
            excess.max().item<float>() <= 0.0F,
            qPrintable(
                QStringLiteral("add_noise: off by %1 beyond 4 ulps of its terms").arg(excess.max().item<float>())));
    }

    std::vector<ImageRequest> requests;
    for (qsizetype b = 0; b < batch; ++b) {
        requests.push_back({prompts[b].toStdString(), negatives[b].toStdString(),
                            static_cast<std::uint64_t>(seeds[b].toInteger()), std::nullopt, initImage});
    }
    const at::Tensor stepLatents = tensor("step_latents");
    int steps = 0;
    int total = 0;
    double worstStep = 0;
    const auto result = Pipeline(sd).generate(requests, settings, [&](const StepProgress& p) {
        worstStep = std::max(worstStep, relativeError(p.latents, stepLatents[p.step - 1]));
        total = p.total;
        ++steps;
        return true;
    });
    // One report per timestep diffusers ran (PNDM's repeated timestep included).
    QCOMPARE(steps, static_cast<int>(stepLatents.size(0)));
    QCOMPARE(total, steps);
    // The bar TestPipeline sets for CFG runs through random weights: "as close as diffusers itself" on another CPU.
    const double finalError = relativeError(result.finalLatents, tensor("final_latents"));
    const double pixels = Atelier::Test::maxAbsDifference(result.images, tensor("image_uint8"));
    const at::Tensor imageFloat = at::clamp(result.decoded / 2 + 0.5, 0.0, 1.0).permute({0, 2, 3, 1});
    const double floatError = Atelier::Test::maxAbsDifference(imageFloat, tensor("image_float"));
    qInfo("worst step %.3g, final latents %.3g (relative to the range), image %.3g, %g/255 in uint8", worstStep,
          finalError, floatError, pixels);
    QVERIFY2(worstStep <= 1e-3, qPrintable(QString::number(worstStep)));
    QVERIFY2(finalError <= 1e-3, qPrintable(QString::number(finalError)));
    QVERIFY2(floatError <= 2e-3, qPrintable(QString::number(floatError)));
    QVERIFY2(pixels <= 1, qPrintable(QString::number(pixels)));
}

void TestImg2Img::initialLatentsReplaceTheSeedsNoise()
{
    // Given latents take the place of the noise the seed would have drawn second (after the VAE's sample).
    const auto sd = model(QStringLiteral("tiny-sd15"));
    const at::Tensor initImage = goldenInitImage();
    const GenerationSettings settings = smallSettings("ddim", 0.5);
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(77);
    at::randn({1, 4, 8, 8}, generator, at::TensorOptions().dtype(at::kFloat)); // the VAE's sample
    const at::Tensor noise = at::randn({1, 4, 8, 8}, generator, at::TensorOptions().dtype(at::kFloat));
    const Pipeline pipeline(sd);
    const auto fromSeed = pipeline.generate({{"a red bicycle", "", 77, std::nullopt, initImage}}, settings);
    const auto fromLatents = pipeline.generate({{"a red bicycle", "", 77, noise, initImage}}, settings);
    QVERIFY(at::equal(fromSeed.finalLatents, fromLatents.finalLatents));
    // Other noise, another image.
    const auto other = pipeline.generate({{"a red bicycle", "", 77, noise * 0.5, initImage}}, settings);
    QVERIFY(!at::equal(fromSeed.finalLatents, other.finalLatents));
}

void TestImg2Img::singleFileEncoderEqualsTheFolders()
{
    c10::InferenceMode guard;
    const auto single = singleFileModel();
    const auto folder = model(QStringLiteral("tiny-sd15"));
    QVERIFY(single->vaeEncoder);
    QCOMPARE(single->vaeEncoder->config().inChannels, std::int64_t{3});
    QVERIFY(single->vaeEncoder->config().quantConv);
    // The same weights under CompVis names, through the same code: the same numbers, in this process.
    const LatentDistribution a = single->encodeImage(goldenInitImage());
    const LatentDistribution b = folder->encodeImage(goldenInitImage());
    QVERIFY(at::equal(a.mean, b.mean));
    QVERIFY(at::equal(a.logvar, b.logvar));

    // And a whole image-to-image run gives the folder's golden.
    const QJsonObject goldenCase = goldenJson()[QStringLiteral("cases")][0].toObject();
    const GenerationSettings settings = settingsOf(goldenCase);
    const ImageRequest request{goldenCase[QStringLiteral("prompts")][0].toString().toStdString(), "",
                               static_cast<std::uint64_t>(goldenCase[QStringLiteral("seeds")][0].toInteger()),
                               std::nullopt, goldenInitImage()};
    const auto result = Pipeline(single).generate({request}, settings);
    QVERIFY(Atelier::Test::maxAbsDifference(result.images, golden(goldenCase[QStringLiteral("image_uint8")])) <= 1);
}

void TestImg2Img::refusesBadRequests()
{
    const Pipeline pipeline(model(QStringLiteral("tiny-sd15")));
    const at::Tensor initImage = goldenInitImage();
    const ImageRequest withImage{"a cat", "", 1, std::nullopt, initImage};
    const ImageRequest withoutImage{"a cat", "", 2, std::nullopt, std::nullopt};
    const GenerationSettings settings = smallSettings("euler_a", 0.6);

    // One batch, one schedule: image to image for all or none.
    QVERIFY(errorOf([&] { pipeline.generate({withImage, withoutImage}, settings); }).startsWith(u"initImage"));
    QVERIFY(errorOf([&] { pipeline.generate({withoutImage, withImage}, settings); }).startsWith(u"initImage"));

    // The init image must be the size being rendered, as float pixels.
    const QString wrongSize = errorOf([&] {
        pipeline.generate({{"a cat", "", 1, std::nullopt, at::zeros({1, 3, 64, 32})}}, settings);
    });
    QVERIFY2(wrongSize.startsWith(u"initImage must have shape [1, 3, 64, 64]"), qPrintable(wrongSize));
    QVERIFY(errorOf([&] {
                pipeline.generate({{"a cat", "", 1, std::nullopt, initImage[0]}}, settings);
            }).startsWith(u"initImage"));
    const QString integers = errorOf([&] {
        pipeline.generate({{"a cat", "", 1, std::nullopt, at::full({1, 3, 64, 64}, 3, at::kByte)}}, settings);
    });
    QVERIFY2(integers.startsWith(u"initImage must hold floating-point pixels"), qPrintable(integers));

    // Strength in (0, 1], and enough of it to leave a step; checked with or without an init image.
    for (const double strength :
         {0.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
        const GenerationSettings bad = smallSettings("euler_a", strength);
        const QString withError = errorOf([&] { pipeline.generate({withImage}, bad); });
        QVERIFY2(withError.startsWith(u"strength must be more than 0 and at most 1"), qPrintable(withError));
        const QString withoutError = errorOf([&] { pipeline.generate({withoutImage}, bad); });
        QVERIFY2(withoutError.startsWith(u"strength must be more than 0 and at most 1"), qPrintable(withoutError));
    }
    const QString tooLittle = errorOf([&] { pipeline.generate({withImage}, smallSettings("pndm", 0.05)); });
    QVERIFY2(tooLittle.startsWith(u"strength 0.05 with 10 steps leaves no denoising step"), qPrintable(tooLittle));
    // Text to image ignores a strength in range.
    int steps = 0;
    pipeline.generate({withoutImage}, smallSettings("euler_a", 0.05), [&](const StepProgress&) {
        ++steps;
        return true;
    });
    QCOMPARE(steps, 10);
}

void TestImg2Img::modelWithoutEncoderRefusesImageToImage()
{
    // Atelier's embedded model was written with the decoder alone: it loads, renders text to image, and refuses
    // image to image naming what is missing.
    const auto tiny = StableDiffusionModel::loadFolder(
        Atelier::Test::sourcePath(QStringLiteral("resources/models/atelier-tiny")).toStdString());
    QVERIFY(!tiny->vaeEncoder);
    GenerationSettings settings = smallSettings("euler", 0.5);
    settings.steps = 2;
    const at::Tensor initImage = at::zeros({1, 3, 64, 64});
    const QString error = errorOf([&] {
        Pipeline(tiny).generate({{"a cat", "", 1, std::nullopt, initImage}}, settings);
    });
    QVERIFY2(error.contains(u"the model's VAE has no encoder"), qPrintable(error));
}

void TestImg2Img::halfPrecisionEncoderRetriesOverflowInFloat32()
{
    c10::InferenceMode guard;
    // The placement an fp16 CUDA worker gets, on the CPU, which runs fp16 convolutions too.
    ModelPlacement halfVae;
    halfVae.vaeDtype = at::kHalf;
    const auto half = StableDiffusionModel::loadFolder(fixturePath(QStringLiteral("tiny-sd15")).toStdString(), halfVae);
    const auto full = model(QStringLiteral("tiny-sd15"));
    QVERIFY(half->vaeEncoder);
    QCOMPARE(half->vaeEncoder->encode(goldenInitImage().to(at::kHalf)).mean.scalar_type(), at::kHalf);

    // An ordinary image encodes in fp16, close to float32, without a retry; the distribution comes back in float32.
    const LatentDistribution fp16 = half->encodeImage(goldenInitImage());
    const LatentDistribution fp32 = full->encodeImage(goldenInitImage());
    QCOMPARE(fp16.mean.scalar_type(), at::kFloat);
    const double worst = relativeError(fp16.mean, fp32.mean);
    QVERIFY2(worst > 0.0 && worst < 1e-2, qPrintable(QString::number(worst)));
    QCOMPARE(half->vaeFallback->encoderRetries(), 0);

    // Pixels far out of range (conv_in then passes fp16's 65504) overflow; the float32 retry gives float32's numbers.
    const at::Tensor huge = goldenInitImage() * 60000.0;
    const LatentDistribution overflowed = half->vaeEncoder->encode(huge.to(at::kHalf));
    QVERIFY(!overflowed.mean.isfinite().all().item<bool>() || !overflowed.logvar.isfinite().all().item<bool>());
    const LatentDistribution retried = half->encodeImage(huge);
    QVERIFY(at::equal(retried.mean, full->encodeImage(huge).mean));
    QCOMPARE(half->vaeFallback->encoderRetries(), 1);
    QCOMPARE(half->vaeFallback->retries(), 0);
}

void TestImg2Img::schedulerBeginIndexIsChecked()
{
    c10::InferenceMode guard;
    for (const std::string_view name : schedulerNames()) {
        auto scheduler = makeScheduler(name, SchedulerConfig::sd15Defaults());
        QVERIFY_THROWS_EXCEPTION(EngineError, scheduler->setBeginIndex(0)); // no timesteps yet
        scheduler->setTimesteps(10);
        const std::size_t planned = scheduler->timesteps().size();
        QVERIFY_THROWS_EXCEPTION(EngineError, scheduler->setBeginIndex(planned));
        scheduler->setBeginIndex(4);
        QCOMPARE(scheduler->beginIndex(), std::size_t{4});
        QVERIFY_THROWS_EXCEPTION(EngineError, scheduler->scaleModelInput(at::zeros({1, 4, 8, 8}), 3));
        const at::Tensor x = at::zeros({1, 4, 8, 8});
        scheduler->step(at::zeros({1, 4, 8, 8}), 4, scheduler->scaleModelInput(x, 4));
        // Too late to move the start; a new plan starts from 0 again.
        QVERIFY_THROWS_EXCEPTION(EngineError, scheduler->setBeginIndex(5));
        scheduler->setTimesteps(10);
        QCOMPARE(scheduler->beginIndex(), std::size_t{0});
        QCOMPARE(scheduler->order(), 1);
        // strengthBeginIndex counts in whole steps: int(10 × 0.6) = 6 run, the first 4 are skipped.
        QCOMPARE(strengthBeginIndex(*scheduler, 10, 0.6), std::size_t{4});
        QCOMPARE(strengthBeginIndex(*scheduler, 10, 1.0), std::size_t{0});
        QCOMPARE(strengthBeginIndex(*scheduler, 100, 0.29), std::size_t{72}); // int(28.999999999999996)
    }
}

QTEST_GUILESS_MAIN(TestImg2Img)
#include "TestImg2Img.moc"
