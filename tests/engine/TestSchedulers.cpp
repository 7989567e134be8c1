// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "EngineTestSupport.h"
#include "TestSupport.h"
#include "engine/EngineError.h"
#include "engine/Safetensors.h"
#include "engine/Schedulers.h"

using namespace Atelier::Engine;

namespace
{
    constexpr double Tolerance = 1e-4;

    QByteArray readFile(const QString& path)
    {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            return {};
        }
        return file.readAll();
    }

    QJsonObject schedulerGoldens(const QString& fixture)
    {
        QByteArray bytes = readFile(Atelier::Test::fixturePath(fixture + QStringLiteral("/goldens/index.json")));
        // Python's json writes DPM-Solver's lambda_min_clipped (-inf) as -Infinity, which QJsonDocument refuses.
        bytes.replace("-Infinity", "null");
        return QJsonDocument::fromJson(bytes).object().value(QStringLiteral("schedulers")).toObject();
    }

    /// Atelier's sampler name for a golden case "euler_ancestral.20" and the like.
    std::string samplerName(const QString& caseName)
    {
        const QString prefix = caseName.section(QLatin1Char('.'), 0, 0);
        return prefix == QStringLiteral("euler_ancestral") ? std::string("euler_a") : prefix.toStdString();
    }

    /// Empty when @p actual matches the golden schedule @p expected, otherwise the first difference. Timesteps
    /// that diffusers holds as integers (PNDM's, DDIM's, DPM-Solver's) must match exactly; float32 values (Euler's
    /// and LMS's timesteps, every sigma) within Float32Tolerance, since the float32 arithmetic that made the
    /// goldens rounds differently on other CPUs.
    QString scheduleMismatch(const char* name, const std::vector<double>& actual, const QJsonArray& expected,
                             bool integersExact)
    {
        if (actual.size() != static_cast<std::size_t>(expected.size())) {
            return QStringLiteral("%1: %2 values, expected %3")
                .arg(QLatin1String(name))
                .arg(actual.size())
                .arg(expected.size());
        }
        for (qsizetype i = 0; i < expected.size(); ++i) {
            const double value = actual[static_cast<std::size_t>(i)];
            const double golden = expected[i].toDouble();
            if (integersExact && std::trunc(golden) == golden) {
                if (value != golden) {
                    return QStringLiteral("%1[%2]: value %3, expected exactly %4")
                        .arg(QLatin1String(name))
                        .arg(i)
                        .arg(QString::number(value, 'g', 17), QString::number(golden, 'g', 17));
                }
            } else if (const QString mismatch = Atelier::Test::float32Mismatch(value, golden); !mismatch.isEmpty()) {
                return QStringLiteral("%1[%2]: %3").arg(QLatin1String(name)).arg(i).arg(mismatch);
            }
        }
        return {};
    }

    double maxAbsError(const at::Tensor& actual, const at::Tensor& expected)
    {
        return (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
    }

    /// The message of the EngineError @p body throws, or a null string when it throws none.
    template <typename Body> QString engineErrorOf(Body body)
    {
        try {
            body();
        } catch (const EngineError& error) {
            return QString::fromStdString(error.what());
        }
        return {};
    }

    const char* const ValidConfig = R"({"_class_name": "PNDMScheduler", "num_train_timesteps": 1000,
        "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "steps_offset": 1,
        "skip_prk_steps": true, "set_alpha_to_one": false, "clip_sample": false, "trained_betas": null})";
} // namespace

class TestSchedulers final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void float32ComparisonAllowsAFewUlps_data();
    void float32ComparisonAllowsAFewUlps();
    void matchesDiffusers_data();
    void matchesDiffusers();
    void matchesDiffusersVariants_data();
    void matchesDiffusersVariants();
    void ancestralNoiseComesFromTheSeededGenerator_data();
    void ancestralNoiseComesFromTheSeededGenerator();
    void sd15DefaultsMatchTheFixtureConfig();
    void skipsKeysListedAsDefaults();
    void readsPythonNonFiniteNumbers();
    void mapsClassNamesToSamplers();
    void rejectsUnknownNames();
    void rejectsBadConfigs_data();
    void rejectsBadConfigs();
    void rejectsValuesThatCannotWork_data();
    void rejectsValuesThatCannotWork();
    void rejectsUnsupportedOptions_data();
    void rejectsUnsupportedOptions();
    void requiresStepsInOrder();
};

