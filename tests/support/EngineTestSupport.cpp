// SPDX-License-Identifier: GPL-3.0-or-later
#include "EngineTestSupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>

#include <ATen/TensorOperators.h>

#include <c10/core/InferenceMode.h>
#include <c10/util/StringUtil.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <fcntl.h>
#include <future>
#include <limits>
#include <thread>
#include <unistd.h>

#include "TestSupport.h"
#include "engine/EngineError.h"
#include "engine/Safetensors.h"
#include "engine/UNet.h"

namespace Atelier::Test
{
    QJsonArray goldenCases(const QString& fixture, const QString& section)
    {
        return goldenIndex(fixture)[section][QStringLiteral("cases")].toArray();
    }

    GoldenCase::GoldenCase(const QString& fixture, const QString& section, int index)
        : m_fixture(fixture)
        , m_json(goldenCases(fixture, section)[index].toObject())
    { }

    at::Tensor GoldenCase::tensor(const char* field) const
    {
        const QJsonObject ref = m_json[QLatin1String(field)].toObject();
        const QString file
            = fixturePath(m_fixture + QStringLiteral("/goldens/") + ref[QStringLiteral("file")].toString());
        // The mapping is released with the file object, so hand back a copy that owns its memory.
        return Engine::SafetensorsFile::open(file.toStdString())
            .tensor(ref[QStringLiteral("key")].toString().toStdString())
            .clone();
    }

    double maxAbsDifference(const at::Tensor& a, const at::Tensor& b)
    {
        return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
    }

    std::int64_t float32UlpDistance(double a, double b)
    {
        const auto fa = static_cast<float>(a);
        const auto fb = static_cast<float>(b);
        if (std::isnan(fa) || std::isnan(fb)) {
            return std::numeric_limits<std::int64_t>::max();
        }
        // IEEE floats of one sign are ordered like their bit patterns; mapping the negative ones below zero in
        // reverse makes the integers count ulps across zero too (-0 and +0 both map to 0).
        auto ordinal = [](float f) {
            const auto bits = std::int64_t{std::bit_cast<std::int32_t>(f)};
            return bits < 0 ? std::int64_t{std::numeric_limits<std::int32_t>::min()} - bits : bits;
        };
        const std::int64_t distance = ordinal(fa) - ordinal(fb);
        return distance < 0 ? -distance : distance;
    }

    namespace
    {
        struct Float32Comparison
        {
            bool close = false;
            std::int64_t ulps = 0;
        };

        Float32Comparison compareFloat32(double actual, double expected, const Float32Tolerance& tolerance)
        {
            Float32Comparison result;
            result.ulps = float32UlpDistance(actual, expected);
            if (std::isnan(actual) || std::isnan(expected)) {
                result.close = false;
            } else if (std::isinf(actual) || std::isinf(expected)) {
                // An infinity is one ulp from the largest float; only the same infinity matches it.
                result.close = actual == expected;
            } else {
                result.close = result.ulps <= tolerance.ulps
                    || std::abs(actual - expected) <= tolerance.relative * std::abs(expected);
            }
            return result;
        }

        QString describeFloat32Mismatch(double actual, double expected, const Float32Comparison& comparison,
                                        const Float32Tolerance& tolerance)
        {
            const QString ulps = comparison.ulps == std::numeric_limits<std::int64_t>::max()
                ? QStringLiteral("NaN matches nothing")
                : QStringLiteral("%1 ulps").arg(comparison.ulps);
            const double relative = std::abs(actual - expected) / std::abs(expected);
            return QStringLiteral("value %1, expected %2 (%3, relative %4; allowed %5 ulps or relative %6)")
                .arg(QString::number(actual, 'g', 12), QString::number(expected, 'g', 12), ulps,
                     QString::number(relative, 'g', 3), QString::number(tolerance.ulps),
                     QString::number(tolerance.relative, 'g', 3));
        }
    } // namespace

    QString float32Mismatch(double actual, double expected, Float32Tolerance tolerance)
    {
        const Float32Comparison comparison = compareFloat32(actual, expected, tolerance);
        return comparison.close ? QString() : describeFloat32Mismatch(actual, expected, comparison, tolerance);
    }

