// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QRandomGenerator>
#include <QString>
#include <QStringList>

#include <functional>

/// What Atelier's benchmarks share: synthetic images as workers write them, timing and memory readings.
namespace Atelier::Bench
{
    /// The words synthetic prompts are made of.
    extern const QStringList Words;
    /// The model names synthetic images carry.
    extern const QStringList Models;

    double millisecondsSince(const QElapsedTimer& timer);
    /// How long @p work took, in milliseconds.
    double timed(const std::function<void()>& work);
    double median(QList<double> values);
    /// One "name: value unit" line on stdout, flushed.
    void print(const char* name, double value, const char* unit);
    /// A /proc/self/status field in kB ("VmHWM": the peak resident set); -1 when it cannot be read.
    qint64 statusKilobytes(const QByteArray& field);
    /// Resets the peak resident set (VmHWM) to the current one, so that a phase's own peak can be read.
    bool resetPeakMemory();
    QString randomPrompt(QRandomGenerator& random, int minWords, int maxWords);
    /// Writes @p count 64×64 PNGs into @p folder as a worker would (A1111 infotext, Atelier provenance, A1111
    /// names), with modification times spread over the last year.
    bool writeImages(const QString& folder, int count, QRandomGenerator& random);
} // namespace Atelier::Bench
