// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <cstdio>

namespace Atelier
{
    /// Catches SIGINT and SIGTERM for its lifetime (the handlers only set flags; an event loop polls them), for the
    /// headless modes' clean stops. One at a time.
    class InterruptGuard
    {
    public:
        InterruptGuard();
        ~InterruptGuard();
        InterruptGuard(const InterruptGuard&) = delete;
        InterruptGuard& operator=(const InterruptGuard&) = delete;

        /// The first signal that arrived (0: none).
        static int signal();
        /// How many arrived.
        static int count();
        /// 130 after SIGINT, 143 after SIGTERM, as shells report them.
        static int exitCode();
    };

    /// Writes @p line and a newline to @p stream, flushed (progress must show while a run goes on).
    void printLine(FILE* stream, const QString& line);
    /// One JSON event on a line of stdout.
    void printJson(const QJsonObject& event);
    /// Says why a headless run cannot go on (on stderr, and as an "error" event with --json). Returns its exit code:
    /// 2, or the interrupt's when one arrived meanwhile (a Ctrl-C makes a device listing "fail" too: the interrupt
    /// is the news).
    int refuseRun(bool json, const QString& message);

    /// What a headless run shows as it goes, the same for `--batch` and for the farm: with --json one object per event
    /// on stdout; on a terminal one line per lane (a worker: "0 cpu", or a farm node's device: "node7 cuda:1")
    /// rewritten in place with an overall line below; otherwise a log line per image and per problem. Each event
    /// carries where it happened (`{"rank": 0}` or `{"node": …, "device": …}`) into its JSON.
    class BatchDisplay
    {
    public:
        BatchDisplay(bool json, qsizetype total);

        /// Adds a lane (a status line) unless it is there; lanes show in the order they came.
        void addLane(const QString& lane);
        void setTotal(qsizetype total) { m_total = total; }
        qsizetype done() const { return m_done; }
        qsizetype failed() const { return m_failed; }

        void started(qint64 job, const QString& lane, const QJsonObject& where);
        void progress(qint64 job, const QString& lane, const QJsonObject& where, int step, int steps,
                      double iterationsPerSecond);
        void finished(qint64 job, const QString& lane, const QString& path);
        void failed(qint64 job, const QString& reason, bool willRetry);
        void canceled(qint64 job, const QString& reason);
        /// News of a worker: started, crashed, restarted, joined. @p name is how log lines call it.
        void workerEvent(const QString& name, const QJsonObject& where, const QString& message);
        /// Ends the live display (the cursor goes below it); call before printing the summary.
        void end();

    private:
        void redraw();

        bool m_json;
        bool m_live;
        qsizetype m_total;
        qsizetype m_done = 0;
        qsizetype m_failed = 0;
        QList<std::pair<QString, QString>> m_lanes; ///< lane, its status
        QElapsedTimer m_clock;
    };
} // namespace Atelier
