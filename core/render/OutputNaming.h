// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QStringView>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// What an image's file name can show (naming pattern tokens): one job's resolved settings, its queue item and
    /// when its name was given.
    struct ImageNameValues
    {
        quint64 seed = 0;
        QString prompt;
        QString model; ///< the model's short name (modelShortName()); "" shows as "unknown"
        QString sampler; ///< canonical name ("euler_a"); "" (the model's own) shows as "default"
        int steps = 0;
        double cfgScale = 0;
        int width = 0;
        int height = 0;
        qint64 item = -1; ///< the queue item id; negative shows as "none"
        QDateTime time; ///< [date], [time], [datetime]; invalid: now
    };

    /// What an item's name shows: @p settings' fields (RenderDefaults for those unset), the model's short name, the
    /// queue item and the time its name was given. The ledger and the farm's plan name images through this alone.
    ImageNameValues imageNameValues(const RenderSettings& settings, const QString& model, qint64 item,
                                    const QDateTime& time);

    /// The naming pattern that gives the names Atelier always gave: `00012-<seed>-<prompt words>.png`.
    inline constexpr QStringView DefaultNamingPattern = u"[seed]-[prompt_words]";
    /// Longest image file name, in UTF-8 bytes: file systems allow 255, and a worker first writes the image under a
    /// temporary name up to 70 bytes longer (temporaryImageTemplate()).
    inline constexpr qsizetype MaxImageNameBytes = 200;

    /// The tokens a naming pattern may use, as written in one ("[seed]", "[prompt_words]", …). Their names are
    /// AUTOMATIC1111's where it has the same idea, since artists know those:
    /// - `[seed]`, `[steps]`, `[cfg]` (7.5), `[width]`, `[height]`, `[sampler]` (Atelier's name: euler_a),
    /// - `[prompt_words]` (the prompt's first words, as always), `[prompt_hash]` (first 8 hex digits of its SHA-256),
    /// - `[model_name]` (file or folder name), `[date]` (2024-05-31), `[datetime]` (20240531142500),
    /// - Atelier's own: `[time]` (14-25-00), `[item]` (the queue item id).
    /// Tokens are matched case-insensitively, as A1111 matches them.
    QStringList namingTokens();

    /// Empty when @p pattern can name images, else the problem, naming the naming pattern and what is wrong: an
    /// unknown token, an unclosed '[' or stray ']', a character file names cannot hold on Windows or Linux
    /// (`/ \ : * ? " < > |`, control characters), nothing left to name, or names that can grow longer than
    /// MaxImageNameBytes.
    QString checkNamingPattern(QStringView pattern);

    /// The file name of image @p number: `<number>-<pattern>.png`. The running number (five digits at least) always
    /// leads, so names never collide and nextImageNumber() keeps working. Each value is made safe for a file name
    /// and bounded (prompt words 48 characters as before, a model name 40 bytes); an invalid @p pattern names the
    /// image by DefaultNamingPattern, so a name is always safe.
    QString imageFileName(qint64 number, const ImageNameValues& values, QStringView pattern = DefaultNamingPattern);
    /// `00012-<seed>-<words>.png` as AUTOMATIC1111 names its images (DefaultNamingPattern): a running number of at
    /// least five digits, the seed, and the prompt's first words (lower case, accents folded, ASCII letters and
    /// digits joined by '-', at most 48 characters; "image" when nothing is left).
    QString imageFileName(qint64 number, quint64 seed, const QString& prompt);

    /// The values of a typical image (seed 42, "A lighthouse at dusk", 20 steps, …, 2024-05-31 14:25:00), for a
    /// preview of a pattern.
    ImageNameValues exampleImageNameValues();
    /// The name @p pattern gives image 12 with @p values, for the settings' preview; empty when the pattern is
    /// invalid (checkNamingPattern() says why).
    QString namingPatternExample(QStringView pattern, const ImageNameValues& values = exampleImageNameValues());

    /// The name `[model_name]` shows for the model at @p modelPath: a single file's name without its suffix, a
    /// diffusers folder's name, or "NAME" of a Hugging Face cache snapshot (`models--ORG--NAME/snapshots/REV`);
    /// "embedded" when empty (the worker's built-in model).
    QString modelShortName(const QString& modelPath);
    /// The number the next image in @p directory gets: one past the highest leading number of any file name of the
    /// form `<digits>-…` there (0 for an empty or missing folder), so a second run continues and never replaces.
    qint64 nextImageNumber(const QString& directory);
    /// Whether a whole PNG is at @p path: a regular file (not a symlink) that starts with the PNG signature and ends
    /// with the IEND chunk. A worker writes images whole (temporary file, fsync, link), so this tells a committed
    /// image from a missing one without decoding it.
    bool isCompleteImage(const QString& path);
    /// Removes the temporary files (`.NAME.PID@HOST.XXXXXX.part`) that workers of this host which no longer run left
    /// in @p directory when they were killed while writing; other hosts' are theirs to judge (a farm's folder is
    /// shared). Returns how many it removed.
    int removeStaleTemporaryImages(const QString& directory);
    /// The temporary name a worker (this process) writes @p path's image under before committing it: hidden, in
    /// the same folder, with the pid and the host, so that removeStaleTemporaryImages() can tell whose it is.
    QString temporaryImageTemplate(const QString& path);
    /// This host's name as temporary image names carry it: [A-Za-z0-9._-] only, at most 40 bytes.
    QString temporaryHostName();
} // namespace Atelier
