// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMetaType>
#include <QSqlQuery>
#include <QString>
#include <QStringList>

#include <optional>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// One image the library knows: where it is, how it was made (from its PNG text chunks) and what the artist
    /// marked.
    struct LibraryImage
    {
        qint64 id = -1; ///< unique in the library, never reused
        QString path; ///< absolute and clean (QDir::cleanPath), as given: symlinks are not resolved
        /// Prompt, negative prompt and every setting the image's metadata names; what it does not name stays unset.
        /// An image without metadata has an empty prompt.
        RenderSettings settings;
        QString modelName; ///< as infotexts name it ("v1-5-pruned-emaonly"); empty: unknown
        QString modelHash;
        QString device; ///< where Atelier rendered it ("cuda:0"); empty for other tools' images
        /// The image's AUTOMATIC1111 infotext exactly as its "parameters" chunk holds it (keys Atelier does not read
        /// included); empty when it has none.
        QString parameters;
        int pixelWidth = 0; ///< the PNG's own size, whatever the metadata says
        int pixelHeight = 0;
        qint64 created = 0; ///< ms since the epoch: the provenance's `created` when it has one, else the file's mtime
        qint64 fileSize = 0; ///< with fileModified, how a changed file is noticed without reading it
        qint64 fileModified = 0; ///< ms since the epoch
        bool starred = false;
        qint64 queueItemId = -1; ///< the queue item it was rendered for (the provenance's queueItemId); -1: none
        bool missing = false; ///< its file was gone at the last scan of its folder

        /// The infotext to copy: parameters when the image has them, else one made from what is known.
        QString infotext() const;
    };

    /// Which images query() and count() return. Every condition given must hold.
    struct LibraryFilter
    {
        bool starredOnly = false;
        QString modelName; ///< empty: any model
        QDateTime createdFrom; ///< inclusive; invalid: no lower bound
        QDateTime createdBefore; ///< exclusive; invalid: no upper bound
        /// Words as typed, for a search as you type: each must begin a word of the prompt or the negative prompt
        /// ("light dus" finds "a lighthouse at dusk"; "house" does not), whatever the case and accents. Words are
        /// runs of letters and digits: quotes, operators and other punctuation only separate them, never act as
        /// search syntax. Without FTS5 each word may be anywhere in a word (a substring match).
        QString search;
        bool includeMissing = false;

        friend bool operator==(const LibraryFilter&, const LibraryFilter&) = default;
    };

    /// What ImageLibrary::scanFolder() did.
    struct LibraryScan
    {
        int added = 0;
        int updated = 0; ///< changed files read again, and images that are back after being missing
        int unchanged = 0; ///< same size and mtime as indexed: not read
        int missing = 0; ///< rows of the folder whose file is gone (now, whether or not they were before)
        int failed = 0; ///< files that are not readable PNGs: left out (their rows, if any, are left as they were)
        QStringList errors; ///< the first few failures, each naming its file
    };

    /// The image library: every image Atelier made or found in a watched folder, with its prompt and settings, in
    /// one SQLite database (`library.sqlite` in the data folder, WAL journal, schema version in `user_version`).
    /// Prompt search uses SQLite's FTS5 where the system SQLite has it, else a scan with LIKE.
    ///
    /// One ImageLibrary is one connection: use it from one thread, and give each thread its own (a folder scan on a
    /// worker thread, the gallery's pages on the UI thread). Failures (a full disk, a locked or corrupt file, an
    /// unreadable image) never throw: calls return false / nothing / -1 and error() says why, naming the file.
    class ImageLibrary final
    {
    public:
        static constexpr int SchemaVersion = 1;

        ImageLibrary();
        ~ImageLibrary();
        ImageLibrary(const ImageLibrary&) = delete;
        ImageLibrary& operator=(const ImageLibrary&) = delete;

        /// Opens (creating it and its folder if needed, or bringing an older schema up to date) the library at
        /// @p path; ":memory:" for a private one. Returns an empty string, or why not, naming the file. A library
        /// made by a newer Atelier is refused. With @p fullTextSearch false, FTS5 is not used even where SQLite
        /// has it (the fallback, for tests and comparisons).
        QString open(const QString& path, bool fullTextSearch = true);
        bool isOpen() const;
        const QString& path() const { return m_path; }
        /// Why the last call failed.
        const QString& error() const { return m_error; }
        /// Whether prompt searches use FTS5 (false: LIKE).
        bool hasFullTextSearch() const { return m_fullTextSearch; }

        /// Indexes @p image by its path: a new row, or an update of the row with that path (its star kept). When
        /// the row's size and mtime equal @p image's, nothing is written. Size and mtime left 0 are read from the
        /// file. Returns the row's id.
        std::optional<qint64> add(const LibraryImage& image);
        /// Indexes the PNG at @p path from its text chunks (readLibraryImage()); a file whose size and mtime are
        /// those indexed is not read again. Returns the row's id.
        std::optional<qint64> addFile(const QString& path);
        /// Indexes every `*.png` directly in @p folder (not in subfolders; hidden files, such as the `.NAME.PID.XXXXXX
        /// .part` files a worker writes first, are left out) in one transaction, reading only new and changed
        /// files; marks the rows of that folder whose file is gone as missing, and those whose file is back as
        /// present. Symlinks are left out too, so that no image is indexed under two names. A folder that is not
        /// there (an unmounted disk) is an error and changes nothing. It holds the library's write lock while it
        /// runs (about a second for 10,000 new images, 0.1 s to rescan them): run it on a thread of its own.
        std::optional<LibraryScan> scanFolder(const QString& folder);

        /// The images @p filter selects, newest first (by created, then id), from @p offset on, at most @p limit.
        QList<LibraryImage> query(const LibraryFilter& filter, qsizetype offset, qsizetype limit);
        /// The images @p filter selects that come after @p last in query()'s order, at most @p limit: the next page
        /// whatever was added or removed above it since the last one.
        QList<LibraryImage> queryAfter(const LibraryFilter& filter, const LibraryImage& last, qsizetype limit);
        /// How many images @p filter selects; -1 on failure.
        qsizetype count(const LibraryFilter& filter);
        /// Whether image @p id is one @p filter selects.
        bool matches(const LibraryFilter& filter, qint64 id);
        /// The model names of the images that are not missing, for a filter box (sorted, case-insensitively).
        QStringList models();
        std::optional<LibraryImage> image(qint64 id);
        std::optional<LibraryImage> imageByPath(const QString& path);

        bool setStarred(const QList<qint64>& ids, bool starred);
        /// Forgets the rows @p ids; their files are left alone.
        bool remove(const QList<qint64>& ids);

    private:
        bool fail(const QString& what);
        /// @p sql prepared on this connection, once (nullptr on failure).
        QSqlQuery* prepared(const QString& sql);
        bool exec(const QString& sql, const QVariantList& values = {});
        bool migrate(int from);
        bool createVersion1();
        bool setUpSearch(bool wanted);
        /// The SQL condition and its values for @p filter.
        std::pair<QString, QVariantList> where(const LibraryFilter& filter) const;
        QList<LibraryImage> select(const QString& condition, const QVariantList& values, const QString& tail);
        /// Inserts or updates @p image (size and mtime filled in) by its path; the row's id.
        std::optional<qint64> upsert(const LibraryImage& image, std::optional<qint64> existing);
        /// Inserts or updates @p image (path clean) in a transaction of its own; the row's id.
        std::optional<qint64> store(const LibraryImage& image);
        /// Runs @p sql once per id (bound after @p before), all in one transaction.
        bool execForEach(const QString& sql, const QList<qint64>& ids, const QVariantList& before = {});

        QString m_connection;
        QHash<QString, QSqlQuery> m_statements;
        QString m_path;
        QString m_error;
        bool m_fullTextSearch = false;
    };

    /// `library.sqlite` in the user's data folder (~/.local/share/Atelier/Atelier).
    QString defaultImageLibraryPath();

    /// What the PNG at @p path says about itself (path, pixel size, file size and mtime, and the prompt, settings,
    /// model and provenance its `parameters` and `atelier` chunks hold; an image without them has an empty prompt).
    /// Nothing, with @p error set, when it is not a readable PNG. Also for the window, for a PNG dropped on it.
    std::optional<LibraryImage> readLibraryImage(const QString& path, QString* error = nullptr);

    /// The words of @p search (its runs of letters and digits) as an FTS5 query of quoted prefix terms, so that
    /// nothing typed is read as query syntax: `fox OR (cat` gives `"fox"* "OR"* "cat"*`. Empty when it has no word.
    QString fullTextQuery(const QString& search);
} // namespace Atelier

Q_DECLARE_METATYPE(Atelier::LibraryImage)
Q_DECLARE_METATYPE(Atelier::LibraryFilter)