void TestSchedulers::float32ComparisonAllowsAFewUlps_data()
{
    QTest::addColumn<double>("actual");
    QTest::addColumn<double>("expected");
    QTest::addColumn<qint64>("ulps"); // float32UlpDistance, -1 for NaN
    QTest::addColumn<bool>("close");

    // The sigma that differed on an AMD EPYC: the engine's and diffusers' value there, and the golden.
    const double golden = 9.10293674469;
    const float g = static_cast<float>(golden);
    auto ulpsAway = [](float from, int ulps) {
        for (; ulps > 0; --ulps) {
            from = std::nextafter(from, std::numeric_limits<float>::infinity());
        }
        for (; ulps < 0; ++ulps) {
            from = std::nextafter(from, -std::numeric_limits<float>::infinity());
        }
        return static_cast<double>(from);
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    QTest::newRow("equal") << golden << golden << qint64{0} << true;
    QTest::newRow("the EPYC sigma, 1 ulp") << 9.10293769836 << golden << qint64{1} << true;
    QTest::newRow("2 ulps above") << ulpsAway(g, 2) << golden << qint64{2} << true;
    QTest::newRow("2 ulps below") << ulpsAway(g, -2) << golden << qint64{2} << true;
    // Near zero a relative bound allows nothing; the ulps still allow rounding.
    QTest::newRow("2 ulps from zero") << 2.0 * FLT_TRUE_MIN << 0.0 << qint64{2} << true;
    QTest::newRow("-0 and +0") << -0.0 << 0.0 << qint64{0} << true;
    // Where ulps are small against the value the relative bound is the looser one.
    QTest::newRow("relative 9e-7, 15 ulps") << 1.9999 * (1 + 9e-7) << 1.9999 << qint64{15} << true;
    QTest::newRow("20 ulps") << ulpsAway(1.0f, 20) << 1.0 << qint64{20} << false;
    QTest::newRow("relative 1e-5 above") << golden * (1 + 1e-5) << golden << qint64{95} << false;
    QTest::newRow("relative 1e-5 below") << golden * (1 - 1e-5) << golden << qint64{95} << false;
    QTest::newRow("relative 1e-5, negative") << -golden * (1 + 1e-5) << -golden << qint64{95} << false;
    QTest::newRow("relative 1e-5, tiny") << 1e-30 * (1 + 1e-5) << 1e-30 << qint64{106} << false;
    QTest::newRow("opposite signs") << -golden << golden << qint64{2183351106} << false;
    QTest::newRow("NaN value") << nan << golden << qint64{-1} << false;
    QTest::newRow("NaN golden") << golden << nan << qint64{-1} << false;
    QTest::newRow("NaN and NaN") << nan << nan << qint64{-1} << false;
    // An infinity is one ulp from the largest float, yet no rounding makes one from the other.
    QTest::newRow("infinity and the largest float") << inf << static_cast<double>(FLT_MAX) << qint64{1} << false;
    QTest::newRow("infinity and infinity") << inf << inf << qint64{0} << true;
}

void TestSchedulers::float32ComparisonAllowsAFewUlps()
{
    // The tolerance every schedule comparison above relies on: loose enough for the last bit, no looser.
    QFETCH(double, actual);
    QFETCH(double, expected);
    QFETCH(qint64, ulps);
    QFETCH(bool, close);
    QCOMPARE(Atelier::Test::float32UlpDistance(actual, expected),
             ulps < 0 ? std::numeric_limits<std::int64_t>::max() : ulps);
    const QString mismatch = Atelier::Test::float32Mismatch(actual, expected);
    QVERIFY2(mismatch.isEmpty() == close, qPrintable(QStringLiteral("got \"%1\"").arg(mismatch)));
    if (!close) {
        // The message says what was compared: both values and how many ulps apart they are.
        const QString values = QStringLiteral("value %1, expected %2 (")
                                   .arg(QString::number(actual, 'g', 12), QString::number(expected, 'g', 12));
        QVERIFY2(mismatch.startsWith(values), qPrintable(mismatch));
        const QString distance
            = ulps < 0 ? QStringLiteral("(NaN matches nothing, ") : QStringLiteral("(%1 ulps, ").arg(ulps);
        QVERIFY2(mismatch.contains(distance), qPrintable(mismatch));
        QVERIFY2(mismatch.endsWith(QStringLiteral("; allowed 4 ulps or relative 1e-06)")), qPrintable(mismatch));
    }

    // The tensor form agrees, and points at the element.
    const at::Tensor actualTensor = at::tensor({1.0, 2.0, actual, 4.0}, at::kDouble);
    const at::Tensor expectedTensor = at::tensor({1.0, 2.0, expected, 4.0}, at::kDouble);
    const QString tensorMismatch = Atelier::Test::float32Mismatch(actualTensor, expectedTensor);
    QVERIFY2(tensorMismatch.isEmpty() == close, qPrintable(tensorMismatch));
    if (!close) {
        QCOMPARE(tensorMismatch, QStringLiteral("1 of 4 elements differ; the worst, at flat index 2: ") + mismatch);
    }
}

void TestSchedulers::matchesDiffusers_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("caseName");
    QTest::addColumn<bool>("effectiveConfig");

    for (const QString& fixture : {QStringLiteral("tiny-sd"), QStringLiteral("tiny-sd15")}) {
        const QJsonObject cases = schedulerGoldens(fixture).value(QStringLiteral("cases")).toObject();
        QVERIFY2(!cases.isEmpty(), qPrintable(fixture + QStringLiteral(": no scheduler goldens")));
        for (const QString& name : cases.keys()) {
            // The model's own scheduler_config.json, and the effective config diffusers reported for the class.
            QTest::addRow("%s/%s/file", qPrintable(fixture), qPrintable(name)) << fixture << name << false;
            QTest::addRow("%s/%s/effective", qPrintable(fixture), qPrintable(name)) << fixture << name << true;
        }
    }
}

