// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace Atelier
{
    /// Opens the SQLite file @p path ("" or ":memory:" for a private one) as Qt Sql connection @p connection,
    /// creating its folder first, refusing anything there that is not a regular file, and making writers wait up
    /// to 10 s for each other rather than fail at once. Returns an empty string, or what went wrong (for the
    /// caller to put after the file's name).
    QString openSqliteDatabase(const QString& connection, const QString& path);
    /// A connection name no other object of this process uses: "<prefix>-<n>".
    QString uniqueSqliteConnectionName(const QString& prefix);
    /// Closes and removes connection @p connection, if it was added (every query on it must be gone first).
    void closeSqliteDatabase(const QString& connection);
} // namespace Atelier
