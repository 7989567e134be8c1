// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>

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
    void rejectsUnsupportedOptions_data();
    void rejectsUnsupportedOptions();
    void requiresStepsInOrder();
};

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

    // Timesteps, sigmas and the initial noise scale are float32 or int64 values in diffusers: exact.
    const QJsonArray expectedTimesteps = golden.value(QStringLiteral("timesteps")).toArray();
    QCOMPARE(scheduler->timesteps().size(), static_cast<std::size_t>(expectedTimesteps.size()));
    for (qsizetype i = 0; i < expectedTimesteps.size(); ++i) {
        QCOMPARE(scheduler->timesteps()[static_cast<std::size_t>(i)], expectedTimesteps[i].toDouble());
    }
    QCOMPARE(scheduler->initNoiseSigma(), golden.value(QStringLiteral("init_noise_sigma")).toDouble());
    if (golden.contains(QStringLiteral("sigmas"))) {
        const QJsonArray expectedSigmas = golden.value(QStringLiteral("sigmas")).toArray();
        QCOMPARE(scheduler->sigmas().size(), static_cast<std::size_t>(expectedSigmas.size()));
        for (qsizetype i = 0; i < expectedSigmas.size(); ++i) {
            QCOMPARE(scheduler->sigmas()[static_cast<std::size_t>(i)], expectedSigmas[i].toDouble());
        }
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

    const QJsonArray timesteps = golden.value(QStringLiteral("timesteps")).toArray();
    QCOMPARE(scheduler->timesteps().size(), static_cast<std::size_t>(timesteps.size()));
    for (qsizetype i = 0; i < timesteps.size(); ++i) {
        QCOMPARE(scheduler->timesteps()[static_cast<std::size_t>(i)], timesteps[i].toDouble());
    }
    QCOMPARE(scheduler->initNoiseSigma(), golden.value(QStringLiteral("init_noise_sigma")).toDouble());
    const QJsonArray sigmas = golden.value(QStringLiteral("sigmas")).toArray();
    QCOMPARE(scheduler->sigmas().size(), static_cast<std::size_t>(sigmas.size()));
    for (qsizetype i = 0; i < sigmas.size(); ++i) {
        QCOMPARE(scheduler->sigmas()[static_cast<std::size_t>(i)], sigmas[i].toDouble());
    }

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
    // generator with the same seed must give the same bits, or no seeded run could match diffusers.
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
        QVERIFY2(at::equal(drawn, noise[k]), qPrintable(QStringLiteral("step %1").arg(k)));
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
