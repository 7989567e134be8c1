// SPDX-License-Identifier: GPL-3.0-or-later
#include "ImageLibrary.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>

#include <algorithm>
#include <array>
#include <cmath>

#include "SqliteDatabase.h"
#include "render/ImageMetadata.h"
#include "render/PngText.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        const QString ImageColumns
            = u"id, path, prompt, negative, seed, steps, cfg, width, height, scheduler, model, model_hash, device, "
              "parameters, pixel_width, pixel_height, created, file_size, file_mtime, starred, queue_item, missing"_s;
        const QString Newest = u"ORDER BY created DESC, id DESC"_s;
        /// How many failures a scan reports by name; the rest are counted.
        constexpr qsizetype ReportedFailures = 20;
        constexpr qsizetype MaxStatements = 64;

        QString cleanAbsolute(const QString& path)
        {
            return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
        }

        QString folderOf(const QString& cleanPath)
        {
            return QFileInfo(cleanPath).path();
        }

        /// Qt binds a null QString as SQL NULL; the text columns hold "" for "none".
        QVariant text(const QString& value)
        {
            return value.isNull() ? QString(u""_s) : value;
        }

        template <typename T> QVariant optional(const std::optional<T>& value)
        {
            return value ? QVariant::fromValue(*value) : QVariant();
        }

        /// @p text cut to at most @p bytes of UTF-8, at a character boundary.
        QString truncatedUtf8(const QString& text, qsizetype bytes)
        {
            if (text.toUtf8().size() <= bytes) {
                return text;
            }
            QString cut = text.left(bytes);
            while (cut.toUtf8().size() > bytes) {
                cut.chop(1);
            }
            if (!cut.isEmpty() && cut.back().isHighSurrogate()) {
                cut.chop(1);
            }
            return cut;
        }

        /// Drops every setting the render model refuses, so that what the library hands out can always render
        /// (a row edited by hand, or provenance from a tool with other limits, cannot smuggle one in).
        RenderSettings renderable(RenderSettings settings)
        {
            settings.prompt = truncatedUtf8(settings.prompt, RenderLimits::MaxPromptBytes);
            settings.negativePrompt = truncatedUtf8(settings.negativePrompt, RenderLimits::MaxPromptBytes);
            for (const SettingProblem& problem : settings.problems()) {
                if (problem.field == u"steps"_s) {
                    settings.steps.reset();
                } else if (problem.field == u"cfg_scale"_s) {
                    settings.cfgScale.reset();
                } else if (problem.field == u"width"_s) {
                    settings.width.reset();
                } else if (problem.field == u"height"_s) {
                    settings.height.reset();
                } else if (problem.field == u"sampler_name"_s) {
                    settings.scheduler.reset();
                } else if (problem.field == u"clip_skip"_s) {
                    settings.clipSkip.reset();
                }
            }
            return settings;
        }

        /// The words of a search: runs of letters, digits and marks, as FTS5's unicode61 tokenizer splits text.
        QStringList searchWords(const QString& search)
        {
            QStringList words;
            QString word;
            for (const QChar c : search) {
                if (c.isLetterOrNumber() || c.isMark()) {
                    word.append(c);
                } else if (!word.isEmpty()) {
                    words.append(word);
                    word.clear();
                }
            }
            if (!word.isEmpty()) {
                words.append(word);
            }
            return words;
        }

        QString likePattern(const QString& word)
        {
            QString escaped = word;
            escaped.replace(u"\\"_s, u"\\\\"_s).replace(u"%"_s, u"\\%"_s).replace(u"_"_s, u"\\_"_s);
            return u"%"_s + escaped + u"%"_s;
        }

        std::optional<quint64> seedFrom(const QJsonValue& value)
        {
            if (value.isString()) {
                bool ok = false;
                const quint64 seed = value.toString().toULongLong(&ok);
                return ok ? std::optional(seed) : std::nullopt;
            }
            // A number is exact only below 2^53; Atelier writes seeds as text for that reason.
            const double number = value.toDouble(-1);
            if (value.isDouble() && number >= 0 && number < 9007199254740992.0 && number == std::floor(number)) {
                return quint64(number);
            }
            return std::nullopt;
        }

        /// Fills what the infotext left unset from Atelier's provenance chunk (which says more: device, queue item).
        void readProvenance(const QString& json, LibraryImage& image)
        {
            const QJsonObject object = QJsonDocument::fromJson(json.toUtf8()).object();
            if (object.isEmpty()) {
                return;
            }
            RenderSettings& settings = image.settings;
            image.queueItemId = object.value(u"queueItemId"_s).toInteger(-1);
            image.device = object.value(u"device"_s).toString();
            if (image.modelName.isEmpty()) {
                image.modelName = object.value(u"model"_s).toString();
            }
            if (image.modelHash.isEmpty()) {
                image.modelHash = object.value(u"modelHash"_s).toString();
            }
            if (!settings.seed) {
                settings.seed = seedFrom(object.value(u"seed"_s));
            }
            auto integer = [&object](const QString& key) -> std::optional<int> {
                const QJsonValue value = object.value(key);
                return value.isDouble() ? std::optional(value.toInt()) : std::nullopt;
            };
            if (!settings.steps) {
                settings.steps = integer(u"steps"_s);
            }
            if (!settings.width && !settings.height) {
                settings.width = integer(u"width"_s);
                settings.height = integer(u"height"_s);
            }
            if (!settings.cfgScale && object.value(u"cfgScale"_s).isDouble()) {
                settings.cfgScale = object.value(u"cfgScale"_s).toDouble();
            }
            if (!settings.scheduler && object.value(u"scheduler"_s).isString()) {
                // "" is the model's own sampler; a name Atelier does not know stays unset.
                const QString name = object.value(u"scheduler"_s).toString();
                if (const QString canonical = samplerFromName(name); name.isEmpty() || !canonical.isEmpty()) {
                    settings.scheduler = canonical;
                }
            }
            // Not written by this Atelier, but read when a later one does: the moment the image was made.
            const QJsonValue created = object.value(u"created"_s);
            if (created.isDouble() && created.toInteger() > 0) {
                image.created = created.toInteger();
            } else if (const QDateTime when = QDateTime::fromString(created.toString(), Qt::ISODateWithMs);
                       when.isValid()) {
                image.created = when.toMSecsSinceEpoch();
            }
        }
    } // namespace

    QString LibraryImage::infotext() const
    {
        return parameters.isEmpty() ? Infotext{settings, modelHash, modelName}.toString() : parameters;
    }

    std::optional<LibraryImage> readLibraryImage(const QString& path, QString* error)
    {
        const PngText png = readPngText(path);
        if (!png.ok()) {
            if (error) {
                *error = png.error;
            }
            return std::nullopt;
        }
        const QFileInfo info(path);
        LibraryImage image;
        image.path = cleanAbsolute(path);
        image.pixelWidth = png.width;
        image.pixelHeight = png.height;
        image.fileSize = info.size();
        image.fileModified = info.lastModified().toMSecsSinceEpoch();
        image.created = image.fileModified;
        image.parameters = png.text.value(u"parameters"_s);
        if (!image.parameters.isEmpty()) {
            const InfotextReadResult read = readInfotext(image.parameters);
            image.settings = read.infotext.settings;
            image.modelHash = read.infotext.modelHash;
            image.modelName = read.infotext.modelName;
            if (!read.error.isEmpty() && read.infotext.settings == RenderSettings{} && image.modelHash.isEmpty()
                && image.modelName.isEmpty()) {
                // No parameter line: AUTOMATIC1111 takes such a text for the prompt alone.
                image.settings.prompt = image.parameters.trimmed();
            }
        }
        readProvenance(png.text.value(u"atelier"_s), image);
        image.settings = renderable(image.settings);
        return image;
    }

    QString fullTextQuery(const QString& search)
    {
        QStringList terms;
        for (const QString& word : searchWords(search)) {
            // Quoted, a word is a string to FTS5 whatever it holds (AND, NEAR, column names); the star after the
            // quote makes it a prefix.
            terms.append(u"\"%1\"*"_s.arg(QString(word).replace(u"\""_s, u"\"\""_s)));
        }
        return terms.join(u' ');
    }

    ImageLibrary::ImageLibrary()
        : m_connection(uniqueSqliteConnectionName(u"atelier-library"_s))
    { }

    ImageLibrary::~ImageLibrary()
    {
        m_statements.clear(); // a prepared statement keeps its connection in use
        closeSqliteDatabase(m_connection);
    }

    bool ImageLibrary::isOpen() const
    {
        return QSqlDatabase::contains(m_connection) && QSqlDatabase::database(m_connection, false).isOpen();
    }

    bool ImageLibrary::fail(const QString& what)
    {
        m_error = u"%1: %2"_s.arg(m_path, what);
        return false;
    }

    QSqlQuery* ImageLibrary::prepared(const QString& sql)
    {
        // A scan writes thousands of rows through the same few statements: each is prepared once per connection.
        auto it = m_statements.find(sql);
        if (it == m_statements.end()) {
            if (m_statements.size() > MaxStatements) {
                m_statements.clear(); // searches of every length make new SQL; keep the cache small
            }
            QSqlQuery query(QSqlDatabase::database(m_connection, false));
            if (!query.prepare(sql)) {
                fail(query.lastError().text());
                return nullptr;
            }
            it = m_statements.insert(sql, query);
        }
        return &it.value();
    }

    bool ImageLibrary::exec(const QString& sql, const QVariantList& values)
    {
        QSqlQuery* query = prepared(sql);
        if (!query) {
            return false;
        }
        for (qsizetype i = 0; i < values.size(); ++i) {
            query->bindValue(int(i), values.at(i));
        }
        const bool ok = query->exec() || fail(query->lastError().text());
        query->finish();
        return ok;
    }

    QString ImageLibrary::open(const QString& path, bool fullTextSearch)
    {
        m_path = path;
        m_error.clear();
        if (const QString problem = openSqliteDatabase(m_connection, path); !problem.isEmpty()) {
            fail(problem);
            return m_error;
        }
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        auto version = [this, &db]() -> std::optional<int> {
            QSqlQuery query(db);
            if (!query.exec(u"PRAGMA user_version"_s) || !query.next()) {
                fail(u"not an SQLite database (%1)"_s.arg(query.lastError().text()));
                return std::nullopt;
            }
            return query.value(0).toInt();
        };
        auto refuse = [this, &db] {
            m_statements.clear();
            db.close();
            return m_error;
        };
        std::optional<int> found = version();
        if (!found) {
            return refuse();
        }
        if (*found > SchemaVersion) {
            fail(u"made by a newer Atelier (schema %1; this one reads %2)"_s.arg(*found).arg(SchemaVersion));
            return refuse();
        }
        // WAL: the gallery reads while a scan writes. synchronous=NORMAL: a power cut may take back the last few
        // changes (a star, a scan that is simply run again) but never corrupts; the queue is what must be durable.
        if (!exec(u"PRAGMA journal_mode=WAL"_s) || !exec(u"PRAGMA synchronous=NORMAL"_s)) {
            return refuse();
        }
        if (*found < SchemaVersion) {
            // IMMEDIATE, then read again: another process opening the same library at once migrates only once.
            if (!exec(u"BEGIN IMMEDIATE"_s)) {
                return refuse();
            }
            found = version();
            if (!found || !migrate(*found) || !exec(u"COMMIT"_s)) {
                exec(u"ROLLBACK"_s);
                return refuse();
            }
        }
        if (!setUpSearch(fullTextSearch)) {
            return refuse();
        }
        return {};
    }

    bool ImageLibrary::migrate(int from)
    {
        // One function per version: steps[v] brings a schema of version v to v + 1. A version 2 adds its function
        // (ALTER TABLE …, or a new table filled from the old one) and raises SchemaVersion.
        using Step = bool (ImageLibrary::*)();
        static constexpr std::array<Step, SchemaVersion> steps{&ImageLibrary::createVersion1};
        for (int v = from; v < SchemaVersion; ++v) {
            if (!(this->*steps.at(v))()) {
                return false;
            }
        }
        return exec(u"PRAGMA user_version = %1"_s.arg(SchemaVersion));
    }

    bool ImageLibrary::createVersion1()
    {
        return exec(u"CREATE TABLE images ("
                    "id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, folder TEXT NOT NULL, "
                    "prompt TEXT NOT NULL DEFAULT '', negative TEXT NOT NULL DEFAULT '', "
                    // TEXT: a seed is up to 2^64 - 1, beyond SQLite's signed integers.
                    "seed TEXT, steps INTEGER, cfg REAL, width INTEGER, height INTEGER, scheduler TEXT, "
                    "model TEXT NOT NULL DEFAULT '', model_hash TEXT NOT NULL DEFAULT '', "
                    "device TEXT NOT NULL DEFAULT '', parameters TEXT NOT NULL DEFAULT '', "
                    "pixel_width INTEGER NOT NULL DEFAULT 0, pixel_height INTEGER NOT NULL DEFAULT 0, "
                    "created INTEGER NOT NULL, file_size INTEGER NOT NULL, file_mtime INTEGER NOT NULL, "
                    "starred INTEGER NOT NULL DEFAULT 0, queue_item INTEGER NOT NULL DEFAULT -1, "
                    "missing INTEGER NOT NULL DEFAULT 0)"_s)
            // The gallery's orders: all images, one model's, the starred ones; each newest first (the rowid, the
            // second key, is in every index).
            && exec(u"CREATE INDEX images_by_created ON images (missing, created)"_s)
            && exec(u"CREATE INDEX images_by_model ON images (model, missing, created)"_s)
            && exec(u"CREATE INDEX images_starred ON images (missing, created) WHERE starred = 1"_s)
            && exec(u"CREATE INDEX images_by_folder ON images (folder)"_s);
    }

    bool ImageLibrary::setUpSearch(bool wanted)
    {
        // The FTS5 table and the triggers that keep it in step are not part of the versioned schema: a library
        // written where SQLite lacks FTS5 has no triggers, and gets them, with its index rebuilt, where it has it.
        const bool available
            = exec(u"CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)"_s) && exec(u"DROP TABLE temp.fts5_probe"_s);
        m_error.clear();
        QSqlQuery triggers(QSqlDatabase::database(m_connection, false));
        if (!triggers.exec(u"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'images_text_%'"_s)
            || !triggers.next()) {
            return fail(triggers.lastError().text());
        }
        const bool indexed = triggers.value(0).toInt() == 3;
        triggers.finish();
        m_fullTextSearch = available && wanted;
        if (available == indexed) {
            return true;
        }
        if (!exec(u"BEGIN IMMEDIATE"_s)) {
            return false;
        }
        bool ok = true;
        for (const QString& name : {u"insert"_s, u"delete"_s, u"update"_s}) {
            ok = ok && exec(u"DROP TRIGGER IF EXISTS images_text_%1"_s.arg(name));
        }
        if (available) {
            // External content: the index holds no copy of the prompts, only their words.
            ok = ok
                && exec(u"CREATE VIRTUAL TABLE IF NOT EXISTS images_text USING fts5(prompt, negative, "
                        "content='images', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"_s)
                && exec(u"CREATE TRIGGER images_text_insert AFTER INSERT ON images BEGIN "
                        "INSERT INTO images_text (rowid, prompt, negative) VALUES (new.id, new.prompt, new.negative); "
                        "END"_s)
                && exec(u"CREATE TRIGGER images_text_delete AFTER DELETE ON images BEGIN "
                        "INSERT INTO images_text (images_text, rowid, prompt, negative) "
                        "VALUES ('delete', old.id, old.prompt, old.negative); END"_s)
                && exec(u"CREATE TRIGGER images_text_update AFTER UPDATE OF prompt, negative ON images BEGIN "
                        "INSERT INTO images_text (images_text, rowid, prompt, negative) "
                        "VALUES ('delete', old.id, old.prompt, old.negative); "
                        "INSERT INTO images_text (rowid, prompt, negative) VALUES (new.id, new.prompt, new.negative); "
                        "END"_s)
                && exec(u"INSERT INTO images_text (images_text) VALUES ('rebuild')"_s);
        }
        // Without FTS5 only the triggers go (writing through them would fail); the table stays for a rebuild.
        if (!ok || !exec(u"COMMIT"_s)) {
            const QString why = m_error;
            exec(u"ROLLBACK"_s);
            m_error = why;
            return false;
        }
        return true;
    }

    std::pair<QString, QVariantList> ImageLibrary::where(const LibraryFilter& filter) const
    {
        QStringList conditions;
        QVariantList values;
        if (!filter.includeMissing) {
            conditions.append(u"missing = 0"_s);
        }
        if (filter.starredOnly) {
            conditions.append(u"starred = 1"_s);
        }
        if (!filter.modelName.isEmpty()) {
            conditions.append(u"model = ?"_s);
            values.append(filter.modelName);
        }
        if (filter.createdFrom.isValid()) {
            conditions.append(u"created >= ?"_s);
            values.append(filter.createdFrom.toMSecsSinceEpoch());
        }
        if (filter.createdBefore.isValid()) {
            conditions.append(u"created < ?"_s);
            values.append(filter.createdBefore.toMSecsSinceEpoch());
        }
        if (m_fullTextSearch) {
            if (const QString match = fullTextQuery(filter.search); !match.isEmpty()) {
                conditions.append(u"id IN (SELECT rowid FROM images_text WHERE images_text MATCH ?)"_s);
                values.append(match);
            }
        } else {
            for (const QString& word : searchWords(filter.search)) {
                conditions.append(u"(prompt LIKE ? ESCAPE '\\' OR negative LIKE ? ESCAPE '\\')"_s);
                values.append(likePattern(word));
                values.append(likePattern(word));
            }
        }
        return {conditions.isEmpty() ? u"1"_s : conditions.join(u" AND "_s), values};
    }

    QList<LibraryImage> ImageLibrary::select(const QString& condition, const QVariantList& values, const QString& tail)
    {
        QList<LibraryImage> result;
        QSqlQuery* query = prepared(u"SELECT %1 FROM images WHERE %2 %3"_s.arg(ImageColumns, condition, tail));
        if (!query) {
            return result;
        }
        for (qsizetype i = 0; i < values.size(); ++i) {
            query->bindValue(int(i), values.at(i));
        }
        if (!query->exec()) {
            fail(query->lastError().text());
            return result;
        }
        while (query->next()) {
            LibraryImage image;
            image.id = query->value(0).toLongLong();
            image.path = query->value(1).toString();
            RenderSettings& s = image.settings;
            s.prompt = query->value(2).toString();
            s.negativePrompt = query->value(3).toString();
            bool ok = false;
            if (const quint64 seed = query->value(4).toString().toULongLong(&ok); ok) {
                s.seed = seed;
            }
            auto integer = [query](int column) {
                const QVariant value = query->value(column);
                return value.isNull() ? std::nullopt : std::optional(value.toInt());
            };
            s.steps = integer(5);
            if (!query->value(6).isNull()) {
                s.cfgScale = query->value(6).toDouble();
            }
            s.width = integer(7);
            s.height = integer(8);
            if (!query->value(9).isNull()) {
                s.scheduler = query->value(9).toString();
            }
            // Settings without a column of their own come from the image's infotext, kept whole.
            if (const QString parameters = query->value(13).toString(); parameters.contains(u"Clip skip:"_s)) {
                s.clipSkip = readInfotext(parameters).infotext.settings.clipSkip;
            }
            s = renderable(s);
            image.modelName = query->value(10).toString();
            image.modelHash = query->value(11).toString();
            image.device = query->value(12).toString();
            image.parameters = query->value(13).toString();
            image.pixelWidth = query->value(14).toInt();
            image.pixelHeight = query->value(15).toInt();
            image.created = query->value(16).toLongLong();
            image.fileSize = query->value(17).toLongLong();
            image.fileModified = query->value(18).toLongLong();
            image.starred = query->value(19).toBool();
            image.queueItemId = query->value(20).toLongLong();
            image.missing = query->value(21).toBool();
            result.append(image);
        }
        query->finish();
        return result;
    }

    std::optional<qint64> ImageLibrary::upsert(const LibraryImage& image, std::optional<qint64> existing)
    {
        const RenderSettings& s = image.settings;
        const QVariantList values{text(image.path),
                                  text(folderOf(image.path)),
                                  text(s.prompt),
                                  text(s.negativePrompt),
                                  s.seed ? QVariant(QString::number(*s.seed)) : QVariant(),
                                  optional(s.steps),
                                  optional(s.cfgScale),
                                  optional(s.width),
                                  optional(s.height),
                                  s.scheduler ? text(*s.scheduler) : QVariant(),
                                  text(image.modelName),
                                  text(image.modelHash),
                                  text(image.device),
                                  text(image.parameters),
                                  image.pixelWidth,
                                  image.pixelHeight,
                                  image.created,
                                  image.fileSize,
                                  image.fileModified,
                                  image.queueItemId};
        if (existing) {
            // The star is the artist's, not the file's: a changed file keeps it.
            if (!exec(u"UPDATE images SET path = ?, folder = ?, prompt = ?, negative = ?, seed = ?, steps = ?, "
                      "cfg = ?, width = ?, height = ?, scheduler = ?, model = ?, model_hash = ?, device = ?, "
                      "parameters = ?, pixel_width = ?, pixel_height = ?, created = ?, file_size = ?, "
                      "file_mtime = ?, queue_item = ?, missing = 0 WHERE id = ?"_s,
                      values + QVariantList{*existing})) {
                return std::nullopt;
            }
            return existing;
        }
        QSqlQuery* insert = prepared(
            u"INSERT INTO images (path, folder, prompt, negative, seed, steps, cfg, width, height, scheduler, model, "
            "model_hash, device, parameters, pixel_width, pixel_height, created, file_size, file_mtime, queue_item, "
            "starred) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
        if (!insert) {
            return std::nullopt;
        }
        const QVariantList all = values + QVariantList{image.starred ? 1 : 0};
        for (qsizetype i = 0; i < all.size(); ++i) {
            insert->bindValue(int(i), all.at(i));
        }
        if (!insert->exec()) {
            fail(insert->lastError().text());
            return std::nullopt;
        }
        const qint64 id = insert->lastInsertId().toLongLong();
        insert->finish();
        return id;
    }

    std::optional<qint64> ImageLibrary::add(const LibraryImage& image)
    {
        m_error.clear();
        LibraryImage record = image;
        record.path = cleanAbsolute(image.path);
        if (record.fileSize == 0 && record.fileModified == 0) {
            const QFileInfo info(record.path);
            if (info.isFile()) {
                record.fileSize = info.size();
                record.fileModified = info.lastModified().toMSecsSinceEpoch();
            }
        }
        if (record.created == 0) {
            record.created = record.fileModified;
        }
        const std::optional<LibraryImage> known = imageByPath(record.path);
        if (!m_error.isEmpty()) {
            return std::nullopt;
        }
        if (known && known->fileSize == record.fileSize && known->fileModified == record.fileModified
            && !known->missing) {
            return known->id;
        }
        return store(record);
    }

    std::optional<qint64> ImageLibrary::addFile(const QString& path)
    {
        m_error.clear();
        const QString clean = cleanAbsolute(path);
        const std::optional<LibraryImage> known = imageByPath(clean);
        if (!m_error.isEmpty()) {
            return std::nullopt;
        }
        const QFileInfo info(clean);
        if (known && info.isFile() && known->fileSize == info.size()
            && known->fileModified == info.lastModified().toMSecsSinceEpoch()) {
            if (known->missing && !exec(u"UPDATE images SET missing = 0 WHERE id = ?"_s, {known->id})) {
                return std::nullopt;
            }
            return known->id;
        }
        QString why;
        const std::optional<LibraryImage> read = readLibraryImage(clean, &why);
        if (!read) {
            m_error = why;
            return std::nullopt;
        }
        return store(*read);
    }

    std::optional<qint64> ImageLibrary::store(const LibraryImage& image)
    {
        // The row is looked up again under the write lock: a scan on another connection may have added it since.
        if (!exec(u"BEGIN IMMEDIATE"_s)) {
            return std::nullopt;
        }
        const std::optional<LibraryImage> known = imageByPath(image.path);
        std::optional<qint64> id;
        if (m_error.isEmpty()) {
            id = upsert(image, known ? std::optional(known->id) : std::nullopt);
        }
        if (!id || !exec(u"COMMIT"_s)) {
            const QString why = m_error;
            exec(u"ROLLBACK"_s);
            m_error = why;
            return std::nullopt;
        }
        return id;
    }

    std::optional<LibraryScan> ImageLibrary::scanFolder(const QString& folder)
    {
        m_error.clear();
        const QString dir = cleanAbsolute(folder);
        if (!QFileInfo(dir).isDir()) {
            fail(u"cannot scan %1: not a folder"_s.arg(dir));
            return std::nullopt;
        }
        struct Known
        {
            qint64 id;
            qint64 size;
            qint64 modified;
            bool missing;
        };
        if (!exec(u"BEGIN IMMEDIATE"_s)) {
            return std::nullopt;
        }
        auto abandon = [this] {
            const QString why = m_error;
            exec(u"ROLLBACK"_s);
            m_error = why;
            return std::nullopt;
        };
        // Read inside the transaction: a row another connection adds meanwhile cannot make an insert collide.
        QHash<QString, Known> known;
        {
            QSqlQuery* rows
                = prepared(u"SELECT id, path, file_size, file_mtime, missing FROM images WHERE folder = ?"_s);
            if (!rows) {
                return abandon();
            }
            rows->bindValue(0, dir);
            if (!rows->exec()) {
                fail(rows->lastError().text());
                return abandon();
            }
            while (rows->next()) {
                known.insert(rows->value(1).toString(),
                             Known{rows->value(0).toLongLong(), rows->value(2).toLongLong(),
                                   rows->value(3).toLongLong(), rows->value(4).toBool()});
            }
            rows->finish();
        }

        LibraryScan scan;
        // Hidden files (a worker's .NAME.PID.XXXXXX.part) are not listed without QDir::Hidden; symlinks are left
        // out so that one image is not indexed under two names.
        QDirIterator files(dir, {u"*.png"_s}, QDir::Files | QDir::NoSymLinks);
        while (files.hasNext()) {
            files.next();
            const QFileInfo info = files.fileInfo();
            const QString path = QDir::cleanPath(info.absoluteFilePath());
            const auto it = known.find(path);
            const qint64 modified = info.lastModified().toMSecsSinceEpoch();
            std::optional<qint64> existing;
            if (it != known.end()) {
                const Known row = *it;
                existing = row.id;
                known.erase(it); // what is left at the end is gone
                if (row.size == info.size() && row.modified == modified) {
                    if (row.missing) {
                        if (!exec(u"UPDATE images SET missing = 0 WHERE id = ?"_s, {row.id})) {
                            return abandon();
                        }
                        ++scan.updated;
                    } else {
                        ++scan.unchanged;
                    }
                    continue;
                }
            }
            QString why;
            const std::optional<LibraryImage> read = readLibraryImage(path, &why);
            if (!read) {
                ++scan.failed;
                if (scan.errors.size() < ReportedFailures) {
                    scan.errors.append(why);
                }
                continue;
            }
            if (!upsert(*read, existing)) {
                return abandon();
            }
            ++(existing ? scan.updated : scan.added);
        }
        for (const Known& gone : std::as_const(known)) {
            if (!gone.missing && !exec(u"UPDATE images SET missing = 1 WHERE id = ?"_s, {gone.id})) {
                return abandon();
            }
            ++scan.missing;
        }
        if (!exec(u"COMMIT"_s)) {
            return abandon();
        }
        return scan;
    }

    QList<LibraryImage> ImageLibrary::query(const LibraryFilter& filter, qsizetype offset, qsizetype limit)
    {
        m_error.clear();
        const auto [condition, values] = where(filter);
        return select(condition, values + QVariantList{limit, offset}, Newest + u" LIMIT ? OFFSET ?"_s);
    }

    QList<LibraryImage> ImageLibrary::queryAfter(const LibraryFilter& filter, const LibraryImage& last, qsizetype limit)
    {
        m_error.clear();
        const auto [condition, values] = where(filter);
        return select(condition + u" AND (created < ? OR (created = ? AND id < ?))"_s,
                      values + QVariantList{last.created, last.created, last.id, limit}, Newest + u" LIMIT ?"_s);
    }

    qsizetype ImageLibrary::count(const LibraryFilter& filter)
    {
        m_error.clear();
        const auto [condition, values] = where(filter);
        QSqlQuery* query = prepared(u"SELECT COUNT(*) FROM images WHERE %1"_s.arg(condition));
        if (!query) {
            return -1;
        }
        for (qsizetype i = 0; i < values.size(); ++i) {
            query->bindValue(int(i), values.at(i));
        }
        if (!query->exec() || !query->next()) {
            fail(query->lastError().text());
            return -1;
        }
        const qsizetype n = query->value(0).toLongLong();
        query->finish();
        return n;
    }

    bool ImageLibrary::matches(const LibraryFilter& filter, qint64 id)
    {
        m_error.clear();
        const auto [condition, values] = where(filter);
        return !select(condition + u" AND id = ?"_s, values + QVariantList{id}, {}).isEmpty();
    }

    QStringList ImageLibrary::models()
    {
        m_error.clear();
        QStringList names;
        QSqlQuery* query = prepared(u"SELECT DISTINCT model FROM images WHERE model <> '' AND missing = 0"_s);
        if (!query) {
            return names;
        }
        if (!query->exec()) {
            fail(query->lastError().text());
            return names;
        }
        while (query->next()) {
            names.append(query->value(0).toString());
        }
        query->finish();
        std::sort(names.begin(), names.end(),
                  [](const QString& a, const QString& b) { return a.compare(b, Qt::CaseInsensitive) < 0; });
        return names;
    }

    std::optional<LibraryImage> ImageLibrary::image(qint64 id)
    {
        m_error.clear();
        const QList<LibraryImage> found = select(u"id = ?"_s, {id}, {});
        return found.isEmpty() ? std::nullopt : std::optional(found.first());
    }

    std::optional<LibraryImage> ImageLibrary::imageByPath(const QString& path)
    {
        m_error.clear();
        const QList<LibraryImage> found = select(u"path = ?"_s, {cleanAbsolute(path)}, {});
        return found.isEmpty() ? std::nullopt : std::optional(found.first());
    }

    bool ImageLibrary::execForEach(const QString& sql, const QList<qint64>& ids, const QVariantList& before)
    {
        m_error.clear();
        if (!exec(u"BEGIN IMMEDIATE"_s)) {
            return false;
        }
        for (const qint64 id : ids) {
            if (!exec(sql, before + QVariantList{id})) {
                const QString why = m_error;
                exec(u"ROLLBACK"_s);
                m_error = why;
                return false;
            }
        }
        return exec(u"COMMIT"_s);
    }

    bool ImageLibrary::setStarred(const QList<qint64>& ids, bool starred)
    {
        return execForEach(u"UPDATE images SET starred = ? WHERE id = ?"_s, ids, {starred ? 1 : 0});
    }

    bool ImageLibrary::remove(const QList<qint64>& ids)
    {
        return execForEach(u"DELETE FROM images WHERE id = ?"_s, ids);
    }

    QString defaultImageLibraryPath()
    {
        return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(u"library.sqlite"_s);
    }
} // namespace Atelier
