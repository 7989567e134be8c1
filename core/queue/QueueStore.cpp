// SPDX-License-Identifier: GPL-3.0-or-later
#include "QueueStore.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTimeZone>

#include <unistd.h>

#include "PromptExport.h"
#include "SqliteDatabase.h"
#include "import/PromptImport.h"
#include "render/OutputNaming.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        const QString ItemColumns
            = u"id, queue, settings, state, attempts, device, image_path, last_error, key, owner, updated"_s;

        std::optional<ItemState> stateFromName(const QString& name)
        {
            for (const ItemState state :
                 {ItemState::Queued, ItemState::Running, ItemState::Done, ItemState::Failed, ItemState::Canceled}) {
                if (itemStateName(state) == name) {
                    return state;
                }
            }
            return std::nullopt;
        }

        /// The settings as one prompt-file line: the importer reads them back with its own checks, so a row
        /// edited by hand cannot smuggle in a value the render model refuses.
        QString settingsText(const RenderSettings& settings)
        {
            return QString::fromUtf8(toPromptFile({settings}).trimmed());
        }

        /// Qt binds a null QString as SQL NULL; the text columns hold "" for "none".
        QVariant notNull(const QVariant& value)
        {
            if (value.typeId() == QMetaType::QString && value.toString().isNull()) {
                return QString(u""_s);
            }
            return value;
        }

        /// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
        QString processStartTime(qint64 pid)
        {
            QFile stat(u"/proc/%1/stat"_s.arg(pid));
            if (!stat.open(QIODevice::ReadOnly)) {
                return {};
            }
            const QByteArray line = stat.readAll();
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
            const qsizetype close = line.lastIndexOf(')');
            if (close < 0) {
                return {};
            }
            const QList<QByteArray> fields = line.mid(close + 2).split(' ');
            return fields.size() > 19 ? QString::fromLatin1(fields.at(19)) : QString();
        }
    } // namespace

    QString itemStateName(ItemState state)
    {
        switch (state) {
        case ItemState::Queued:
            return u"queued"_s;
        case ItemState::Running:
            return u"running"_s;
        case ItemState::Done:
            return u"done"_s;
        case ItemState::Failed:
            return u"failed"_s;
        case ItemState::Canceled:
            return u"canceled"_s;
        }
        return {};
    }

    QString QueueStore::windowQueue()
    {
        return u"window"_s;
    }

    QueueStore::QueueStore()
        : m_connection(uniqueSqliteConnectionName(u"atelier-queue"_s))
    { }

    QueueStore::~QueueStore()
    {
        closeSqliteDatabase(m_connection);
    }

    bool QueueStore::isOpen() const
    {
        return QSqlDatabase::contains(m_connection) && QSqlDatabase::database(m_connection, false).isOpen();
    }

    bool QueueStore::fail(const QString& what)
    {
        m_error = u"%1: %2"_s.arg(m_path, what);
        return false;
    }

    bool QueueStore::exec(const QString& sql, const QVariantList& values)
    {
        QSqlQuery query(QSqlDatabase::database(m_connection, false));
        if (!query.prepare(sql)) {
            return fail(query.lastError().text());
        }
        for (const QVariant& value : values) {
            query.addBindValue(notNull(value));
        }
        if (!query.exec()) {
            return fail(query.lastError().text());
        }
        return true;
    }

    QString QueueStore::open(const QString& path)
    {
        m_path = path;
        m_error.clear();
        if (const QString problem = openSqliteDatabase(m_connection, path); !problem.isEmpty()) {
            fail(problem);
            return m_error;
        }
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        QSqlQuery query(db);
        if (!query.exec(u"PRAGMA user_version"_s) || !query.next()) {
            fail(u"not an SQLite database (%1)"_s.arg(query.lastError().text()));
            db.close();
            return m_error;
        }
        const int version = query.value(0).toInt();
        query.finish(); // an open statement would keep a read transaction, in which the journal mode cannot change
        if (version > SchemaVersion) {
            fail(u"made by a newer Atelier (schema %1; this one reads %2)"_s.arg(version).arg(SchemaVersion));
            db.close();
            return m_error;
        }
        // WAL: readers never wait for the writer, and a commit is one append; synchronous=FULL makes a commit
        // durable before the call returns (a claimed item is on disk before its worker hears of it).
        if (!exec(u"PRAGMA journal_mode=WAL"_s) || !exec(u"PRAGMA synchronous=FULL"_s)) {
            db.close();
            return m_error;
        }
        if (version == 0) {
            const bool made = db.transaction()
                && exec(u"CREATE TABLE IF NOT EXISTS items ("
                        "id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, position INTEGER NOT NULL, "
                        "settings TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                        "device TEXT NOT NULL DEFAULT '', image_path TEXT NOT NULL DEFAULT '', "
                        "last_error TEXT NOT NULL DEFAULT '', key TEXT NOT NULL DEFAULT '', "
                        "owner TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"_s)
                && exec(u"CREATE INDEX IF NOT EXISTS items_by_queue ON items (queue, state, position)"_s)
                && exec(u"PRAGMA user_version = %1"_s.arg(SchemaVersion)) && db.commit();
            if (!made) {
                db.rollback();
                db.close();
                return m_error;
            }
        }
        return {};
    }

    std::optional<QList<qint64>> QueueStore::add(const QString& queue, const QList<RenderSettings>& items, bool atFront,
                                                 const QStringList& keys)
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        if (!db.transaction()) {
            fail(db.lastError().text());
            return std::nullopt;
        }
        QSqlQuery edge(db);
        edge.prepare(atFront ? u"SELECT COALESCE(MIN(position), 0) FROM items WHERE queue = ?"_s
                             : u"SELECT COALESCE(MAX(position), 0) FROM items WHERE queue = ?"_s);
        edge.addBindValue(queue);
        if (!edge.exec() || !edge.next()) {
            fail(edge.lastError().text());
            db.rollback();
            return std::nullopt;
        }
        qint64 position = edge.value(0).toLongLong() + (atFront ? -items.size() : 1);
        edge.finish();
        QList<qint64> ids;
        for (qsizetype i = 0; i < items.size(); ++i) {
            QSqlQuery insert(db);
            insert.prepare(u"INSERT INTO items (queue, position, settings, state, key) VALUES (?, ?, ?, ?, ?)"_s);
            insert.addBindValue(queue);
            insert.addBindValue(position++);
            insert.addBindValue(settingsText(items.at(i)));
            insert.addBindValue(itemStateName(ItemState::Queued));
            insert.addBindValue(notNull(keys.value(i)));
            if (!insert.exec()) {
                fail(insert.lastError().text());
                db.rollback();
                return std::nullopt;
            }
            ids.append(insert.lastInsertId().toLongLong());
        }
        if (!db.commit()) {
            fail(db.lastError().text());
            db.rollback();
            return std::nullopt;
        }
        return ids;
    }

    std::optional<QueueItem> QueueStore::claim(const QString& queue)
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        // IMMEDIATE takes the write lock before reading, so two claimers cannot both read the same first item.
        if (!exec(u"BEGIN IMMEDIATE"_s)) {
            return std::nullopt;
        }
        QSqlQuery first(db);
        first.prepare(u"SELECT id FROM items WHERE queue = ? AND state = 'queued' ORDER BY position, id LIMIT 1"_s);
        first.addBindValue(queue);
        if (!first.exec()) {
            fail(first.lastError().text());
            exec(u"ROLLBACK"_s);
            return std::nullopt;
        }
        if (!first.next()) {
            exec(u"ROLLBACK"_s);
            return std::nullopt;
        }
        const qint64 id = first.value(0).toLongLong();
        first.finish();
        if (!exec(u"UPDATE items SET state = 'running', owner = ?, updated = CURRENT_TIMESTAMP WHERE id = ?"_s,
                  {processIdentity(), id})
            || !exec(u"COMMIT"_s)) {
            exec(u"ROLLBACK"_s);
            return std::nullopt;
        }
        return item(id);
    }

    bool QueueStore::recordDispatch(qint64 id, quint64 seed, const QString& imagePath, int attempts,
                                    const QString& device)
    {
        std::optional<QueueItem> current = item(id);
        if (!current) {
            return false;
        }
        current->settings.seed = seed;
        return exec(u"UPDATE items SET settings = ?, image_path = ?, attempts = ?, device = ?, "
                    "updated = CURRENT_TIMESTAMP WHERE id = ?"_s,
                    {settingsText(current->settings), imagePath, attempts, device, id});
    }

    bool QueueStore::markDone(qint64 id, const QString& imagePath)
    {
        return exec(u"UPDATE items SET state = 'done', image_path = ?, owner = '', last_error = '', "
                    "updated = CURRENT_TIMESTAMP WHERE id = ?"_s,
                    {imagePath, id});
    }

    bool QueueStore::markFailed(qint64 id, const QString& error, bool final)
    {
        if (final) {
            return exec(u"UPDATE items SET state = 'failed', owner = '', last_error = ?, updated = CURRENT_TIMESTAMP "
                        "WHERE id = ?"_s,
                        {error, id});
        }
        return exec(u"UPDATE items SET last_error = ?, updated = CURRENT_TIMESTAMP WHERE id = ?"_s, {error, id});
    }

    bool QueueStore::release(qint64 id, const QString& reason, bool attemptCounts)
    {
        // Back to the front, before anything that waits, as the artist would expect of an interrupted item. Its
        // dispatch counted an attempt; one that a stop cut short is given back.
        if (!attemptCounts
            && !exec(u"UPDATE items SET attempts = MAX(attempts - 1, 0) WHERE id = ? AND state = 'running'"_s, {id})) {
            return false;
        }
        return exec(u"UPDATE items SET state = 'queued', owner = '', last_error = ?, "
                    "position = (SELECT COALESCE(MIN(position), 0) - 1 FROM items AS o WHERE o.queue = items.queue), "
                    "updated = CURRENT_TIMESTAMP WHERE id = ? AND state = 'running'"_s,
                    {reason, id});
    }

    bool QueueStore::execForEach(const QString& sql, const QList<qint64>& ids, const QVariantList& before)
    {
        // One transaction: all of them change, or none.
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        if (!db.transaction()) {
            return fail(db.lastError().text());
        }
        for (const qint64 id : ids) {
            if (!exec(sql, before + QVariantList{id})) {
                db.rollback();
                return false;
            }
        }
        return db.commit() || fail(db.lastError().text());
    }

    bool QueueStore::requeue(const QList<qint64>& ids)
    {
        return execForEach(u"UPDATE items SET state = 'queued', attempts = 0, owner = '', updated = CURRENT_TIMESTAMP "
                           "WHERE id = ? AND state IN ('failed', 'canceled')"_s,
                           ids);
    }

    bool QueueStore::cancel(const QList<qint64>& ids, const QString& reason)
    {
        return execForEach(u"UPDATE items SET state = 'canceled', owner = '', last_error = ?, "
                           "updated = CURRENT_TIMESTAMP WHERE id = ? AND state IN ('queued', 'running')"_s,
                           ids, {reason});
    }

    bool QueueStore::remove(const QList<qint64>& ids)
    {
        return execForEach(u"DELETE FROM items WHERE id = ? AND state != 'running'"_s, ids);
    }

    bool QueueStore::update(qint64 id, const RenderSettings& settings)
    {
        QSqlQuery query(QSqlDatabase::database(m_connection, false));
        query.prepare(
            u"UPDATE items SET settings = ?, updated = CURRENT_TIMESTAMP WHERE id = ? AND state = 'queued'"_s);
        query.addBindValue(settingsText(settings));
        query.addBindValue(id);
        if (!query.exec()) {
            return fail(query.lastError().text());
        }
        // Claimed (or removed) meanwhile: what renders is what was queued, and the artist is told so.
        return query.numRowsAffected() == 1 || fail(u"item %1 is no longer waiting"_s.arg(id));
    }

    bool QueueStore::move(qint64 id, qint64 beforeId)
    {
        const std::optional<QueueItem> moved = item(id);
        if (!moved || moved->state != ItemState::Queued) {
            return fail(u"item %1 is not queued"_s.arg(id));
        }
        QList<QueueItem> order = items(moved->queue, ItemState::Queued);
        order.removeIf([id](const QueueItem& i) { return i.id == id; });
        const auto before
            = std::find_if(order.begin(), order.end(), [beforeId](const QueueItem& i) { return i.id == beforeId; });
        order.insert(before - order.begin(), *moved);
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        if (!db.transaction()) {
            return fail(db.lastError().text());
        }
        // Renumbered from past every other item, so positions stay unique within the queue.
        QSqlQuery top(db);
        top.prepare(u"SELECT COALESCE(MAX(position), 0) FROM items WHERE queue = ?"_s);
        top.addBindValue(moved->queue);
        if (!top.exec() || !top.next()) {
            db.rollback();
            return fail(top.lastError().text());
        }
        qint64 position = top.value(0).toLongLong() + 1;
        top.finish();
        for (const QueueItem& i : order) {
            if (!exec(u"UPDATE items SET position = ? WHERE id = ?"_s, {position++, i.id})) {
                db.rollback();
                return false;
            }
        }
        return db.commit() || fail(db.lastError().text());
    }

    QList<QueueItem> QueueStore::readItems(QSqlQuery& query)
    {
        QList<QueueItem> result;
        if (!query.exec()) {
            fail(query.lastError().text());
            return result;
        }
        while (query.next()) {
            QueueItem i;
            i.id = query.value(0).toLongLong();
            i.queue = query.value(1).toString();
            const ImportResult parsed
                = importPromptData(query.value(2).toString().toUtf8(), u"jsonl"_s, u"%1#%2"_s.arg(m_path).arg(i.id));
            const std::optional<ItemState> itemState = stateFromName(query.value(3).toString());
            if (parsed.jobs.size() != 1 || !itemState) {
                // A row edited into nonsense: shown as failed with the reason, never dropped silently.
                i.settings.prompt = query.value(2).toString().left(200);
                i.state = ItemState::Failed;
                i.lastError = parsed.issues.isEmpty() ? u"unknown state \"%1\""_s.arg(query.value(3).toString())
                                                      : parsed.issues.first().toString();
            } else {
                i.settings = parsed.jobs.first();
                i.state = *itemState;
                i.lastError = query.value(7).toString();
            }
            i.attempts = query.value(4).toInt();
            i.device = query.value(5).toString();
            i.imagePath = query.value(6).toString();
            i.key = query.value(8).toString();
            i.owner = query.value(9).toString();
            // SQLite's CURRENT_TIMESTAMP: "YYYY-MM-DD HH:MM:SS", in UTC.
            i.updated = QDateTime::fromString(query.value(10).toString(), u"yyyy-MM-dd HH:mm:ss"_s);
            i.updated.setTimeZone(QTimeZone::utc());
            result.append(i);
        }
        return result;
    }

    QList<QueueItem> QueueStore::items(const QString& queue, std::optional<ItemState> state)
    {
        QSqlQuery query(QSqlDatabase::database(m_connection, false));
        query.prepare(u"SELECT %1 FROM items WHERE queue = ? %2 ORDER BY position, id"_s.arg(
            ItemColumns, state ? u"AND state = ?"_s : QString()));
        query.addBindValue(queue);
        if (state) {
            query.addBindValue(itemStateName(*state));
        }
        return readItems(query);
    }

    std::optional<QueueItem> QueueStore::item(qint64 id)
    {
        QSqlQuery query(QSqlDatabase::database(m_connection, false));
        query.prepare(u"SELECT %1 FROM items WHERE id = ?"_s.arg(ItemColumns));
        query.addBindValue(id);
        m_error.clear();
        const QList<QueueItem> found = readItems(query);
        if (found.isEmpty()) {
            if (m_error.isEmpty()) {
                fail(u"no item %1"_s.arg(id));
            }
            return std::nullopt;
        }
        return found.first();
    }

    qsizetype QueueStore::count(const QString& queue, ItemState state)
    {
        QSqlQuery query(QSqlDatabase::database(m_connection, false));
        query.prepare(u"SELECT COUNT(*) FROM items WHERE queue = ? AND state = ?"_s);
        query.addBindValue(queue);
        query.addBindValue(itemStateName(state));
        if (!query.exec() || !query.next()) {
            fail(query.lastError().text());
            return 0;
        }
        return query.value(0).toLongLong();
    }

    int QueueStore::recover(const QString& queue, const std::function<bool(const QueueItem&)>& imageMade,
                            int maxAttempts)
    {
        int recovered = 0;
        const QList<QueueItem> running = items(queue, ItemState::Running);
        // Back to the front in reverse, so that they keep their order there.
        for (auto it = running.rbegin(); it != running.rend(); ++it) {
            const QueueItem& i = *it;
            if (isProcessAlive(i.owner)) {
                continue; // another Atelier is rendering it right now
            }
            bool ok = false;
            if (!i.imagePath.isEmpty() && imageMade && imageMade(i)) {
                ok = markDone(i.id, i.imagePath);
            } else if (i.attempts >= maxAttempts) {
                ok = markFailed(i.id, u"interrupted %1 times (its process ended while rendering it)"_s.arg(i.attempts),
                                true);
            } else {
                ok = release(i.id, u"its process ended while rendering it"_s, /*attemptCounts=*/true);
            }
            if (!ok) {
                return -1;
            }
            ++recovered;
        }
        return recovered;
    }

    QString QueueStore::processIdentity()
    {
        static const QString identity
            = u"%1:%2:%3"_s.arg(QSysInfo::machineHostName()).arg(::getpid()).arg(processStartTime(::getpid()));
        return identity;
    }

    bool QueueStore::isProcessAlive(const QString& identity)
    {
        const QStringList parts = identity.split(u':');
        if (parts.size() != 3) {
            return false; // nobody (or a row from an older format): nothing runs it
        }
        if (parts.at(0) != QSysInfo::machineHostName()) {
            return true; // a store on a shared disk, claimed elsewhere: not ours to take back
        }
        bool isNumber = false;
        const qint64 pid = parts.at(1).toLongLong(&isNumber);
        return isNumber && pid > 0 && processStartTime(pid) == parts.at(2) && !parts.at(2).isEmpty();
    }

    QString defaultQueueStorePath()
    {
        return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(u"queue.sqlite"_s);
    }

    QString openQueueStore(QueueStore& store, const QString& path)
    {
        if (QString error = store.open(path); !error.isEmpty()) {
            return error;
        }
        const QString legacy = QFileInfo(path).dir().filePath(u"queue.jsonl"_s);
        if (QFileInfo(legacy).isFile()) {
            const ImportResult old = importPromptFile(legacy);
            // Imported first, then renamed: a crash in between imports it twice at worst, never loses it.
            if (!old.jobs.isEmpty() && !store.add(QueueStore::windowQueue(), old.jobs)) {
                return store.error();
            }
            QFile::remove(legacy + u".imported"_s);
            QFile::rename(legacy, legacy + u".imported"_s);
        }
        if (store.recover(
                QueueStore::windowQueue(), [](const QueueItem& item) { return isCompleteImage(item.imagePath); },
                DefaultMaxAttempts)
            < 0) {
            return store.error();
        }
        return {};
    }

    QStringList contentKeys(const QList<RenderSettings>& items)
    {
        QStringList keys;
        QHash<QByteArray, int> seen;
        for (const RenderSettings& item : items) {
            const QByteArray text = toPromptFile({item});
            const int ordinal = seen[text]++;
            keys.append(QString::fromLatin1(
                QCryptographicHash::hash(text + QByteArray::number(ordinal), QCryptographicHash::Sha256)
                    .toHex()
                    .left(32)));
        }
        return keys;
    }
} // namespace Atelier
