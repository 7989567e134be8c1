// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace Atelier::Test
{
    /// Absolute path of @p relative under tests/data.
    QString dataPath(const QString& relative);
    /// Absolute path of @p relative under ../shared/fixtures (the diffusers parity fixtures), or under
    /// $ATELIER_FIXTURES_DIR when set. Warns when the file is not there.
    QString fixturePath(const QString& relative);
    /// The parsed goldens/index.json of fixture @p fixture ("tiny-sd", "tiny-sd15"). Python's json module writes
    /// -Infinity, Infinity and NaN, which QJsonDocument rejects; they are read as ∓DBL_MAX and null.
    /// Returns an empty object (and warns) when the file is missing or unreadable.
    QJsonObject goldenIndex(const QString& fixture);
    /// Absolute path of @p relative in the source tree (resources/models/…).
    QString sourcePath(const QString& relative);
    /// Absolute path of one of Atelier's executables in the build tree (build/bin).
    QString executablePath(const QString& name);

    struct ProcessResult
    {
        int exitCode = -1;
        bool crashed = false;
        QString standardOutput;
        QString standardError;
    };
    /// Runs @p program with @p arguments to completion (hard limit @p timeoutMs) and returns what it printed.
    ProcessResult runProcess(const QString& program, const QStringList& arguments, int timeoutMs = 60000);

    /// Runs @p sql on the SQLite file at @p path through a connection of its own, as another program (or a crash)
    /// would. Returns whether it ran.
    bool runSql(const QString& path, const QString& sql);

    /// The children of process @p pid (a coordinator's workers), from /proc.
    QList<qint64> childrenOf(qint64 pid);
    /// Whether process @p pid still runs (a zombie has exited: only its parent, maybe gone, would reap it).
    bool isRunning(qint64 pid);
} // namespace Atelier::Test
