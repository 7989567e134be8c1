// SPDX-License-Identifier: GPL-3.0-or-later
#include "BatchConsole.h"

#include <QJsonDocument>

#include <atomic>
#include <csignal>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        std::atomic<int> g_interrupt{0}; ///< the first SIGINT/SIGTERM
        std::atomic<int> g_interrupts{0}; ///< how many arrived

        extern "C" void onInterrupt(int signal)
        {
            int none = 0;
            g_interrupt.compare_exchange_strong(none, signal);
            g_interrupts.fetch_add(1);
        }
    } // namespace

    InterruptGuard::InterruptGuard()
    {
        g_interrupt.store(0);
        g_interrupts.store(0);
        std::signal(SIGINT, onInterrupt);
        std::signal(SIGTERM, onInterrupt);
    }

    InterruptGuard::~InterruptGuard()
    {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
    }

    int InterruptGuard::signal()
    {
        return g_interrupt.load();
    }
    int InterruptGuard::count()
    {
        return g_interrupts.load();
    }
    int InterruptGuard::exitCode()
    {
        return 128 + signal();
    }

    void printLine(FILE* stream, const QString& line)
    {
        std::fputs(qPrintable(line + u'\n'), stream);
        std::fflush(stream);
    }

    void printJson(const QJsonObject& event)
    {
        printLine(stdout, QString::fromUtf8(QJsonDocument(event).toJson(QJsonDocument::Compact)));
    }

    int refuseRun(bool json, const QString& message)
    {
        printLine(stderr, u"atelier: "_s + message);
        if (json) {
            printJson({{u"event"_s, u"error"_s}, {u"message"_s, message}});
        }
        return InterruptGuard::signal() != 0 ? InterruptGuard::exitCode() : 2;
    }

    namespace
    {
        QJsonObject withWhere(QJsonObject event, const QJsonObject& where)
        {
            for (auto it = where.begin(); it != where.end(); ++it) {
                event.insert(it.key(), it.value());
            }
            return event;
        }
    } // namespace

    BatchDisplay::BatchDisplay(bool json, qsizetype total)
        : m_json(json)
        , m_live(!json && isatty(STDOUT_FILENO) != 0)
        , m_total(total)
    {
        m_clock.start();
    }

    void BatchDisplay::addLane(const QString& lane)
    {
        for (const auto& [name, status] : std::as_const(m_lanes)) {
            if (name == lane) {
                return;
            }
        }
        if (m_live && !m_lanes.isEmpty()) {
            // The overall line moves down one: make room, keeping the cursor where redraw() expects it.
            std::fputs("\n\x1b[1A", stdout);
        }
        m_lanes.append({lane, u"idle"_s});
    }

    void BatchDisplay::redraw()
    {
        // One status line per lane and one overall, rewritten in place.
        QString text = u"\r\x1b[J"_s;
        for (const auto& [lane, status] : std::as_const(m_lanes)) {
            text += u"[%1] %2\n"_s.arg(lane, status);
        }
        const double elapsed = m_clock.elapsed() / 1000.0;
        const double eta = m_done > 0 ? elapsed / m_done * (m_total - m_done - m_failed) : 0;
        text += u"%1/%2 images, %3 failed, %4 s elapsed, ETA %5 s"_s.arg(m_done)
                    .arg(m_total)
                    .arg(m_failed)
                    .arg(elapsed, 0, 'f', 0)
                    .arg(eta, 0, 'f', 0);
        std::fputs(qPrintable(text), stdout);
        if (!m_lanes.isEmpty()) {
            std::fprintf(stdout, "\x1b[%dA", static_cast<int>(m_lanes.size()));
        }
        std::fflush(stdout);
    }

    void BatchDisplay::started(qint64 job, const QString& lane, const QJsonObject& where)
    {
        if (m_json) {
            printJson(withWhere({{u"event"_s, u"started"_s}, {u"job"_s, job}}, where));
        } else if (m_live) {
            for (auto& [name, status] : m_lanes) {
                if (name == lane) {
                    status = u"job %1 starting"_s.arg(job);
                }
            }
            redraw();
        }
    }

    void BatchDisplay::progress(qint64 job, const QString& lane, const QJsonObject& where, int step, int steps,
                                double iterationsPerSecond)
    {
        if (m_json) {
            printJson(withWhere({{u"event"_s, u"progress"_s},
                                 {u"job"_s, job},
                                 {u"step"_s, step},
                                 {u"total"_s, steps},
                                 {u"itps"_s, iterationsPerSecond}},
                                where));
        } else if (m_live) {
            for (auto& [name, status] : m_lanes) {
                if (name == lane) {
                    status = u"job %1 step %2/%3, %4 it/s"_s.arg(job).arg(step).arg(steps).arg(iterationsPerSecond, 0,
                                                                                               'f', 2);
                }
            }
            redraw();
        }
    }

    void BatchDisplay::finished(qint64 job, const QString& lane, const QString& path)
    {
        ++m_done;
        if (m_json) {
            printJson({{u"event"_s, u"done"_s}, {u"job"_s, job}, {u"path"_s, path}});
        } else if (m_live) {
            for (auto& [name, status] : m_lanes) {
                if (name == lane) {
                    status = u"idle"_s;
                }
            }
            redraw();
        } else {
            printLine(stdout, u"done %1/%2: %3"_s.arg(m_done).arg(m_total).arg(path));
        }
    }

    void BatchDisplay::failed(qint64 job, const QString& reason, bool willRetry)
    {
        m_failed += willRetry ? 0 : 1;
        if (m_json) {
            printJson({{u"event"_s, willRetry ? u"retry"_s : u"failed"_s}, {u"job"_s, job}, {u"reason"_s, reason}});
        } else if (m_live) {
            redraw();
        } else {
            printLine(stderr, u"job %1 %2: %3"_s.arg(job).arg(willRetry ? u"will be retried"_s : u"failed"_s, reason));
        }
    }

    void BatchDisplay::canceled(qint64 job, const QString& reason)
    {
        if (m_json) {
            printJson({{u"event"_s, u"canceled"_s}, {u"job"_s, job}, {u"reason"_s, reason}});
        }
    }

    void BatchDisplay::workerEvent(const QString& name, const QJsonObject& where, const QString& message)
    {
        if (m_json) {
            printJson(withWhere({{u"event"_s, u"worker"_s}, {u"message"_s, message}}, where));
        } else if (!m_live) {
            printLine(stderr, u"worker %1: %2"_s.arg(name, message));
        }
    }

    void BatchDisplay::end()
    {
        if (m_live) {
            std::fprintf(stdout, "\x1b[%dB\n", static_cast<int>(m_lanes.size()));
            std::fflush(stdout);
        }
    }
} // namespace Atelier
