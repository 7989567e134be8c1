// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringView>

#include <optional>

namespace Atelier
{
    /// The one home of every render setting's limits. The importer, the command lines, the window, the
    /// coordinator, the protocol and the worker all check against these; nothing else restates them.
    namespace RenderLimits
    {
        inline constexpr int MinSteps = 1;
        inline constexpr int MaxSteps = 150; ///< AUTOMATIC1111's own ceiling
        inline constexpr double MinCfgScale = 0;
        inline constexpr double MaxCfgScale = 30;
        inline constexpr int MinSide = 64; ///< pixels; SD 1.x's VAE needs at least 8 latent pixels
        inline constexpr int MaxSide = 2048; ///< pixels; beyond this a render runs out of memory on most machines
        inline constexpr int SideMultiple = 8; ///< the VAE's downscale factor
        /// AUTOMATIC1111's "Clip skip" (`--clip-skip`): 1 is CLIP's last layer; SD 1.x's text encoder has 12.
        inline constexpr int MinClipSkip = 1;
        inline constexpr int MaxClipSkip = 12;
        /// AUTOMATIC1111's "Denoising strength" (image to image and the hires fix's second pass): how much of the
        /// schedule runs; 0 would keep the image as it is, so it is refused.
        inline constexpr double MinDenoisingStrength = 0; ///< excluded
        inline constexpr double MaxDenoisingStrength = 1;
        /// AUTOMATIC1111's "Hires upscale": 1 is no hires fix; A1111's slider stops at 4. The size it gives must also
        /// be within MinSide..MaxSide and a multiple of SideMultiple.
        inline constexpr double MinHiresScale = 1;
        inline constexpr double MaxHiresScale = 4;
        /// Each of prompt and negative prompt, in UTF-8 bytes; a job carrying both stays far below the protocol's
        /// control frame size.
        inline constexpr qsizetype MaxPromptBytes = 16 * 1024;
    } // namespace RenderLimits

    /// The values a setting takes when neither the item nor the run gives one.
    namespace RenderDefaults
    {
        inline constexpr int Steps = 20;
        inline constexpr double CfgScale = 7.5;
        inline constexpr int Width = 512;
        inline constexpr int Height = 512;
        inline constexpr int ClipSkip = 1;
        /// A1111's defaults: its img2img tab starts at 0.75, its txt2img hires fix at 0.7.
        inline constexpr double ImageToImageStrength = 0.75;
        inline constexpr double HiresStrength = 0.7;
        inline constexpr double HiresScale = 2; ///< when a file says `enable_hr` without `hr_scale`, as A1111
        inline constexpr int HiresSteps = 0; ///< the first pass's
        inline constexpr QStringView HiresUpscaler = u"Latent";
    } // namespace RenderDefaults

    /// The hires fix's upscalers, by A1111's names: "Latent" (the latents, bilinear) and "Lanczos" (the decoded
    /// image). Returns the canonical name for @p name in any case, or an empty string for one Atelier does not have.
    QString hiresUpscalerFromName(QStringView name);
    /// "hr_upscaler must be Latent or Lanczos, not \"ESRGAN_4x\"" for @p field.
    QString unknownHiresUpscalerMessage(QStringView given, QStringView field);

    /// One problem with one setting, for messages such as `prompts.txt:3: steps must be …` or `--cfg must be …`.
    struct SettingProblem
    {
        QString field; ///< the A1111 / prompt-file name: "steps", "cfg_scale", "width", "sampler_name", …
        QString message; ///< a sentence that names the field, the allowed range and the value given
        friend bool operator==(const SettingProblem&, const SettingProblem&) = default;
    };

