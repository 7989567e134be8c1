// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// One problem found while importing a prompt file. Import never throws and never crashes on bad input:
    /// every problem becomes an issue that names the file, the line and, where there is one, the field.
    struct ImportIssue
    {
        QString file; ///< The path (or the name the caller gave for in-memory data).
        qsizetype line = 0; ///< 1-based line in the file; 0 for the file as a whole.
        QString field; ///< The field or option concerned ("seed", "outpath_samples"), or empty.
        QString message; ///< What is wrong, in words, without the file and line.

        /// "prompts.txt:3: unknown option --outpath_samples" ("prompts.txt: …" when line is 0).
        QString toString() const;
    };

    struct ImportResult
    {
        /// The jobs of every valid record, in file order; empty when aborted.
        QList<RenderSettings> jobs;
        /// Every problem found, in file order (capped at ImportOptions::maxIssues plus one "too many" notice).
        QList<ImportIssue> issues;
        /// True when strict mode met an issue: jobs is then empty, issues still lists everything found.
        bool aborted = false;
    };

    struct ImportOptions
    {
        /// Any issue discards the whole file (aborted = true). Off: bad records are reported and skipped,
        /// valid ones are imported (A1111-style leniency, `--batch --skip-invalid`).
        bool strict = false;
        /// Files larger than this are refused as a whole; at most maxFileBytes + 1 bytes are ever read.
        qint64 maxFileBytes = 16 * 1024 * 1024;
        /// Lines longer than this (in the file's own bytes, terminator excluded) are reported and skipped. In
        /// .json, where a whole array may be one line, each value is limited to this many characters instead.
        qsizetype maxLineBytes = 64 * 1024;
        /// Import stops with an issue once the jobs (after batch_size × n_iter expansion) would exceed this.
        qsizetype maxPrompts = 100000;
        /// Issues beyond this are counted but not listed, so a file of garbage cannot exhaust memory.
        qsizetype maxIssues = 1000;
        /// Records without a seed get baseSeed, baseSeed + 1, … in file order (`atelier --batch --seed N`);
        /// unset, their seed stays unset and the run draws one when it first dispatches the job.
        std::optional<quint64> baseSeed;
        /// Where a relative `init_image` is found; importPromptFile() uses the file's folder when this is empty.
        /// Empty for in-memory data: a relative path is then an issue.
        QString baseFolder;
    };

    /// Imports a prompt file. The format comes from @p format when given ("txt", "csv", "json", "jsonl"),
    /// otherwise from the file's extension (case-insensitive); an unknown one is an issue. Reads at most
    /// ImportOptions::maxFileBytes + 1 bytes, so devices such as /dev/zero are refused promptly.
    ///
    /// Formats (every one uses the field names prompt, negative_prompt, seed, steps, cfg_scale, width,
    /// height, sampler_name, clip_skip, batch_size, n_iter, and for image to image, the hires fix and the VAE
    /// init_image, denoising_strength, enable_hr, hr_scale, hr_second_pass_steps, hr_upscaler, sd_vae; anything else
    /// is refused):
    /// - `.txt`: one prompt per line. A line starting with "--" uses AUTOMATIC1111's "prompts from file"
    ///   syntax (`--prompt "a cat" --seed 5 …`, split like Python's shlex.split); any other line is the
    ///   prompt itself. Blank lines and lines starting with '#' are skipped; lines are trimmed.
    /// - `.csv`: RFC 4180 with a header row naming the fields (prompt required); an empty cell is an unset
    ///   field.
    /// - `.json`: an array of objects; `.jsonl`: one object per line. Numbers may be JSON numbers or numeric
    ///   strings; null is an unset field; duplicate keys are refused.
    ///
    /// Encoding: a UTF-8, UTF-16 (LE/BE) or UTF-32 byte order mark is honoured; without one the file must be
    /// strict UTF-8. Invalid bytes, NUL and over-long lines are reported with their line and the records
    /// touching those lines skipped.
    ///
    /// Values: steps, cfg_scale, width and height within RenderLimits (render/RenderSettings.h), prompt and
    /// negative_prompt at most RenderLimits::MaxPromptBytes of UTF-8 each, seed 0..2^64-1 (-1 or unset: a random seed
    /// is drawn and stored in the job), batch_size 1..1000, n_iter 1..1000. sampler_name takes A1111's names
    /// ("Euler a", "DPM++ 2M Karras", …) or Atelier's own (render/Samplers.h); the job holds Atelier's.
    /// init_image is a path (relative to the file's folder), stored absolute; it is read only when the item renders.
    /// enable_hr (true/false) decides whether hr_scale counts, as in A1111's API (hr_scale alone turns the fix on);
    /// hr_upscaler is Latent or Lanczos; sd_vae "Automatic" or "None" is the model's own VAE.
    /// A record with batch_size × n_iter > 1 becomes that many jobs; with a seed they get consecutive seeds
    /// (seed, seed + 1, …) as A1111 renders a batch; without one each job gets its own random seed.
    ImportResult importPromptFile(const QString& path, const ImportOptions& options = {}, const QString& format = {});
    /// As importPromptFile, for bytes already in memory; @p nameForMessages stands for the file in issues.
    ImportResult importPromptData(const QByteArray& data, const QString& format, const QString& nameForMessages,
                                  const ImportOptions& options = {});
} // namespace Atelier
