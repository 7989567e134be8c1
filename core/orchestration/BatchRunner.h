// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

#include <optional>

namespace Atelier
{
    /// What `atelier --batch FILE …` was asked to do. Values given here are defaults; values in the file win.
    struct BatchOptions
    {
        QString file;
        QString workerProgram;
        QString modelPath; ///< empty: the embedded model
        QString devices = QStringLiteral("cpu"); ///< "cpu", "cuda:0,cuda:1", "cpu,cpu" or "all"
        QString outputDirectory = QStringLiteral("atelier-output");
        std::optional<int> steps;
        std::optional<double> cfgScale;
        std::optional<int> width;
        std::optional<int> height;
        QString scheduler;
        std::optional<quint64> seed; ///< base seed for prompts without one
        int threadsPerWorker = 0;
        bool json = false; ///< one JSON object per event on stdout
        bool strict = false; ///< any problem in the file: render nothing
    };

    /// Runs a prompt file headless: imports it, starts one worker per device through the Coordinator, reports
    /// progress (a live display on a terminal, log lines otherwise, JSON events with --json) and ends with a
    /// summary. Ctrl-C (SIGINT) or SIGTERM stops cleanly: running jobs are cancelled, workers stopped, and what was
    /// not done is listed. Returns the exit code: 0 only when every prompt produced its image; 1 when some did not;
    /// 2 for bad options or a file that could not be used; 130 when interrupted. Needs a QCoreApplication.
    int runBatch(const BatchOptions& options);

    /// The devices `--devices` names: "all" is every CUDA device the worker sees, or the CPU when there is none.
    /// Returns an empty list and sets @p error when the list is unusable.
    QStringList resolveDevices(const QString& devices, const QString& workerProgram, QString* error);
} // namespace Atelier