void TestSchedulers::matchesDiffusers()
{
    QFETCH(QString, fixture);
    QFETCH(QString, caseName);
    QFETCH(bool, effectiveConfig);

    const QJsonObject goldens = schedulerGoldens(fixture);
    const QJsonObject golden = goldens.value(QStringLiteral("cases")).toObject().value(caseName).toObject();
    const std::string configText = effectiveConfig
        ? QJsonDocument(golden.value(QStringLiteral("config")).toObject()).toJson().toStdString()
        : readFile(Atelier::Test::fixturePath(fixture + QStringLiteral("/scheduler/scheduler_config.json")))
              .toStdString();
    const SchedulerConfig config = SchedulerConfig::fromJson(configText, "scheduler_config.json");
    const auto scheduler = makeScheduler(samplerName(caseName), config);
    scheduler->setTimesteps(golden.value(QStringLiteral("num_inference_steps")).toInt());

    // Timesteps, sigmas and the initial noise scale are float32 or int64 values in diffusers.
    const QString timesteps = scheduleMismatch("timesteps", scheduler->timesteps(),
                                               golden.value(QStringLiteral("timesteps")).toArray(), true);
    QVERIFY2(timesteps.isEmpty(), qPrintable(timesteps));
    ATELIER_COMPARE_FLOAT32(scheduler->initNoiseSigma(), golden.value(QStringLiteral("init_noise_sigma")).toDouble(),
                            "init_noise_sigma");
    if (golden.contains(QStringLiteral("sigmas"))) {
        const QString sigmas
            = scheduleMismatch("sigmas", scheduler->sigmas(), golden.value(QStringLiteral("sigmas")).toArray(), false);
        QVERIFY2(sigmas.isEmpty(), qPrintable(sigmas));
    } else {
        QVERIFY(scheduler->sigmas().empty());
    }

    if (!golden.contains(QStringLiteral("samples"))) {
        return; // the 10-step cases hold the schedule only
    }

    // The trajectory driven by a fake model, exactly as the goldens' description says.
    const auto file
        = SafetensorsFile::open(Atelier::Test::fixturePath(fixture + QStringLiteral("/goldens/")
                                                           + goldens.value(QStringLiteral("file")).toString())
                                    .toStdString());
    auto key = [&](const char* part) {
        return golden.value(QString::fromLatin1(part)).toObject().value(QStringLiteral("key")).toString().toStdString();
    };
    const at::Tensor scaledInputs = file.tensor(key("scaled_inputs"));
    const at::Tensor modelOutputs = file.tensor(key("model_outputs"));
    const at::Tensor samples = file.tensor(key("samples"));
    const at::Tensor fixedEps = file.tensor("fixed_eps");

    std::optional<at::Generator> generator;
    const QString noiseNote = golden.value(QStringLiteral("noise_note")).toString();
    if (!noiseNote.isEmpty()) {
        const auto match = QRegularExpression(QStringLiteral("seeded (\\d+)")).match(noiseNote);
        QVERIFY2(match.hasMatch(), qPrintable(noiseNote));
        generator = at::make_generator<at::CPUGeneratorImpl>(match.captured(1).toULongLong());
    }

    double inputError = 0;
    double outputError = 0;
    double sampleError = 0;
    at::Tensor x = file.tensor("x0") * scheduler->initNoiseSigma();
    for (std::size_t k = 0; k < scheduler->timesteps().size(); ++k) {
        const auto index = static_cast<std::int64_t>(k);
        const at::Tensor input = scheduler->scaleModelInput(x, k);
        const at::Tensor eps = input * 0.1 + fixedEps * (0.5 + scheduler->timesteps()[k] / 2000);
        x = scheduler->step(eps, k, x, generator ? &*generator : nullptr);
        inputError = std::max(inputError, maxAbsError(input, scaledInputs[index]));
        outputError = std::max(outputError, maxAbsError(eps, modelOutputs[index]));
        sampleError = std::max(sampleError, maxAbsError(x, samples[index]));
    }
    qInfo("%s %s: max abs error scaled_inputs %.3g, model_outputs %.3g, samples %.3g", qPrintable(fixture),
          qPrintable(caseName), inputError, outputError, sampleError);
    QVERIFY2(inputError <= Tolerance, qPrintable(QString::number(inputError)));
    QVERIFY2(outputError <= Tolerance, qPrintable(QString::number(outputError)));
    QVERIFY2(sampleError <= Tolerance, qPrintable(QString::number(sampleError)));
}

