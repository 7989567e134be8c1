// SPDX-License-Identifier: GPL-3.0-or-later
// The hires fix, composed as AUTOMATIC1111 composes it and checked against diffusers doing each part
// (tests/data/hires, made by its make_golden.py): the first pass, the upscale (the latents bilinearly, or the image
// with Pillow's Lanczos, whose bytes must be Pillow's), and diffusers' img2img pipeline on the result.
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/equal.h>

#include <c10/core/InferenceMode.h>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/EngineError.h"
#include "engine/ImageResize.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"

using namespace Atelier;
using namespace Atelier::Engine;
using namespace Qt::StringLiterals;

namespace
{
    SafetensorsFile goldens(const QString& name)
    {
        return SafetensorsFile::open(Test::dataPath(u"hires/"_s + name).toStdString());
    }

    double relativeToRange(const at::Tensor& actual, const at::Tensor& expected)
    {
        return Test::maxAbsDifference(actual, expected) / std::max(1.0, expected.abs().max().item<double>());
    }
} // namespace

class TestHires final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void lanczosIsPillows_data();
    void lanczosIsPillows();
    void matchesDiffusersStepByStep_data();
    void matchesDiffusersStepByStep();
    void badSettingsAreNamed();
};

void TestHires::lanczosIsPillows_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::newRow("up, 37×23 to 80×51") << u"resize_up"_s << 80 << 51;
    QTest::newRow("down, 37×23 to 16×9") << u"resize_down"_s << 16 << 9;
}

// Bit for bit: Pillow's fixed-point filter, rounding and pass order.
void TestHires::lanczosIsPillows()
{
    QFETCH(QString, key);
    QFETCH(int, width);
    QFETCH(int, height);
    const SafetensorsFile file = goldens(u"resize.safetensors"_s);
    const at::Tensor resized = resizeLanczos(file.tensor("resize_in"), width, height);
    QVERIFY(at::equal(resized, file.tensor(key.toStdString())));
}

void TestHires::matchesDiffusersStepByStep_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("scheduler");
    QTest::addColumn<QString>("mode");
    for (const auto& [file, scheduler] : {std::pair{u"hires_euler_a.safetensors"_s, u"euler_a"_s},
                                          std::pair{u"hires_dpmpp_2m.safetensors"_s, u"dpmpp_2m"_s}}) {
        for (const QString& mode : {u"latent"_s, u"lanczos"_s}) {
            QTest::newRow(qPrintable(scheduler + u", "_s + mode)) << file << scheduler << mode;
        }
    }
}

// 64×64 in 6 steps, then ×2 in 5 hires steps at strength 0.6: every step of the second pass against diffusers', the
// final latents, the image; and the parts between (the upscaled latents, Pillow's upscaled image).
void TestHires::matchesDiffusersStepByStep()
{
    QFETCH(QString, file);
    QFETCH(QString, scheduler);
    QFETCH(QString, mode);
    c10::InferenceMode inference;
    const SafetensorsFile golden = goldens(file);
    const auto tensor = [&](const QString& key) { return golden.tensor((mode + u'_' + key).toStdString()); };
    const auto model = StableDiffusionModel::loadFolder(Test::fixturePath(u"tiny-sd15"_s).toStdString());
    GenerationSettings settings;
    settings.scheduler = scheduler.toStdString();
    settings.steps = 6;
    settings.guidanceScale = 7.5;
    settings.width = settings.height = 64;
    const ImageRequest request{"a lighthouse at dusk, oil painting", "blurry", 4321, std::nullopt};

    // The first pass and the upscale on their own.
    const auto first = Pipeline(model).generate({request}, settings);
    QVERIFY(relativeToRange(first.finalLatents, golden.tensor("first_latents")) <= 1e-3);
    if (mode == u"lanczos"_s) {
        const double levels = (first.images[0].to(at::kFloat) - golden.tensor("first_image_uint8").to(at::kFloat))
                                  .abs()
                                  .max()
                                  .item<double>();
        QVERIFY2(levels <= 1, qPrintable(QString::number(levels)));
        // From diffusers' own first image, Pillow's bytes exactly.
        QVERIFY(at::equal(resizeLanczos(golden.tensor("first_image_uint8"), 128, 128), tensor(u"uint8"_s)));
    }

    settings.hires = HiresSettings{2.0, 5, 0.6, mode == u"latent"_s ? HiresUpscaler::Latent : HiresUpscaler::Lanczos};
    const at::Tensor steps = tensor(u"step_latents"_s);
    int step = 0;
    double worst = 0;
    int reported = 0, lastTotal = 0;
    const auto result = Pipeline(model).generate({request}, settings, [&](const StepProgress& p) {
        ++reported;
        lastTotal = p.total;
        // The second pass's steps come after the first pass's 6.
        if (p.step > 6) {
            worst = std::max(worst, relativeToRange(p.latents, steps[step++]));
        }
        return true;
    });
    QCOMPARE(step, static_cast<int>(steps.size(0)));
    QCOMPARE(reported, 6 + step);
    QCOMPARE(lastTotal, 6 + step);
    qInfo("%s %s: worst second-pass step %.3g relative to the range", qPrintable(scheduler), qPrintable(mode), worst);
    QVERIFY2(worst <= 1e-3, qPrintable(QString::number(worst)));
    const double latentError = relativeToRange(result.finalLatents, tensor(u"final_latents"_s));
    QVERIFY2(latentError <= 1e-3, qPrintable(QString::number(latentError)));
    const double imageError = Test::maxAbsDifference((result.decoded / 2 + 0.5).clamp(0, 1), tensor(u"image"_s));
    QVERIFY2(imageError <= 2.0 / 255, qPrintable(QString::number(imageError)));
    QCOMPARE(result.images.size(1), 128);
}

void TestHires::badSettingsAreNamed()
{
    c10::InferenceMode inference;
    const auto model = StableDiffusionModel::loadFolder(Test::fixturePath(u"tiny-sd15"_s).toStdString());
    GenerationSettings settings;
    settings.steps = 2;
    settings.width = settings.height = 64;
    const ImageRequest request{"x", "", 1, std::nullopt};
    for (const auto& [hires, expected] :
         {std::pair{HiresSettings{1.3, 0, 0.6, HiresUpscaler::Latent}, u"multiple of 8"_s},
          std::pair{HiresSettings{2.0, 0, 0.0, HiresUpscaler::Latent}, u"strength"_s},
          std::pair{HiresSettings{0.5, 0, 0.6, HiresUpscaler::Lanczos}, u"at least the first pass's size"_s}}) {
        settings.hires = hires;
        try {
            Pipeline(model).generate({request}, settings);
            QFAIL("bad hires settings were taken");
        } catch (const EngineError& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(expected), error.what());
        }
    }
}

QTEST_GUILESS_MAIN(TestHires)
#include "TestHires.moc"
