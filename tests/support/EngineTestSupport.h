// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace Atelier::Engine
{
    class UNet;
}

/// Fails the test unless @p actual is within the default Float32Tolerance of the float32 golden @p expected; the
/// message starts with @p what (a C string, "init_noise_sigma") and says what was compared. Values that must be
/// exact, such as integer timesteps, need == instead (QCOMPARE of doubles is fuzzy, relative 1e-12).
#define ATELIER_COMPARE_FLOAT32(actual, expected, what)                                                                \
    do {                                                                                                               \
        const QString atelierMismatch = ::Atelier::Test::float32Mismatch((actual), (expected));                        \
        QVERIFY2(atelierMismatch.isEmpty(),                                                                            \
                 qPrintable(QString::fromUtf8(what) + QStringLiteral(": ") + atelierMismatch));                        \
    } while (false)

namespace Atelier::Test
{
    /// The cases of one section ("unet", "vae", "pipeline_cases", "seed_cases", …) of a fixture's goldens.
    QJsonArray goldenCases(const QString& fixture, const QString& section);

    /// One golden case and the tensors it names: each tensor field of index.json carries its own file and key.
    class GoldenCase
    {
    public:
        GoldenCase(const QString& fixture, const QString& section, int index);

        const QJsonObject& json() const { return m_json; }
        /// The tensor that field @p field names (e.g. "sample", "image_uint8").
        at::Tensor tensor(const char* field) const;

    private:
        QString m_fixture;
        QJsonObject m_json;
    };

    /// max |a − b| over all elements, as a double.
    double maxAbsDifference(const at::Tensor& a, const at::Tensor& b);

    /// How close a value must be to a float32 golden: within @p ulps float32 units in the last place, or within
    /// @p relative of it, whichever is looser. The goldens are float32 values diffusers computed on one CPU; the
    /// same computation on another (other vector instructions, another libm) can round a value one ulp the other way,
    /// and diffusers itself then disagrees with its goldens by as much.
    struct Float32Tolerance
    {
        std::int64_t ulps = 4;
        double relative = 1e-6;
    };

    /// float32 units in the last place between @p a and @p b, each rounded to float32 first (0 for 0 and -0);
    /// the largest int64 when either is NaN.
    std::int64_t float32UlpDistance(double a, double b);

    /// Empty when @p actual is within @p tolerance of the float32 golden @p expected, otherwise what was compared,
    /// e.g. "value 9.10302777406, expected 9.10293674469 (95 ulps, relative 1e-05; allowed 4 ulps or relative
    /// 1e-06)". NaN never matches, not even NaN; an infinity matches only the same infinity.
    QString float32Mismatch(double actual, double expected, Float32Tolerance tolerance = {});

    /// float32Mismatch over tensors of the same shape: empty when every element is close, otherwise the number
    /// of elements that are not and the worst of them, with its index.
    QString float32Mismatch(const at::Tensor& actual, const at::Tensor& expected, Float32Tolerance tolerance = {});

    /// Writes a copy of fixture @p fixture's config @p relative ("vae/config.json") to the same relative path under
    /// @p dir, with the members @p changes replacing those of the same names. @p changes is written as in a file
    /// (`"beta_start": -1, "beta_end": NaN`), so it may hold Python's NaN and Infinity, which QJsonDocument cannot
    /// write. Returns the path written, or an empty string (after a warning) when it could not be written.
    QString writeChangedConfig(const QString& fixture, const QString& relative, const QString& dir,
                               const QString& changes);

    /// What runBounded saw.
    struct BoundedRun
    {
        bool finished = false; ///< false when the body had not returned even after the FIFOs were unblocked
        qint64 elapsedMs = 0; ///< until the body returned (or the wait was given up)
        /// What the EngineError it threw says, or another exception's message after "not an EngineError"; empty
        /// when it threw nothing.
        QString engineError;
    };

    /// Runs @p body on a thread of its own and waits at most @p limitMs for it. A body that blocks opening one of
    /// @p fifos for reading (the bug the caller tests for) is then unblocked by opening and closing that FIFO for
    /// writing, so that the test fails with a message instead of hanging until CTest kills it.
    BoundedRun runBounded(std::function<void()> body, int limitMs, const QStringList& fifos = {});

    /// Runs @p unet on golden UNet case @p index of @p fixture and returns its max abs error against the golden
    /// output (a negative value when the shapes differ).
    double unetGoldenError(const Engine::UNet& unet, const QString& fixture, int index);

    /// The message of the Engine::EngineError @p body throws, or an empty string when it throws none.
    QString engineErrorOf(const std::function<void()>& body);
} // namespace Atelier::Test