void TestSchedulers::matchesDiffusersVariants_data()
{
    QTest::addColumn<QJsonObject>("golden");

    const QJsonObject variants
        = QJsonDocument::fromJson(readFile(Atelier::Test::dataPath(QStringLiteral("schedulers/variants.json"))))
              .object();
    const QJsonArray cases = variants.value(QStringLiteral("cases")).toArray();
    QVERIFY2(!cases.isEmpty(), "tests/data/schedulers/variants.json holds no cases");
    for (const QJsonValue& value : cases) {
        QJsonObject golden = value.toObject();
        golden.insert(QStringLiteral("x0"), variants.value(QStringLiteral("x0")));
        golden.insert(QStringLiteral("fixed_eps"), variants.value(QStringLiteral("fixed_eps")));
        QTest::newRow(qPrintable(golden.value(QStringLiteral("name")).toString())) << golden;
    }
}

void TestSchedulers::matchesDiffusersVariants()
{
    // Spacings, prediction types and beta schedules the fixtures' goldens do not reach, computed by diffusers
    // (tests/data/schedulers/generate_variants.py) on 2×2 latents.
    QFETCH(QJsonObject, golden);
    auto tensorOf = [](const QJsonValue& list) {
        std::vector<float> values;
        for (const QJsonValue& v : list.toArray()) {
            values.push_back(static_cast<float>(v.toDouble()));
        }
        return at::tensor(values, at::TensorOptions().dtype(at::kFloat)).reshape({1, 1, 2, 2});
    };

    const std::string configText
        = QJsonDocument(golden.value(QStringLiteral("config")).toObject()).toJson().toStdString();
    const auto scheduler = makeScheduler(golden.value(QStringLiteral("sampler")).toString().toStdString(),
                                         SchedulerConfig::fromJson(configText, "scheduler_config.json"));
    scheduler->setTimesteps(golden.value(QStringLiteral("steps")).toInt());

    const QString timesteps = scheduleMismatch("timesteps", scheduler->timesteps(),
                                               golden.value(QStringLiteral("timesteps")).toArray(), true);
    QVERIFY2(timesteps.isEmpty(), qPrintable(timesteps));
    ATELIER_COMPARE_FLOAT32(scheduler->initNoiseSigma(), golden.value(QStringLiteral("init_noise_sigma")).toDouble(),
                            "init_noise_sigma");
    const QString sigmas
        = scheduleMismatch("sigmas", scheduler->sigmas(), golden.value(QStringLiteral("sigmas")).toArray(), false);
    QVERIFY2(sigmas.isEmpty(), qPrintable(sigmas));

    const QJsonArray samples = golden.value(QStringLiteral("samples")).toArray();
    if (samples.isEmpty()) {
        return;
    }
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
        static_cast<std::uint64_t>(golden.value(QStringLiteral("seed")).toInteger()));
    const at::Tensor fixedEps = tensorOf(golden.value(QStringLiteral("fixed_eps")));
    at::Tensor x = tensorOf(golden.value(QStringLiteral("x0"))) * scheduler->initNoiseSigma();
    double error = 0;
    for (std::size_t k = 0; k < scheduler->timesteps().size(); ++k) {
        const at::Tensor input = scheduler->scaleModelInput(x, k);
        x = scheduler->step(input * 0.1 + fixedEps * (0.5 + scheduler->timesteps()[k] / 2000), k, x, &generator);
        error = std::max(error, maxAbsError(x, tensorOf(samples[static_cast<qsizetype>(k)])));
    }
    QVERIFY2(error <= Tolerance, qPrintable(QStringLiteral("max abs error %1").arg(error)));
}

