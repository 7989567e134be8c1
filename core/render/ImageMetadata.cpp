// SPDX-License-Identifier: GPL-3.0-or-later
#include "ImageMetadata.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        constexpr QStringView negativePrefix = u"Negative prompt:";

        /// A value as A1111's `quote()` writes it: as is, unless a comma, a colon or a line break would break the
        /// line apart, then as a JSON string. A leading quote is quoted too, or it would read back as one; so is one
        /// after leading spaces, which the reader skips before it looks for a quote.
        QString quoted(const QString& value)
        {
            if (!value.contains(u',') && !value.contains(u':') && !value.contains(u'\n') && !value.contains(u'\r')
                && !value.trimmed().startsWith(u'"')) {
                return value;
            }
            // A one-element array is the simplest way to have QJsonDocument escape a string.
            const QByteArray array = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
            return QString::fromUtf8(array.mid(1, array.size() - 2));
        }

        /// Infotexts show 7 as "7" and 7.25 as "7.25"; the shortest form that reads back as the same double.
        QString decimal(double value)
        {
            return QString::number(value, 'g', QLocale::FloatingPointShortest);
        }

        struct Parameter
        {
            QString key;
            QString value;
        };

        /// Splits A1111's parameter line, `Key: value, Key: "quoted, value", …`, as its parse_generation_parameters
        /// reads it. nullopt (with @p error) when a part is not `Key: value` or a quoted value is not closed.
        std::optional<QList<Parameter>> parseParameters(QStringView line, QString* error)
        {
            QList<Parameter> parameters;
            qsizetype pos = 0;
            auto skipSpaces = [&] {
                while (pos < line.size() && line.at(pos).isSpace()) {
                    ++pos;
                }
            };
            while (true) {
                skipSpaces();
                if (pos >= line.size()) {
                    break;
                }
                qsizetype colon = pos;
                while (colon < line.size() && line.at(colon) != u':' && line.at(colon) != u',') {
                    ++colon;
                }
                const QStringView key = line.mid(pos, colon - pos).trimmed();
                if (colon >= line.size() || line.at(colon) != u':' || key.isEmpty() || key.contains(u'"')
                    || !(key.front().isLetterOrNumber() || key.front() == u'_')) {
                    *error = u"\"%1\" is not a \"Key: value\" pair"_s.arg(line.mid(pos, colon - pos).toString());
                    return std::nullopt;
                }
                pos = colon + 1;
                skipSpaces();
                QString value;
                if (pos < line.size() && line.at(pos) == u'"') {
                    qsizetype end = pos + 1;
                    while (end < line.size() && line.at(end) != u'"') {
                        end += line.at(end) == u'\\' ? 2 : 1;
                    }
                    if (end >= line.size()) {
                        *error = u"the value of %1 opens a quote that is never closed"_s.arg(key.toString());
                        return std::nullopt;
                    }
                    const QString array = u"["_s + line.mid(pos, end + 1 - pos).toString() + u"]"_s;
                    QJsonParseError jsonError;
                    const QJsonDocument document = QJsonDocument::fromJson(array.toUtf8(), &jsonError);
                    if (jsonError.error != QJsonParseError::NoError || !document.array().at(0).isString()) {
                        *error = u"the quoted value of %1 is not a valid JSON string"_s.arg(key.toString());
                        return std::nullopt;
                    }
                    value = document.array().at(0).toString();
                    pos = end + 1;
                    skipSpaces();
                    if (pos < line.size() && line.at(pos) != u',') {
                        *error = u"a comma must follow the quoted value of %1"_s.arg(key.toString());
                        return std::nullopt;
                    }
                } else {
                    qsizetype end = pos;
                    while (end < line.size() && line.at(end) != u',') {
                        ++end;
                    }
                    value = line.mid(pos, end - pos).trimmed().toString();
                    pos = end;
                }
                parameters.append(Parameter{key.toString(), value});
                if (pos < line.size()) {
                    ++pos; // the comma
                }
            }
            return parameters;
        }

        std::optional<quint64> parseSeed(QStringView text)
        {
            text = text.trimmed();
            if (text.isEmpty()
                || !std::all_of(text.begin(), text.end(), [](QChar c) { return c >= u'0' && c <= u'9'; })) {
                return std::nullopt;
            }
            bool ok = false;
            const quint64 seed = text.toULongLong(&ok);
            return ok ? std::optional<quint64>(seed) : std::nullopt;
        }
    } // namespace

    QString Infotext::toString() const
    {
        QString text = settings.prompt + u'\n';
        if (!settings.negativePrompt.isEmpty()) {
            text += negativePrefix.toString() + u' ' + settings.negativePrompt + u'\n';
        }
        QStringList parameters;
        if (settings.steps) {
            parameters.append(u"Steps: "_s + QString::number(*settings.steps));
        }
        if (settings.scheduler && !settings.scheduler->isEmpty()) {
            parameters.append(u"Sampler: "_s + quoted(a1111SamplerName(*settings.scheduler)));
            // A1111 1.9 and later give a plain "DPM++ 2M" Karras sigmas unless told otherwise; "Uniform" is the
            // schedule Atelier's dpmpp_2m runs (and A1111 1.8 and before ignore the key).
            if (*settings.scheduler == u"dpmpp_2m"_s) {
                parameters.append(u"Schedule type: Uniform"_s);
            }
        }
        if (settings.cfgScale) {
            parameters.append(u"CFG scale: "_s + decimal(*settings.cfgScale));
        }
        if (settings.seed) {
            parameters.append(u"Seed: "_s + QString::number(*settings.seed));
        }
        if (settings.width && settings.height) {
            parameters.append(u"Size: %1x%2"_s.arg(*settings.width).arg(*settings.height));
        }
        if (!modelHash.isEmpty()) {
            parameters.append(u"Model hash: "_s + quoted(modelHash));
        }
        if (!modelName.isEmpty()) {
            parameters.append(u"Model: "_s + quoted(modelName));
        }
        // After the model, as A1111 writes them.
        if (!vaeHash.isEmpty()) {
            parameters.append(u"VAE hash: "_s + quoted(vaeHash));
        }
        if (settings.vae && !settings.vae->isEmpty()) {
            parameters.append(u"VAE: "_s + quoted(*settings.vae));
        }
        if (settings.denoisingStrength) {
            parameters.append(u"Denoising strength: "_s + decimal(*settings.denoisingStrength));
        }
        if (settings.clipSkip && *settings.clipSkip != RenderDefaults::ClipSkip) {
            parameters.append(u"Clip skip: "_s + QString::number(*settings.clipSkip));
        }
        if (settings.hiresEnabled()) {
            parameters.append(u"Hires upscale: "_s + decimal(*settings.hiresScale));
            if (settings.hiresSteps) {
                parameters.append(u"Hires steps: "_s + QString::number(*settings.hiresSteps));
            }
            if (settings.hiresUpscaler) {
                parameters.append(u"Hires upscaler: "_s + quoted(*settings.hiresUpscaler));
            }
        }
        for (const auto& [label, hashes] :
             {std::pair{u"Lora hashes"_s, &loraHashes}, std::pair{u"TI hashes"_s, &embeddingHashes}}) {
            if (hashes->isEmpty()) {
                continue;
            }
            QStringList pairs;
            for (const auto& [name, hash] : *hashes) {
                pairs.append(name + u": "_s + hash);
            }
            // Always quoted, as A1111 writes it: the value holds commas and colons.
            const QByteArray array = QJsonDocument(QJsonArray{pairs.join(u", "_s)}).toJson(QJsonDocument::Compact);
            parameters.append(label + u": "_s + QString::fromUtf8(array.mid(1, array.size() - 2)));
        }
        return text + parameters.join(u", "_s);
    }

    InfotextReadResult readInfotext(const QString& text)
    {
        InfotextReadResult result;
        QString normalized = text;
        normalized.replace(u"\r\n"_s, u"\n"_s).replace(u'\r', u'\n');
        normalized = normalized.trimmed();
        if (normalized.isEmpty()) {
            result.error = u"the text is empty"_s;
            return result;
        }
        QStringList lines = normalized.split(u'\n');
        const QString parameterLine = lines.takeLast();
        QString parseError;
        const std::optional<QList<Parameter>> parameters = parseParameters(parameterLine, &parseError);
        // A1111 itself takes a last line with fewer than three pairs for part of the prompt; without a parameter
        // line there is nothing to read settings from.
        if (!parameters || parameters->size() < 3) {
            result.error = u"not an AUTOMATIC1111 infotext: the last line is not \"Steps: …, Sampler: …, …\"%1"_s.arg(
                parseError.isEmpty() ? QString() : u" (%1)"_s.arg(parseError));
            return result;
        }

        RenderSettings& settings = result.infotext.settings;
        QStringList prompt;
        QStringList negative;
        bool inNegative = false;
        for (const QString& raw : std::as_const(lines)) {
            // A1111 strips every line, and everything from "Negative prompt:" on is the negative prompt.
            QString line = raw.trimmed();
            if (!inNegative && line.startsWith(negativePrefix)) {
                inNegative = true;
                line = line.mid(negativePrefix.size()).trimmed();
            }
            (inNegative ? negative : prompt).append(line);
        }
        settings.prompt = prompt.join(u'\n');
        settings.negativePrompt = negative.join(u'\n');

        QStringList errors;
        auto check = [&errors](const QString& message) {
            if (!message.isEmpty()) {
                errors.append(message);
            }
        };
        // A prompt over its limit is left out like any invalid value, so that what is read can always render.
        for (auto [text, field] : {std::pair{&settings.prompt, u"the prompt"_s},
                                   std::pair{&settings.negativePrompt, u"the negative prompt"_s}}) {
            const QString problem = RenderChecks::promptBytes(*text, field);
            if (!problem.isEmpty()) {
                errors.append(problem);
                text->clear();
            }
        }

        QStringList seen;
        QString sampler;
        QString scheduleType;
        for (const Parameter& parameter : *parameters) {
            const QString key = parameter.key.toLower();
            const QString& value = parameter.value;
            auto ignore = [&] { result.ignored.append(parameter.key + u": "_s + value); };
            static const QStringList known{
                u"steps"_s,       u"sampler"_s,       u"schedule type"_s, u"cfg scale"_s,          u"seed"_s,
                u"size"_s,        u"model hash"_s,    u"model"_s,         u"clip skip"_s,          u"lora hashes"_s,
                u"ti hashes"_s,   u"vae"_s,           u"vae hash"_s,      u"denoising strength"_s, u"hires upscale"_s,
                u"hires steps"_s, u"hires upscaler"_s};
            if (!known.contains(key)) {
                ignore();
                continue;
            }
            if (seen.contains(key)) {
                ignore(); // A1111 writes each key once; a repeat is shown, not used
                continue;
            }
            seen.append(key);
            if (key == u"steps") {
                int steps = 0;
                const QString problem = RenderChecks::stepsText(value, u"Steps", &steps);
                check(problem);
                if (problem.isEmpty()) {
                    settings.steps = steps;
                }
            } else if (key == u"sampler") {
                sampler = value;
            } else if (key == u"schedule type") {
                scheduleType = value;
            } else if (key == u"cfg scale") {
                double cfgScale = 0;
                const QString problem = RenderChecks::cfgScaleText(value, u"CFG scale", &cfgScale);
                check(problem);
                if (problem.isEmpty()) {
                    settings.cfgScale = cfgScale;
                }
            } else if (key == u"seed") {
                if (const std::optional<quint64> seed = parseSeed(value)) {
                    settings.seed = *seed;
                } else {
                    check(u"Seed must be a whole number from 0 to %1, not \"%2\""_s.arg(
                        QString::number(std::numeric_limits<quint64>::max()), value.left(60)));
                }
            } else if (key == u"size") {
                const QStringList sides = value.split(u'x', Qt::KeepEmptyParts, Qt::CaseInsensitive);
                if (sides.size() != 2) {
                    check(u"Size must be WIDTHxHEIGHT, not \"%1\""_s.arg(value.left(60)));
                    continue;
                }
                int width = 0;
                int height = 0;
                const QString widthProblem = RenderChecks::sideText(sides.at(0), u"the width in Size", &width);
                const QString heightProblem = RenderChecks::sideText(sides.at(1), u"the height in Size", &height);
                check(widthProblem);
                check(heightProblem);
                if (widthProblem.isEmpty() && heightProblem.isEmpty()) {
                    settings.width = width;
                    settings.height = height;
                }
            } else if (key == u"model hash") {
                result.infotext.modelHash = value;
            } else if (key == u"model") {
                result.infotext.modelName = value;
            } else if (key == u"denoising strength") {
                double strength = 0;
                const QString problem = RenderChecks::denoisingStrengthText(value, parameter.key, &strength);
                check(problem);
                if (problem.isEmpty()) {
                    settings.denoisingStrength = strength;
                }
            } else if (key == u"hires upscale") {
                double scale = 0;
                const QString problem = RenderChecks::hiresScaleText(value, parameter.key, &scale);
                check(problem);
                if (problem.isEmpty()) {
                    settings.hiresScale = scale;
                }
            } else if (key == u"hires steps") {
                int steps = 0;
                const QString problem = RenderChecks::hiresStepsText(value, parameter.key, &steps);
                check(problem);
                if (problem.isEmpty()) {
                    settings.hiresSteps = steps;
                }
            } else if (key == u"hires upscaler") {
                // A1111's others ("Latent (antialiased)", "R-ESRGAN 4x+", …) are shown as not used; the default
                // upscaler stands in.
                const QString upscaler = hiresUpscalerFromName(value);
                if (upscaler.isEmpty()) {
                    ignore();
                } else {
                    settings.hiresUpscaler = upscaler;
                }
            } else if (key == u"vae") {
                settings.vae = value;
            } else if (key == u"vae hash") {
                result.infotext.vaeHash = value;
            } else if (key == u"clip skip") {
                int clipSkip = 0;
                const QString problem = RenderChecks::clipSkipText(value, u"Clip skip", &clipSkip);
                check(problem);
                if (problem.isEmpty()) {
                    settings.clipSkip = clipSkip;
                }
            } else if (key == u"lora hashes" || key == u"ti hashes") {
                // "name: hash, name: hash"; a name may hold ": " itself, so the hash is after the last one.
                auto& hashes = key == u"lora hashes" ? result.infotext.loraHashes : result.infotext.embeddingHashes;
                for (const QString& pair : value.split(u", "_s, Qt::SkipEmptyParts)) {
                    const qsizetype colon = pair.lastIndexOf(u": "_s);
                    if (colon <= 0 || pair.left(colon).trimmed().isEmpty() || pair.mid(colon + 2).trimmed().isEmpty()) {
                        check(u"%1 must be \"NAME: HASH, …\", not \"%2\""_s.arg(parameter.key, excerpt(value)));
                        hashes.clear();
                        break;
                    }
                    hashes.append({pair.left(colon).trimmed(), pair.mid(colon + 2).trimmed()});
                }
            }
        }

        if (!sampler.isEmpty()) {
            QString canonical = samplerFromName(sampler);
            // A1111 1.9 and later write "Sampler: DPM++ 2M, Schedule type: Karras" for what was "DPM++ 2M Karras".
            // "Uniform" is the model's own timesteps: what each of Atelier's samplers runs without "Karras".
            const bool automatic = scheduleType.isEmpty()
                || scheduleType.compare(u"Automatic", Qt::CaseInsensitive) == 0
                || scheduleType.compare(u"Uniform", Qt::CaseInsensitive) == 0;
            if (!canonical.isEmpty() && !automatic) {
                const QString combined = samplerFromName(sampler + u' ' + scheduleType);
                if (!combined.isEmpty()) {
                    canonical = combined;
                } else {
                    result.ignored.append(u"Schedule type: "_s + scheduleType);
                }
            }
            if (canonical.isEmpty()) {
                check(unknownSamplerMessage(sampler, u"Sampler"));
            } else {
                settings.scheduler = canonical;
            }
        } else if (!scheduleType.isEmpty()) {
            result.ignored.append(u"Schedule type: "_s + scheduleType);
        }
        result.error = errors.join(u"; "_s);
        return result;
    }

    QString infotextModelName(const QString& modelPath)
    {
        const QFileInfo info(QDir::cleanPath(modelPath));
        return info.isDir() ? info.fileName() : info.completeBaseName();
    }

    QJsonObject Provenance::toJson() const
    {
        QJsonObject json = extra;
        json.insert(u"queueItemId"_s, queueItemId);
        json.insert(u"device"_s, device);
        json.insert(u"deviceName"_s, deviceName);
        json.insert(u"dtype"_s, precision);
        json.insert(u"model"_s, model);
        json.insert(u"modelHash"_s, modelHash);
        json.insert(u"scheduler"_s, settings.scheduler.value_or(QString()));
        if (settings.seed) {
            // JSON numbers above 2^53 lose digits in many readers; as text the seed survives.
            json.insert(u"seed"_s, QString::number(*settings.seed));
        }
        if (settings.steps) {
            json.insert(u"steps"_s, *settings.steps);
        }
        if (settings.cfgScale) {
            json.insert(u"cfgScale"_s, *settings.cfgScale);
        }
        if (settings.width) {
            json.insert(u"width"_s, *settings.width);
        }
        if (settings.height) {
            json.insert(u"height"_s, *settings.height);
        }
        json.insert(u"unetEvaluations"_s, unetEvaluations);
        return json;
    }
} // namespace Atelier