    /// One queue item: what the artist asked for. Unset fields take the run's defaults (withDefaults()); a seed left
    /// unset is drawn once, when the item is first dispatched, and kept for its retries and in its image.
    struct RenderSettings
    {
        QString prompt;
        QString negativePrompt;
        std::optional<quint64> seed;
        std::optional<int> steps;
        std::optional<double> cfgScale;
        std::optional<int> width;
        std::optional<int> height;
        std::optional<QString> scheduler; ///< the sampler's canonical name (see Samplers.h); "" is the model's own
        /// AUTOMATIC1111's "Clip skip" (prompt files: `clip_skip`; infotexts: `Clip skip`): 1 is CLIP's last layer.
        std::optional<int> clipSkip = {};
        /// Image to image: the PNG (or any image Qt reads) to start from, as an absolute path; prompt files:
        /// `init_image`. It is resized to width × height as A1111's "Just resize" does (Lanczos).
        std::optional<QString> initImage = {};
        /// A1111's "Denoising strength" (`denoising_strength`), for image to image and for the hires fix's second
        /// pass; unset: RenderDefaults::ImageToImageStrength or HiresStrength.
        std::optional<double> denoisingStrength = {};
        /// The hires fix (`hr_scale`, `enable_hr`; infotexts: `Hires upscale`): more than 1 renders at width × height,
        /// then again at this many times the size; exactly 1 is off (what `enable_hr: false` sets).
        std::optional<double> hiresScale = {};
        std::optional<int> hiresSteps = {}; ///< `hr_second_pass_steps` / `Hires steps`; 0: the first pass's steps
        std::optional<QString> hiresUpscaler = {}; ///< `hr_upscaler` / `Hires upscaler`, canonical (see above)
        /// A VAE to use instead of the model's (`sd_vae`, A1111's override setting; infotexts: `VAE`): a file name
        /// found in the VAE folders, or a path; "" is the model's own.
        std::optional<QString> vae = {};

        /// Whether the hires fix runs (a scale above 1).
        bool hiresEnabled() const { return hiresScale && *hiresScale > RenderLimits::MinHiresScale; }
        /// The denoising strength this item renders with: its own, else the one for its kind (image to image, hires
        /// fix); unset for a plain text-to-image item, which uses none (whatever it holds).
        std::optional<double> effectiveDenoisingStrength() const;
        /// This item with every unset field (seed excepted) taken from @p defaults, then from RenderDefaults.
        RenderSettings withDefaults(const RenderSettings& defaults) const;
        /// Every problem with the fields that are set (prompt sizes included); empty when the item can render.
        QList<SettingProblem> problems() const;

        friend bool operator==(const RenderSettings&, const RenderSettings&) = default;
    };

    /// @p text for a message: at most 60 characters (then "…"), so a message stays readable whatever was given.
    QString excerpt(QStringView text);

    /// Field checks shared by every entry point; each returns an empty string or the message for @p field, e.g.
    /// `steps must be a whole number from 1 to 150, not "0"`.
    namespace RenderChecks
    {
        QString steps(qint64 value, QStringView field = u"steps");
        QString cfgScale(double value, QStringView field = u"cfg_scale"); ///< NaN and infinities are refused
        QString side(qint64 value, QStringView field); ///< "width" / "height"
        QString promptBytes(const QString& text, QStringView field); ///< "prompt" / "negative_prompt"
        QString clipSkip(qint64 value, QStringView field = u"clip_skip");
        QString denoisingStrength(double value, QStringView field = u"denoising_strength");
        QString hiresScale(double value, QStringView field = u"hr_scale");
        QString hiresSteps(qint64 value, QStringView field = u"hr_second_pass_steps"); ///< 0 or a step count
        /// The hires fix's output size, int(side × scale) for each side as A1111 computes it, against the side limits;
        /// e.g. `hr_scale 1.3 makes 665×665 from 512×512; each side must be a multiple of 8 from 64 to 2048`.
        QString hiresSize(int width, int height, double scale, QStringView field = u"hr_scale");
        /// One side of the hires fix's output: int(@p side × @p scale), as A1111 and the engine compute it.
        int hiresSide(int side, double scale);

        // The same checks for text as typed (a command-line value, a prompt-file cell): the message quotes @p given,
        // so "many" or "1e9" reads back as the user wrote it. A whole number is plain decimal digits with an optional
        // sign; surrounding spaces are allowed. On success the value is stored in @p value when given. (Named apart
        // from the checks above, so that those stay single functions whose address callers can take.)
        QString stepsText(QStringView given, QStringView field, int* value = nullptr);
        QString cfgScaleText(QStringView given, QStringView field, double* value = nullptr);
        QString sideText(QStringView given, QStringView field, int* value = nullptr);
        QString clipSkipText(QStringView given, QStringView field, int* value = nullptr);
        QString denoisingStrengthText(QStringView given, QStringView field, double* value = nullptr);
        QString hiresScaleText(QStringView given, QStringView field, double* value = nullptr);
        QString hiresStepsText(QStringView given, QStringView field, int* value = nullptr);
    } // namespace RenderChecks
} // namespace Atelier

Q_DECLARE_METATYPE(Atelier::RenderSettings)
