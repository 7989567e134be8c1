// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes readInfotext, which reads the "parameters" text of PNGs from anywhere (A1111, civitai, our own). Input: the
// text as UTF-8. What it reads must be renderable, and writing it out again with Infotext::toString() and reading
// that must give the same settings: an image's parameters copied from one tool to another must not drift.

#include <QString>

#include <cstddef>
#include <cstdint>

#include "FuzzCheck.h"
#include "render/ImageMetadata.h"
#include "render/RenderSettings.h"
#include "render/Samplers.h"

using namespace Atelier;

namespace
{
    /// How many "Key: value" pairs Infotext::toString() writes for @p infotext.
    int writtenPairs(const Infotext& infotext)
    {
        const RenderSettings& s = infotext.settings;
        return int(s.steps.has_value()) + int(s.scheduler && !s.scheduler->isEmpty()) + int(s.cfgScale.has_value())
            + int(s.seed.has_value()) + int(s.width && s.height) + int(!infotext.modelHash.isEmpty())
            + int(!infotext.modelName.isEmpty());
    }

    /// What a model field reads back as. Values holding a comma, a colon or a line break are JSON-quoted and survive
    /// whole; the others are written as they are and read trimmed, as A1111 reads them, so their outer spaces go.
    QString survivor(const QString& value)
    {
        const bool quoted = value.contains(u',') || value.contains(u':') || value.contains(u'\n')
            || value.contains(u'\r') || value.trimmed().startsWith(u'"');
        return quoted ? value : value.trimmed();
    }
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const InfotextReadResult read = readInfotext(text);
    const RenderSettings& settings = read.infotext.settings;
    const QList<SettingProblem> problems = settings.problems();
    ATELIER_FUZZ_CHECK(problems.isEmpty(), problems.value(0).message.toStdString());
    ATELIER_FUZZ_CHECK(settings.width.has_value() == settings.height.has_value(), std::string("half a size"));
    if (settings.scheduler) {
        ATELIER_FUZZ_CHECK(samplerFromName(a1111SamplerName(*settings.scheduler)) == *settings.scheduler,
                           settings.scheduler->toStdString() + " does not survive its A1111 name");
    }

    // A parameter line of fewer than three pairs is not an infotext, by A1111's rule; nothing to read back then.
    if (writtenPairs(read.infotext) < 3) {
        return 0;
    }
    const QString written = read.infotext.toString();
    const InfotextReadResult again = readInfotext(written);
    ATELIER_FUZZ_CHECK(again.error.isEmpty(), (again.error + u'\n' + written).toStdString());
    ATELIER_FUZZ_CHECK(again.infotext.settings == settings, written.toStdString());
    ATELIER_FUZZ_CHECK(again.infotext.modelHash == survivor(read.infotext.modelHash), written.toStdString());
    ATELIER_FUZZ_CHECK(again.infotext.modelName == survivor(read.infotext.modelName), written.toStdString());
    return 0;
}
