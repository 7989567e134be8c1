// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// One item of a farm run, fixed for good when the run is planned: its settings (seed drawn) and its image's file
    /// name in the shared folder.
    struct FarmItem
    {
        qint64 index = 0; ///< its place in the prompt file's renderable items (0, 1, …)
        QString imageName; ///< e.g. "00012-1234-a-lighthouse.png"
        RenderSettings settings;
        friend bool operator==(const FarmItem&, const FarmItem&) = default;
    };

    /// What every process of a farm run agrees on: written once into the shared folder and never changed, so the
    /// folder alone (the manifest, less the images already committed there) says what is left to render.
    struct FarmManifest
    {
        static constexpr int Version = 1;
        QString run; ///< the run's id: 16 hex digits
        QString file; ///< the prompt file it was planned from, as given
        QDateTime created; ///< UTC
        /// What every worker renders with (paths on the shared file system): the model ("" the embedded one) and
        /// where prompts' LoRAs, embeddings and VAEs are found.
        QString model;
        QStringList loraFolders;
        QStringList embeddingFolders;
        QStringList vaeFolders;
        QList<FarmItem> items;
    };

    /// `--shard K/N`: render the K-th (from 0) of N static shards. Parses @p text into @p index and @p count; returns
    /// an empty string, or a message naming --shard and what is wrong.
    QString parseShard(QStringView text, int* index, int* count);
    /// Whether item @p index belongs to shard @p shard of @p shards: items are dealt round-robin, so every shard gets
    /// a fair mix of the file's early and late prompts.
    inline bool inShard(qint64 index, int shard, int shards)
    {
        return index % shards == shard;
    }

    /// The shared output folder of a farm run, and the rules every process follows in it: images are committed
    /// whole, under the names the manifest fixed, first writer wins (PngWriter links a synced temporary file to
    /// the name, which fails if anything is there), so an item has at most one image whoever renders it and however
    /// often. The run's own files live in `.atelier-farm/<run>/` beside the images.
    class FarmFolder
    {
    public:
        explicit FarmFolder(QString outputDirectory);
        const QString& outputDirectory() const { return m_output; }
        QString runDirectory(const QString& run) const;

        /// The plan for @p jobs (as imported, defaults not applied): each gets its seed (its own, else a random
        /// one) and the name `imageFileName(firstNumber + index, …, namingPattern)`, numbered from the folder's
        /// nextImageNumber() so nothing there is ever replaced.
        static FarmManifest plan(const QString& run, const QString& file, const QList<RenderSettings>& jobs,
                                 qint64 firstNumber, const QString& namingPattern, const QString& modelName,
                                 const RenderSettings& defaults);
        /// The run id of the plan for @p jobs: the same for every process that renders the same items with the same
        /// model and defaults (a hash of them), so that shards started apart, or a farm coordinator started again,
        /// find one plan in the folder.
        static QString runIdFor(const QList<RenderSettings>& jobs, const QString& modelPath,
                                const RenderSettings& defaults);

        /// Writes @p manifest unless the run already has one; either way @p manifest becomes the one on disk (first
        /// writer wins, so shards that start at once agree). Returns an empty string, or why not (naming the file).
        QString publish(FarmManifest& manifest, bool* created = nullptr) const;
        /// Reads run @p run's manifest. Returns an empty string, or why not, naming the file (and the item).
        QString load(const QString& run, FarmManifest* manifest) const;

        QString imagePath(const FarmItem& item) const;
        /// Whether @p item's image is committed: a whole PNG at its name.
        bool isCommitted(const FarmItem& item) const;
        /// The indexes of the items of @p manifest not committed yet (those in shard @p shard of @p shards only,
        /// when @p shards > 0).
        QList<qint64> missing(const FarmManifest& manifest, int shard = 0, int shards = 0) const;

        /// The run's secret, which a worker proves it holds (joinProof()) before it is given work: made on first use
        /// (32 random bytes, hex) in a file only the user can read (0600), then read back by every later call.
        QString ensureToken(const QString& run, QByteArray* token) const;
        /// Reads the run's secret; an empty string, or why not.
        QString readToken(const QString& run, QByteArray* token) const;
        /// What worker @p worker presents: an HMAC-SHA256 of its id under the run's token, so the store, which anyone
        /// on the network may read, never holds the token itself.
        static QString joinProof(const QByteArray& token, const QString& worker);

        /// Where the run's coordinator listens ("HOST:PORT"), rewritten at each start; and which run the folder's
        /// coordinator serves now (`.atelier-farm/current`), for workers given only the folder.
        QString writeAddress(const QString& run, const QString& address) const;
        QString readAddress(const QString& run, QString* address) const;
        QString setCurrentRun(const QString& run) const;
        QString currentRun(QString* run) const;

        /// Removes the temporary files left for images that are committed (by whichever host: once an image is
        /// there, its temporaries can never become it), and this host's whose writer is gone. Returns how many.
        int removeLeftovers(const FarmManifest& manifest) const;

    private:
        QString m_output;
    };
} // namespace Atelier