void TestSchedulers::ancestralNoiseComesFromTheSeededGenerator_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::newRow("tiny-sd") << QStringLiteral("tiny-sd");
    QTest::newRow("tiny-sd15") << QStringLiteral("tiny-sd15");
}

void TestSchedulers::ancestralNoiseComesFromTheSeededGenerator()
{
    // The stored noise is what diffusers drew, one N(0,1) tensor per step from a CPU generator; LibTorch's CPU
    // generator with the same seed must give the same numbers, or no seeded run could match diffusers. Same up to
    // float32 rounding: randn's Box-Muller transform uses AVX approximations of log and cos on CPUs with AVX2 and
    // libm's elsewhere, in diffusers as here, while another seed or stream would be off by whole units.
    QFETCH(QString, fixture);
    const QJsonObject goldens = schedulerGoldens(fixture);
    const QJsonObject golden
        = goldens.value(QStringLiteral("cases")).toObject().value(QStringLiteral("euler_ancestral.20")).toObject();
    const auto match = QRegularExpression(QStringLiteral("seeded (\\d+)"))
                           .match(golden.value(QStringLiteral("noise_note")).toString());
    QVERIFY(match.hasMatch());
    const auto file = SafetensorsFile::open(
        Atelier::Test::fixturePath(fixture + QStringLiteral("/goldens/schedulers.safetensors")).toStdString());
    const at::Tensor noise = file.tensor(
        golden.value(QStringLiteral("noise")).toObject().value(QStringLiteral("key")).toString().toStdString());

    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(match.captured(1).toULongLong());
    for (std::int64_t k = 0; k < noise.size(0); ++k) {
        const at::Tensor drawn = at::randn(noise[k].sizes(), generator, at::TensorOptions().dtype(at::kFloat));
        const QString mismatch = Atelier::Test::float32Mismatch(drawn, noise[k]);
        QVERIFY2(mismatch.isEmpty(), qPrintable(QStringLiteral("step %1: %2").arg(k).arg(mismatch)));
    }
}

void TestSchedulers::sd15DefaultsMatchTheFixtureConfig()
{
    const SchedulerConfig fromFile = SchedulerConfig::fromJson(
        readFile(Atelier::Test::fixturePath(QStringLiteral("tiny-sd15/scheduler/scheduler_config.json"))).toStdString(),
        "scheduler_config.json");
    const SchedulerConfig defaults = SchedulerConfig::sd15Defaults();
    for (std::string_view name : schedulerNames()) {
        const auto a = makeScheduler(name, fromFile);
        const auto b = makeScheduler(name, defaults);
        a->setTimesteps(25);
        b->setTimesteps(25);
        QCOMPARE(a->timesteps(), b->timesteps());
        QCOMPARE(a->sigmas(), b->sigmas());
        QCOMPARE(a->initNoiseSigma(), b->initNoiseSigma());
    }
}

