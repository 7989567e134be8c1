// SPDX-License-Identifier: GPL-3.0-or-later
#include "RenderSettings.h"

#include <QDir>
#include <QLocale>

#include <algorithm>
#include <cmath>

#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString excerpt(QStringView text)
    {
        constexpr qsizetype maxLength = 60;
        if (text.size() <= maxLength) {
            return text.toString();
        }
        // Never half a surrogate pair: the cut character would print as garbage.
        const qsizetype cut = text.at(maxLength - 1).isHighSurrogate() ? maxLength - 1 : maxLength;
        return text.left(cut).toString() + u'\u2026';
    }

    namespace
    {
        QString stepsMessage(QStringView field, QStringView given)
        {
            return u"%1 must be a whole number from %2 to %3, not \"%4\""_s.arg(field)
                .arg(RenderLimits::MinSteps)
                .arg(RenderLimits::MaxSteps)
                .arg(excerpt(given));
        }

        QString cfgScaleMessage(QStringView field, QStringView given)
        {
            return u"%1 must be a number from %2 to %3, not \"%4\""_s.arg(field)
                .arg(RenderLimits::MinCfgScale)
                .arg(RenderLimits::MaxCfgScale)
                .arg(excerpt(given));
        }

        QString sideMessage(QStringView field, QStringView given)
        {
            return u"%1 must be a whole number (a multiple of %2) from %3 to %4, not \"%5\""_s.arg(field)
                .arg(RenderLimits::SideMultiple)
                .arg(RenderLimits::MinSide)
                .arg(RenderLimits::MaxSide)
                .arg(excerpt(given));
        }

        bool stepsFit(qint64 value)
        {
            return value >= RenderLimits::MinSteps && value <= RenderLimits::MaxSteps;
        }

        bool cfgScaleFits(double value)
        {
            // NaN fails both comparisons; the explicit test keeps that from depending on how they are written.
            return std::isfinite(value) && value >= RenderLimits::MinCfgScale && value <= RenderLimits::MaxCfgScale;
        }

        bool sideFits(qint64 value)
        {
            return value >= RenderLimits::MinSide && value <= RenderLimits::MaxSide
                && value % RenderLimits::SideMultiple == 0;
        }

        /// Plain decimal digits with an optional sign, surrounded by spaces at most; nullopt for anything else
        /// (fractions, exponents, words) and for numbers beyond qint64.
        std::optional<qint64> parseWhole(QStringView given)
        {
            const QStringView text = given.trimmed();
            const QStringView digits = text.startsWith(u'-') || text.startsWith(u'+') ? text.mid(1) : text;
            if (digits.isEmpty()
                || !std::all_of(digits.begin(), digits.end(), [](QChar c) { return c >= u'0' && c <= u'9'; })) {
                return std::nullopt;
            }
            bool ok = false;
            const qint64 value = text.toLongLong(&ok);
            return ok ? std::optional<qint64>(value) : std::nullopt;
        }

        bool clipSkipFits(qint64 value)
        {
            return value >= RenderLimits::MinClipSkip && value <= RenderLimits::MaxClipSkip;
        }

        QString clipSkipMessage(QStringView field, QStringView given)
        {
            return u"%1 must be a whole number from %2 to %3, not \"%4\""_s.arg(field)
                .arg(RenderLimits::MinClipSkip)
                .arg(RenderLimits::MaxClipSkip)
                .arg(excerpt(given));
        }
        bool denoisingStrengthFits(double value)
        {
            return std::isfinite(value) && value > RenderLimits::MinDenoisingStrength
                && value <= RenderLimits::MaxDenoisingStrength;
        }

        QString denoisingStrengthMessage(QStringView field, QStringView given)
        {
            return u"%1 must be a number more than %2 and at most %3, not \"%4\""_s.arg(field)
                .arg(RenderLimits::MinDenoisingStrength)
                .arg(RenderLimits::MaxDenoisingStrength)
                .arg(excerpt(given));
        }

        bool hiresScaleFits(double value)
        {
            return std::isfinite(value) && value >= RenderLimits::MinHiresScale && value <= RenderLimits::MaxHiresScale;
        }

        QString hiresScaleMessage(QStringView field, QStringView given)
        {
            return u"%1 must be a number from %2 (no hires fix) to %3, not \"%4\""_s.arg(field)
                .arg(RenderLimits::MinHiresScale)
                .arg(RenderLimits::MaxHiresScale)
                .arg(excerpt(given));
        }

        bool hiresStepsFit(qint64 value)
        {
            return value == 0 || stepsFit(value);
        }

        QString hiresStepsMessage(QStringView field, QStringView given)
        {
            return u"%1 must be 0 (the first pass's steps) or a whole number from %2 to %3, not \"%4\""_s.arg(field)
                .arg(RenderLimits::MinSteps)
                .arg(RenderLimits::MaxSteps)
                .arg(excerpt(given));
        }

        QString shortest(double value)
        {
            return QString::number(value, 'g', QLocale::FloatingPointShortest);
        }
    } // namespace

    QString hiresUpscalerFromName(QStringView name)
    {
        for (const QStringView known : {u"Latent", u"Lanczos"}) {
            if (name.trimmed().compare(known, Qt::CaseInsensitive) == 0) {
                return known.toString();
            }
        }
        return {};
    }

    QString unknownHiresUpscalerMessage(QStringView given, QStringView field)
    {
        return u"%1 must be Latent or Lanczos, not \"%2\""_s.arg(field, excerpt(given));
    }

    namespace RenderChecks
    {
        QString denoisingStrength(double value, QStringView field)
        {
            return denoisingStrengthFits(value) ? QString() : denoisingStrengthMessage(field, shortest(value));
        }

        QString denoisingStrengthText(QStringView given, QStringView field, double* value)
        {
            bool ok = false;
            const double parsed = given.trimmed().toDouble(&ok);
            if (!ok || !denoisingStrengthFits(parsed)) {
                return denoisingStrengthMessage(field, given);
            }
            if (value) {
                *value = parsed;
            }
            return {};
        }

        QString hiresScale(double value, QStringView field)
        {
            return hiresScaleFits(value) ? QString() : hiresScaleMessage(field, shortest(value));
        }

        QString hiresScaleText(QStringView given, QStringView field, double* value)
        {
            bool ok = false;
            const double parsed = given.trimmed().toDouble(&ok);
            if (!ok || !hiresScaleFits(parsed)) {
                return hiresScaleMessage(field, given);
            }
            if (value) {
                *value = parsed;
            }
            return {};
        }

        QString hiresSteps(qint64 value, QStringView field)
        {
            return hiresStepsFit(value) ? QString() : hiresStepsMessage(field, QString::number(value));
        }

        QString hiresStepsText(QStringView given, QStringView field, int* value)
        {
            const std::optional<qint64> parsed = parseWhole(given);
            if (!parsed || !hiresStepsFit(*parsed)) {
                return hiresStepsMessage(field, given);
            }
            if (value) {
                *value = static_cast<int>(*parsed);
            }
            return {};
        }

        int hiresSide(int side, double scale)
        {
            return static_cast<int>(static_cast<double>(side) * scale);
        }

        QString hiresSize(int width, int height, double scale, QStringView field)
        {
            const int outWidth = hiresSide(width, scale);
            const int outHeight = hiresSide(height, scale);
            if (sideFits(outWidth) && sideFits(outHeight)) {
                return {};
            }
            return u"%1 %2 makes %3×%4 from %5×%6; each side must be a multiple of %7 from %8 to %9"_s.arg(field)
                .arg(shortest(scale))
                .arg(outWidth)
                .arg(outHeight)
                .arg(width)
                .arg(height)
                .arg(RenderLimits::SideMultiple)
                .arg(RenderLimits::MinSide)
                .arg(RenderLimits::MaxSide);
        }

        QString steps(qint64 value, QStringView field)
        {
            return stepsFit(value) ? QString() : stepsMessage(field, QString::number(value));
        }

        QString cfgScale(double value, QStringView field)
        {
            return cfgScaleFits(value)
                ? QString()
                : cfgScaleMessage(field, QString::number(value, 'g', QLocale::FloatingPointShortest));
        }

        QString side(qint64 value, QStringView field)
        {
            return sideFits(value) ? QString() : sideMessage(field, QString::number(value));
        }

        QString promptBytes(const QString& text, QStringView field)
        {
            // One UTF-16 unit never takes more than 3 bytes of UTF-8, so short texts need no conversion.
            if (text.size() * 3 <= RenderLimits::MaxPromptBytes) {
                return {};
            }
            const qsizetype bytes = text.toUtf8().size();
            if (bytes <= RenderLimits::MaxPromptBytes) {
                return {};
            }
            return u"%1 must be at most %2 bytes of UTF-8 (%3 KiB), not %4 bytes"_s.arg(field)
                .arg(RenderLimits::MaxPromptBytes)
                .arg(RenderLimits::MaxPromptBytes / 1024)
                .arg(bytes);
        }

        QString clipSkip(qint64 value, QStringView field)
        {
            return clipSkipFits(value) ? QString() : clipSkipMessage(field, QString::number(value));
        }

        QString clipSkipText(QStringView given, QStringView field, int* value)
        {
            const std::optional<qint64> parsed = parseWhole(given);
            if (!parsed || !clipSkipFits(*parsed)) {
                return clipSkipMessage(field, given);
            }
            if (value) {
                *value = static_cast<int>(*parsed);
            }
            return {};
        }

        QString stepsText(QStringView given, QStringView field, int* value)
        {
            const std::optional<qint64> parsed = parseWhole(given);
            if (!parsed || !stepsFit(*parsed)) {
                return stepsMessage(field, given);
            }
            if (value) {
                *value = static_cast<int>(*parsed);
            }
            return {};
        }

        QString cfgScaleText(QStringView given, QStringView field, double* value)
        {
            bool ok = false;
            const double parsed = given.trimmed().toDouble(&ok);
            if (!ok || !cfgScaleFits(parsed)) {
                return cfgScaleMessage(field, given);
            }
            if (value) {
                *value = parsed;
            }
            return {};
        }

        QString sideText(QStringView given, QStringView field, int* value)
        {
            const std::optional<qint64> parsed = parseWhole(given);
            if (!parsed || !sideFits(*parsed)) {
                return sideMessage(field, given);
            }
            if (value) {
                *value = static_cast<int>(*parsed);
            }
            return {};
        }
    } // namespace RenderChecks

    RenderSettings RenderSettings::withDefaults(const RenderSettings& defaults) const
    {
        RenderSettings resolved = *this;
        resolved.steps = steps.value_or(defaults.steps.value_or(RenderDefaults::Steps));
        resolved.cfgScale = cfgScale.value_or(defaults.cfgScale.value_or(RenderDefaults::CfgScale));
        resolved.width = width.value_or(defaults.width.value_or(RenderDefaults::Width));
        resolved.height = height.value_or(defaults.height.value_or(RenderDefaults::Height));
        // No sampler anywhere: the model's own, which only the worker knows once the model is loaded.
        resolved.scheduler = scheduler.value_or(defaults.scheduler.value_or(QString()));
        resolved.clipSkip = clipSkip.value_or(defaults.clipSkip.value_or(RenderDefaults::ClipSkip));
        // Image to image and the hires fix: an item's own values win, then the run's; what stays unset means "none"
        // (no init image, no hires fix, the model's VAE) and is resolved where it is used.
        const auto inherit = [](auto& field, const auto& fallback) {
            if (!field) {
                field = fallback;
            }
        };
        inherit(resolved.initImage, defaults.initImage);
        inherit(resolved.denoisingStrength, defaults.denoisingStrength);
        // A run's hires fix is for its text-to-image items; image to image has none (as in A1111).
        if (!resolved.initImage || resolved.initImage->isEmpty()) {
            inherit(resolved.hiresScale, defaults.hiresScale);
        }
        inherit(resolved.vae, defaults.vae);
        if (resolved.hiresEnabled()) {
            resolved.hiresSteps = hiresSteps.value_or(defaults.hiresSteps.value_or(RenderDefaults::HiresSteps));
            resolved.hiresUpscaler
                = hiresUpscaler.value_or(defaults.hiresUpscaler.value_or(RenderDefaults::HiresUpscaler.toString()));
        }
        if (const std::optional<double> strength = resolved.effectiveDenoisingStrength()) {
            resolved.denoisingStrength = strength;
        }
        return resolved;
    }

    std::optional<double> RenderSettings::effectiveDenoisingStrength() const
    {
        if (initImage && !initImage->isEmpty()) {
            return denoisingStrength.value_or(RenderDefaults::ImageToImageStrength);
        }
        if (hiresEnabled()) {
            return denoisingStrength.value_or(RenderDefaults::HiresStrength);
        }
        return std::nullopt;
    }

    QList<SettingProblem> RenderSettings::problems() const
    {
        QList<SettingProblem> found;
        auto add = [&found](const QString& field, const QString& message) {
            if (!message.isEmpty()) {
                found.append(SettingProblem{field, message});
            }
        };
        add(u"prompt"_s, RenderChecks::promptBytes(prompt, u"prompt"));
        add(u"negative_prompt"_s, RenderChecks::promptBytes(negativePrompt, u"negative_prompt"));
        if (steps) {
            add(u"steps"_s, RenderChecks::steps(*steps));
        }
        if (cfgScale) {
            add(u"cfg_scale"_s, RenderChecks::cfgScale(*cfgScale));
        }
        if (width) {
            add(u"width"_s, RenderChecks::side(*width, u"width"));
        }
        if (height) {
            add(u"height"_s, RenderChecks::side(*height, u"height"));
        }
        if (clipSkip) {
            add(u"clip_skip"_s, RenderChecks::clipSkip(*clipSkip));
        }
        if (denoisingStrength) {
            add(u"denoising_strength"_s, RenderChecks::denoisingStrength(*denoisingStrength));
        }
        if (hiresScale) {
            const QString problem = RenderChecks::hiresScale(*hiresScale);
            add(u"hr_scale"_s, problem);
            if (problem.isEmpty() && hiresEnabled() && width && height) {
                add(u"hr_scale"_s, RenderChecks::hiresSize(*width, *height, *hiresScale));
            }
        }
        if (hiresSteps) {
            add(u"hr_second_pass_steps"_s, RenderChecks::hiresSteps(*hiresSteps));
        }
        if (hiresUpscaler && hiresUpscalerFromName(*hiresUpscaler) != *hiresUpscaler) {
            add(u"hr_upscaler"_s, unknownHiresUpscalerMessage(*hiresUpscaler, u"hr_upscaler"));
        }
        if (initImage && !initImage->isEmpty() && hiresEnabled()) {
            add(u"enable_hr"_s, u"enable_hr cannot go with init_image: the hires fix renders text to image first"_s);
        }
        if (initImage && !initImage->isEmpty() && QDir::isRelativePath(*initImage)) {
            add(u"init_image"_s, u"init_image must be an absolute path here, not \"%1\""_s.arg(excerpt(*initImage)));
        }
        if (scheduler && !scheduler->isEmpty()) {
            // The field holds canonical names only: everything downstream (protocol, engine) compares them as is.
            const QString canonical = samplerFromName(*scheduler);
            if (canonical.isEmpty()) {
                add(u"sampler_name"_s, unknownSamplerMessage(*scheduler, u"sampler_name"));
            } else if (canonical != *scheduler) {
                add(u"sampler_name"_s,
                    u"sampler_name must be given by Atelier's name \"%1\", not \"%2\""_s.arg(canonical, *scheduler));
            }
        }
        return found;
    }
} // namespace Atelier
