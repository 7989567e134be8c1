// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// What AUTOMATIC1111 writes into a PNG's "parameters" text chunk (its "infotext"), which its PNG Info tab,
    /// civitai and other tools read:
    /// `<prompt>\nNegative prompt: <neg>\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, Size: 64x64,
    /// Model hash: 0123456789, Model: name`. The negative line is left out when there is none, as A1111 does, and so
    /// is every unset setting and empty model field. Values holding a comma, a colon or a line break are JSON-quoted.
    struct Infotext
    {
        /// Resolved (sampler as Atelier's canonical name); unset fields are left out, and so is a clip skip of 1 (as
        /// A1111 writes it). Image to image and the hires fix as A1111 names them: "Denoising strength", "Hires
        /// upscale" (only above 1), "Hires steps", "Hires upscaler"; "VAE" is settings.vae (a file name). The init
        /// image is never written: A1111 does not, and its path says nothing to another machine.
        RenderSettings settings;
        QString modelHash; ///< first 10 hex digits of the SHA-256 of the weights; empty: left out
        QString modelName; ///< empty: left out
        /// A1111's "Lora hashes": each LoRA the prompt's tags name, with its FileHashes::loraHash(), in the
        /// prompt's order. Left out when empty.
        QList<std::pair<QString, QString>> loraHashes = {};
        /// A1111's "TI hashes": each textual-inversion embedding the prompt or negative prompt used, with its
        /// FileHashes::embeddingHash(). Left out when empty.
        QList<std::pair<QString, QString>> embeddingHashes = {};
        /// A1111's "VAE hash" (FileHashes::modelHash() of the VAE that replaced the model's; its name is
        /// settings.vae). Left out when empty.
        QString vaeHash = {};

        QString toString() const;
    };

    /// An infotext read back (A1111's or Atelier's): the settings it names, and what could not be used.
    struct InfotextReadResult
    {
        Infotext infotext; ///< settings it does not name, or names with an invalid value, stay unset
        QStringList ignored; ///< "Key: value" pairs Atelier does not use (kept for the user to see)
        QString error; ///< non-empty when the text is not an infotext at all, or a value is invalid
    };

    /// Parses A1111's infotext as A1111 does: prompt lines (each trimmed), an optional "Negative prompt:" block, and
    /// the last line's comma-separated "Key: value" pairs (values may be JSON-quoted); a last line of fewer than three
    /// pairs is not an infotext. Reads Steps, Sampler (with A1111 1.9's "Schedule type: Karras"), CFG scale, Seed,
    /// Size, Model hash, Model, VAE hash, VAE, Denoising strength, Clip skip, Hires upscale, Hires steps, Hires
    /// upscaler (Latent or Lanczos; another goes to `ignored`), Lora hashes and TI hashes; other keys go to
    /// `ignored`. Never
    /// throws; limits as RenderLimits.
    InfotextReadResult readInfotext(const QString& text);

    /// The name infotexts give the model at @p modelPath, as A1111 names a checkpoint: a file's name without its
    /// extension ("v1-5-pruned-emaonly"), or a diffusers folder's name.
    QString infotextModelName(const QString& modelPath);

    /// The `atelier` chunk of a PNG: how the image was made, for provenance.
    struct Provenance
    {
        qint64 queueItemId = -1; ///< the coordinator's job id, so every image maps back to its item
        RenderSettings settings; ///< resolved
        int unetEvaluations = 0; ///< what the sampler ran (PNDM runs one more than the steps asked)
        QString model;
        QString modelHash;
        QString device;
        QString deviceName;
        QString precision; ///< "fp32", "fp16", "bf16"
        QJsonObject extra; ///< timings, versions, batch, process group: merged in as they are

        /// The JSON object written into the chunk: `queueItemId`, `device`, `deviceName`, `dtype` (the precision),
        /// `model`, `modelHash`, the resolved settings (`scheduler`, `seed` as text so that no reader rounds it above
        /// 2^53, `steps`, `cfgScale`, `width`, `height`; the prompts are in the infotext), `unetEvaluations`, then
        /// every key of `extra` these do not already name. `steps` is the number asked for, the one the infotext
        /// shows; `unetEvaluations` what ran.
        QJsonObject toJson() const;
    };
} // namespace Atelier