void TestSchedulers::skipsKeysListedAsDefaults()
{
    // A config saved after loading lists in _use_default_values the keys it holds only as defaults; diffusers'
    // from_config drops them, so the target class's own default applies.
    std::string text = ValidConfig;
    text.insert(text.size() - 1, R"(, "timestep_spacing": "leading", "_use_default_values": ["timestep_spacing"])");
    const auto euler = makeScheduler("euler", SchedulerConfig::fromJson(text, "scheduler_config.json"));
    euler->setTimesteps(10);
    QCOMPARE(euler->timesteps().front(), 999.0);

    std::string leading = ValidConfig;
    leading.insert(leading.size() - 1, R"(, "timestep_spacing": "leading")");
    const auto leadingEuler = makeScheduler("euler", SchedulerConfig::fromJson(leading, "scheduler_config.json"));
    leadingEuler->setTimesteps(10);
    QCOMPARE(leadingEuler->timesteps().front(), 901.0);
}

void TestSchedulers::readsPythonNonFiniteNumbers()
{
    // diffusers saves DPM-Solver's default lambda_min_clipped as -Infinity (Python's json); it must not break.
    std::string text = ValidConfig;
    text.insert(text.size() - 1, R"(, "lambda_min_clipped": -Infinity, "_note": "NaN -Infinity")");
    const auto dpm = makeScheduler("dpmpp_2m", SchedulerConfig::fromJson(text, "scheduler_config.json"));
    dpm->setTimesteps(10);
    QCOMPARE(dpm->timesteps().front(), 999.0);
}

void TestSchedulers::mapsClassNamesToSamplers()
{
    SchedulerConfig config = SchedulerConfig::sd15Defaults();
    QCOMPARE(defaultSchedulerName(config), std::optional<std::string_view>("pndm"));
    config.className = "DPMSolverMultistepScheduler";
    QCOMPARE(defaultSchedulerName(config), std::optional<std::string_view>("dpmpp_2m"));
    config.useKarrasSigmas = true;
    QCOMPARE(defaultSchedulerName(config), std::optional<std::string_view>("dpmpp_2m_karras"));
    config.className = "HeunDiscreteScheduler";
    QCOMPARE(defaultSchedulerName(config), std::optional<std::string_view>());
}

void TestSchedulers::rejectsUnknownNames()
{
    const QString message = engineErrorOf([] { makeScheduler("heun", SchedulerConfig::sd15Defaults()); });
    QVERIFY2(message.contains(QStringLiteral("\"heun\"")), qPrintable(message));
    for (std::string_view name : schedulerNames()) {
        QVERIFY2(message.contains(QString::fromLatin1(name.data(), static_cast<qsizetype>(name.size()))),
                 qPrintable(message));
    }
}

void TestSchedulers::rejectsBadConfigs_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("named"); // what the message must name

    const QString valid = QString::fromLatin1(ValidConfig);
    auto with = [&](const char* extra) {
        QString text = valid;
        text.insert(text.size() - 1, QStringLiteral(", ") + QString::fromLatin1(extra));
        return text;
    };
    auto without = [&](const char* key) {
        QJsonObject object = QJsonDocument::fromJson(valid.toUtf8()).object();
        object.remove(QString::fromLatin1(key));
        return QString::fromUtf8(QJsonDocument(object).toJson());
    };

    QTest::newRow("not JSON") << QStringLiteral("{\"beta_start\": ") << QStringLiteral("scheduler_config.json");
    QTest::newRow("not an object") << QStringLiteral("[1, 2]") << QStringLiteral("JSON object");
    for (const char* key : {"num_train_timesteps", "beta_start", "beta_end", "beta_schedule"}) {
        QTest::addRow("missing %s", key) << without(key) << QString::fromLatin1(key);
    }
    QTest::newRow("beta_start as string") << with(R"("beta_start": "0.001")") << QStringLiteral("beta_start");
    QTest::newRow("steps_offset as float") << with(R"("steps_offset": 1.5)") << QStringLiteral("steps_offset");
    QTest::newRow("num_train_timesteps as bool")
        << with(R"("num_train_timesteps": true)") << QStringLiteral("num_train_timesteps");
    QTest::newRow("beta_schedule as number") << with(R"("beta_schedule": 2)") << QStringLiteral("beta_schedule");
    QTest::newRow("use_karras_sigmas as string")
        << with(R"("use_karras_sigmas": "yes")") << QStringLiteral("use_karras_sigmas");
    QTest::newRow("trained_betas holding a string")
        << with(R"("trained_betas": [0.1, "x"])") << QStringLiteral("trained_betas");
    QTest::newRow("_use_default_values not a list")
        << with(R"("_use_default_values": "beta_start")") << QStringLiteral("_use_default_values");
}

