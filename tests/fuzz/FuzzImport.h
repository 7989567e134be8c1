// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The body of the four prompt-file targets (FuzzImportTxt, …Csv, …Json, …Jsonl): one per format, so that each has
// its own corpus and libFuzzer's coverage of one format is not spent on inputs meant for another.

#include <QByteArray>
#include <QString>

#include <cstddef>
#include <cstdint>

#include "FuzzCheck.h"
#include "import/PromptImport.h"
#include "render/RenderSettings.h"

namespace Atelier::Fuzz
{
    /// Imports @p data as @p format twice, leniently (with a base seed) and strictly, and checks what the importer
    /// promises: it never throws, every job it returns can render (RenderSettings::problems() is empty), its lists
    /// stay within the options' caps, and strict mode differs from lenient mode only in giving up.
    inline void fuzzImport(const std::uint8_t* data, std::size_t size, const QString& format)
    {
        const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
        const QString name = QStringLiteral("fuzz.") + format;
        constexpr quint64 baseSeed = 1000;

        // Small caps, so that the fuzzer reaches them: they are the guards against files made to exhaust memory.
        ImportOptions options;
        options.maxLineBytes = 1024;
        options.maxPrompts = 500;
        options.maxIssues = 20;
        ImportOptions lenientOptions = options;
        lenientOptions.baseSeed = baseSeed;
        ImportOptions strictOptions = options;
        strictOptions.strict = true;

        const ImportResult lenient = importPromptData(bytes, format, name, lenientOptions);
        const ImportResult strict = importPromptData(bytes, format, name, strictOptions);

        ATELIER_FUZZ_CHECK(!lenient.aborted, std::string("lenient import aborted"));
        ATELIER_FUZZ_CHECK(lenient.jobs.size() <= options.maxPrompts, std::to_string(lenient.jobs.size()));
        // One "N more issues are not listed" line may follow the listed ones.
        ATELIER_FUZZ_CHECK(lenient.issues.size() <= options.maxIssues + 1, std::to_string(lenient.issues.size()));
        ATELIER_FUZZ_CHECK(!lenient.jobs.isEmpty() || !lenient.issues.isEmpty(),
                           std::string("nothing imported and no issue saying why"));
        for (const ImportIssue& issue : lenient.issues) {
            ATELIER_FUZZ_CHECK(issue.file == name && !issue.message.isEmpty() && issue.line >= 0
                                   && issue.line <= bytes.size() + 1,
                               issue.toString().toStdString());
        }

        for (const RenderSettings& job : lenient.jobs) {
            const QList<SettingProblem> problems = job.problems();
            ATELIER_FUZZ_CHECK(problems.isEmpty(), problems.value(0).message.toStdString());
            ATELIER_FUZZ_CHECK(!job.prompt.trimmed().isEmpty(), std::string("a job without a prompt"));
            ATELIER_FUZZ_CHECK(job.seed.has_value(), std::string("a base seed was given but a job has no seed"));
        }

        // Strict mode reads the same file the same way and then keeps all of it or nothing.
        ATELIER_FUZZ_CHECK(strict.issues.size() == lenient.issues.size(), std::string("strict saw other issues"));
        for (qsizetype i = 0; i < strict.issues.size(); ++i) {
            ATELIER_FUZZ_CHECK(strict.issues[i].toString() == lenient.issues[i].toString(),
                               strict.issues[i].toString().toStdString());
        }
        const bool hadIssues = !lenient.issues.isEmpty();
        ATELIER_FUZZ_CHECK(strict.aborted == hadIssues, std::string("strict mode ignored an issue"));
        if (strict.aborted) {
            ATELIER_FUZZ_CHECK(strict.jobs.isEmpty(), std::string("an aborted import returned jobs"));
            return;
        }
        ATELIER_FUZZ_CHECK(strict.jobs.size() == lenient.jobs.size(), std::string("strict kept other jobs"));
        quint64 nextBaseSeed = baseSeed;
        for (qsizetype i = 0; i < strict.jobs.size(); ++i) {
            RenderSettings job = strict.jobs[i];
            // Records without a seed get baseSeed, baseSeed + 1, … in file order; the rest keep their own.
            if (!job.seed) {
                job.seed = nextBaseSeed++;
            }
            ATELIER_FUZZ_CHECK(job == lenient.jobs[i], "job " + std::to_string(i) + " differs with a base seed");
        }
    }
} // namespace Atelier::Fuzz