    QString float32Mismatch(const at::Tensor& actual, const at::Tensor& expected, Float32Tolerance tolerance)
    {
        if (actual.sizes() != expected.sizes()) {
            return QStringLiteral("shape %1, expected %2")
                .arg(QString::fromStdString(c10::str(actual.sizes())),
                     QString::fromStdString(c10::str(expected.sizes())));
        }
        // float32 values are exact in double, so nothing is rounded on the way.
        const at::Tensor a = actual.to(at::kCPU).to(at::kDouble).contiguous();
        const at::Tensor e = expected.to(at::kCPU).to(at::kDouble).contiguous();
        const double* av = a.data_ptr<double>();
        const double* ev = e.data_ptr<double>();
        std::int64_t failures = 0;
        std::int64_t worst = -1;
        Float32Comparison worstComparison;
        for (std::int64_t i = 0; i < a.numel(); ++i) {
            const Float32Comparison comparison = compareFloat32(av[i], ev[i], tolerance);
            if (!comparison.close) {
                ++failures;
                if (worst < 0 || comparison.ulps > worstComparison.ulps) {
                    worst = i;
                    worstComparison = comparison;
                }
            }
        }
        if (failures == 0) {
            return {};
        }
        return QStringLiteral("%1 of %2 elements differ; the worst, at flat index %3: %4")
            .arg(failures)
            .arg(a.numel())
            .arg(worst)
            .arg(describeFloat32Mismatch(av[worst], ev[worst], worstComparison, tolerance));
    }

    QString writeChangedConfig(const QString& fixture, const QString& relative, const QString& dir,
                               const QString& changes)
    {
        QFile source(fixturePath(fixture + QLatin1Char('/') + relative));
        if (!source.open(QIODevice::ReadOnly)) {
            qWarning("cannot read %s", qPrintable(source.fileName()));
            return {};
        }
        QJsonObject object = QJsonDocument::fromJson(source.readAll()).object();
        const QRegularExpression memberName(QStringLiteral(R"re("([^"]+)"\s*:)re"));
        for (auto match = memberName.globalMatch(changes); match.hasNext();) {
            object.remove(match.next().captured(1));
        }
        QByteArray text = QJsonDocument(object).toJson();
        if (!changes.isEmpty()) {
            text.insert(text.lastIndexOf('}'), (object.isEmpty() ? "" : ",\n") + changes.toUtf8() + '\n');
        }
        const QString path = QDir(dir).filePath(relative);
        QFile target(path);
        if (!QDir().mkpath(QFileInfo(path).path()) || !target.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || target.write(text) != text.size()) {
            qWarning("cannot write %s", qPrintable(path));
            return {};
        }
        return path;
    }

    BoundedRun runBounded(std::function<void()> body, int limitMs, const QStringList& fifos)
    {
        auto done = std::make_shared<std::promise<QString>>();
        std::future<QString> result = done->get_future();
        QElapsedTimer timer;
        timer.start();
        // Detached, and owning everything it touches: if the body never returns, the test still ends.
        std::thread([body = std::move(body), done] {
            try {
                body();
                done->set_value({});
            } catch (const Engine::EngineError& error) {
                done->set_value(QString::fromUtf8(error.what()));
            } catch (const std::exception& error) {
                done->set_value(QStringLiteral("not an EngineError: ") + QString::fromUtf8(error.what()));
            } catch (...) {
                done->set_value(QStringLiteral("not an EngineError"));
            }
        }).detach();

        BoundedRun run;
        auto wait = [&] { return result.wait_for(std::chrono::milliseconds(limitMs)) == std::future_status::ready; };
        bool ready = wait();
        run.elapsedMs = timer.elapsed();
        if (!ready) {
            for (const QString& fifo : fifos) {
                // Opening the write end lets a reader blocked in open() go on; it then reads end-of-file.
                const int fd = ::open(QFile::encodeName(fifo).constData(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                if (fd >= 0) {
                    ::close(fd);
                }
            }
            ready = wait();
        }
        run.finished = ready;
        if (ready) {
            run.engineError = result.get();
        }
        return run;
    }

    double unetGoldenError(const Engine::UNet& unet, const QString& fixture, int index)
    {
        c10::InferenceMode guard;
        const GoldenCase golden(fixture, QStringLiteral("unet"), index);
        const at::Tensor out
            = unet.forward(golden.tensor("sample"), golden.tensor("timestep"), golden.tensor("encoder_hidden_states"));
        const at::Tensor expected = golden.tensor("out");
        return out.sizes() == expected.sizes() ? maxAbsDifference(out, expected) : -1.0;
    }

    QString engineErrorOf(const std::function<void()>& body)
    {
        try {
            body();
        } catch (const Engine::EngineError& error) {
            return QString::fromUtf8(error.what());
        }
        return {};
    }
} // namespace Atelier::Test