void TestSchedulers::rejectsBadConfigs()
{
    QFETCH(QString, json);
    QFETCH(QString, named);
    // The JSON object may hold a key twice when a row adds one; nlohmann keeps the last, which is the bad one.
    const QString message
        = engineErrorOf([&] { SchedulerConfig::fromJson(json.toStdString(), "scheduler_config.json"); });
    QVERIFY2(!message.isEmpty(), "no EngineError");
    QVERIFY2(message.contains(named), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("scheduler_config.json")), qPrintable(message));
}

void TestSchedulers::rejectsValuesThatCannotWork_data()
{
    // Each row changes members of tiny-sd15's scheduler_config.json as a file would hold them; an empty message
    // means the changed config must load.
    QTest::addColumn<QString>("changes");
    QTest::addColumn<QString>("message");

    QTest::newRow("unchanged") << QString() << QString();
    QTest::newRow("beta_start -1") << QStringLiteral(R"("beta_start": -1)")
                                   << QStringLiteral("beta_start must be a number in (0, 1), got -1");
    QTest::newRow("beta_start 0") << QStringLiteral(R"("beta_start": 0)")
                                  << QStringLiteral("beta_start must be a number in (0, 1), got 0");
    QTest::newRow("beta_start NaN") << QStringLiteral(R"("beta_start": NaN)")
                                    << QStringLiteral("beta_start must be a number in (0, 1), got NaN");
    QTest::newRow("beta_end Infinity") << QStringLiteral(R"("beta_end": Infinity)")
                                       << QStringLiteral("beta_end must be a number in (0, 1), got Infinity");
    QTest::newRow("beta_end -Infinity") << QStringLiteral(R"("beta_end": -Infinity)")
                                        << QStringLiteral("beta_end must be a number in (0, 1), got -Infinity");
    QTest::newRow("beta_end 1") << QStringLiteral(R"("beta_end": 1.0)")
                                << QStringLiteral("beta_end must be a number in (0, 1), got 1");
    QTest::newRow("betas falling")
        << QStringLiteral(R"("beta_start": 0.02)")
        << QStringLiteral(R"(beta_start must be below beta_end (0.012) for the "scaled_linear" schedule, got 0.02)");
    QTest::newRow("betas equal, linear")
        << QStringLiteral(R"("beta_start": 0.012, "beta_schedule": "linear")")
        << QStringLiteral(R"(beta_start must be below beta_end (0.012) for the "linear" schedule, got 0.012)");
    // The cosine schedule and trained betas do not use the range, so it cannot break them.
    QTest::newRow("cosine ignores the range")
        << QStringLiteral(R"("beta_start": 0.5, "beta_end": 0.1, "beta_schedule": "squaredcos_cap_v2")") << QString();
    QTest::newRow("trained betas holding 0") << QStringLiteral(R"("trained_betas": [0.001, 0, 0.002])")
                                             << QStringLiteral("trained_betas[1] must be a number in (0, 1), got 0");
    QTest::newRow("num_train_timesteps 0")
        << QStringLiteral(R"("num_train_timesteps": 0)")
        << QStringLiteral("num_train_timesteps must be an integer from 2 to 100000, got 0");
    QTest::newRow("num_train_timesteps -1000")
        << QStringLiteral(R"("num_train_timesteps": -1000)")
        << QStringLiteral("num_train_timesteps must be an integer from 2 to 100000, got -1000");
    QTest::newRow("steps_offset -1") << QStringLiteral(R"("steps_offset": -1)")
                                     << QStringLiteral("steps_offset must be an integer from 0 to 999, got -1");
    QTest::newRow("steps_offset past training")
        << QStringLiteral(R"("steps_offset": 1000)")
        << QStringLiteral("steps_offset must be an integer from 0 to 999, got 1000");
    QTest::newRow("clip_sample_range 0") << QStringLiteral(R"("clip_sample_range": 0)")
                                         << QStringLiteral("clip_sample_range must be a positive number, got 0");
    QTest::newRow("sigma_min -0.5") << QStringLiteral(R"("sigma_min": -0.5)")
                                    << QStringLiteral("sigma_min must be a positive number, got -0.5");
    QTest::newRow("sigma_max NaN") << QStringLiteral(R"("sigma_max": NaN)")
                                   << QStringLiteral("sigma_max must be a positive number, got NaN");
    QTest::newRow("sigma_min above sigma_max") << QStringLiteral(R"("sigma_min": 10, "sigma_max": 1)")
                                               << QStringLiteral("sigma_min must be below sigma_max (1), got 10");
    QTest::newRow("Karras range") << QStringLiteral(R"("sigma_min": 0.03, "sigma_max": 14.6)") << QString();
}

void TestSchedulers::rejectsValuesThatCannotWork()
{
    // Such configs used to load and render black images with exit status 0.
    QFETCH(QString, changes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString relative = QStringLiteral("scheduler/scheduler_config.json");
    const QString path = Atelier::Test::writeChangedConfig(QStringLiteral("tiny-sd15"), relative, dir.path(), changes);
    QVERIFY(!path.isEmpty());
    const QString error = engineErrorOf([&] { SchedulerConfig::fromFile(path.toStdString()); });
    QCOMPARE(error, message.isEmpty() ? QString() : path + QStringLiteral(": ") + message);
    QVERIFY(path.endsWith(relative));
}

void TestSchedulers::rejectsUnsupportedOptions_data()
{
    QTest::addColumn<QString>("scheduler");
    QTest::addColumn<QString>("extra");
    QTest::addColumn<QString>("named");

    QTest::newRow("pndm with PRK steps") << QStringLiteral("pndm") << QStringLiteral(R"("skip_prk_steps": false)")
                                         << QStringLiteral("skip_prk_steps");
    QTest::newRow("unknown spacing") << QStringLiteral("euler") << QStringLiteral(R"("timestep_spacing": "even")")
                                     << QStringLiteral("timestep_spacing");
    QTest::newRow("unknown beta schedule")
        << QStringLiteral("ddim") << QStringLiteral(R"("beta_schedule": "cubic")") << QStringLiteral("beta_schedule");
    QTest::newRow("thresholding") << QStringLiteral("dpmpp_2m") << QStringLiteral(R"("thresholding": true)")
                                  << QStringLiteral("thresholding");
    QTest::newRow("log-linear interpolation")
        << QStringLiteral("euler") << QStringLiteral(R"("interpolation_type": "log_linear")")
        << QStringLiteral("interpolation_type");
    QTest::newRow("sample prediction for euler_a")
        << QStringLiteral("euler_a") << QStringLiteral(R"("prediction_type": "sample")")
        << QStringLiteral("prediction_type");
}

void TestSchedulers::rejectsUnsupportedOptions()
{
    QFETCH(QString, scheduler);
    QFETCH(QString, extra);
    QFETCH(QString, named);
    std::string text = ValidConfig;
    text.insert(text.size() - 1, ", " + extra.toStdString());
    const SchedulerConfig config = SchedulerConfig::fromJson(text, "scheduler_config.json");
    const QString message = engineErrorOf([&] { makeScheduler(scheduler.toStdString(), config); });
    QVERIFY2(message.contains(named), qPrintable(message));
}

void TestSchedulers::requiresStepsInOrder()
{
    const auto lms = makeScheduler("lms", SchedulerConfig::sd15Defaults());
    const at::Tensor x = at::randn({1, 4, 8, 8});
    QVERIFY(!engineErrorOf([&] { lms->step(x, 0, x); }).isEmpty()); // before setTimesteps()
    lms->setTimesteps(10);
    QVERIFY(!engineErrorOf([&] { lms->step(x, 1, x); }).isEmpty()); // skips step 0
    QVERIFY(engineErrorOf([&] { lms->step(x, 0, x); }).isEmpty());
    QVERIFY(!engineErrorOf([&] { lms->step(x, 10, x); }).isEmpty()); // past the end
    QVERIFY(!engineErrorOf([&] { lms->setTimesteps(0); }).isEmpty());
}

QTEST_GUILESS_MAIN(TestSchedulers)
#include "TestSchedulers.moc"
