// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <optional>

#include "render/ModelDiscovery.h"
#include "render/OutputNaming.h"
#include "render/RenderSettings.h"

class QSettings;

namespace Atelier
{
    /// The window's look: the platform's own, or Fusion with a light or a dark palette.
    enum class Theme
    {
        System,
        Light,
        Dark
    };
    /// "system", "light", "dark": how AppSettings stores it.
    QString themeName(Theme theme);
    /// The theme named @p name (as themeName() writes it, any case); nullopt when unknown.
    std::optional<Theme> themeFromName(QStringView name);

    // clang-format off
    /// The one home of the window's preferences, stored with QSettings (the application's organization and name).
    /// Keys, for scripts and support:
    ///
    /// | key | field | since |
    /// |---|---|---|
    /// | `render/steps`, `render/cfg`, `render/width`, `render/height` | steps, cfgScale, width, height | 0.1 |
    /// | `render/sampler` | sampler (canonical name; "" the model's own) | 0.1 |
    /// | `render/imagesPerPrompt`, `render/model`, `render/output` | imagesPerPrompt, modelPath, outputDirectory | 0.1 |
    /// | `render/negativePrompt` | negativePrompt | 0.2 |
    /// | `output/namingPattern` | namingPattern | 0.2 |
    /// | `library/folders` | libraryFolders | 0.2 |
    /// | `models/automatic1111Roots`, `models/comfyUiRoots`, `models/folders` | the model folders | 0.2 |
    /// | `models/loraFolders`, `models/embeddingFolders` | loraFolders, embeddingFolders | 0.3 |
    /// | `models/vaeFolders` | vaeFolders | 0.3 |
    /// | `render/clipSkip` | clipSkip | 0.3 |
    /// | `workers/maxBatch`, `workers/cpuWorkers` | maxBatch, cpuWorkers | 0.2 |
    /// | `appearance/theme` | theme ("system", "light", "dark") | 0.2 |
    ///
    /// load() takes what an artist set before these settings existed (the window's `render/…` keys), and replaces a
    /// value that is missing, unreadable or out of range (checked by RenderChecks, checkNamingPattern(), …) with its
    /// default, so a hand-edited or older file never stops the window. `render/devices` stays the window's.
    // clang-format on
    struct AppSettings
    {
        static constexpr int MaxImagesPerPrompt = 100; ///< most images one "images per prompt" may ask for at once
        /// Most worker processes on the CPU (each wants a few cores and a model's memory).
        static constexpr int MaxCpuWorkers = 8;

        // Models
        QStringList automatic1111Roots; ///< AUTOMATIC1111 webui folders (or their models/Stable-diffusion)
        QStringList comfyUiRoots; ///< ComfyUI folders (or their models/checkpoints)
        QStringList modelFolders; ///< folders the artist added
        /// LoRA folders the artist added; ModelLocations::loraFolders() adds the usual ones.
        QStringList loraFolders;
        /// Textual-inversion folders the artist added; ModelLocations::embeddingFolders() adds the usual ones.
        QStringList embeddingFolders;
        /// VAE folders the artist added; ModelLocations::vaeFolders() adds the usual ones.
        QStringList vaeFolders;
        QString modelPath; ///< the default model; empty: the worker's embedded model

        // Output
        QString outputDirectory = defaultOutputDirectory();
        /// More folders whose images the gallery shows (and watches), besides the output folder: where
        /// `atelier --batch` wrote, folders the artist added.
        QStringList libraryFolders;
        QString namingPattern = DefaultNamingPattern.toString(); ///< see checkNamingPattern()

        // Render defaults (RenderLimits bound each)
        int steps = RenderDefaults::Steps;
        double cfgScale = RenderDefaults::CfgScale;
        int width = RenderDefaults::Width;
        int height = RenderDefaults::Height;
        QString sampler; ///< canonical name (Samplers.h); "" is the model's own
        int clipSkip = RenderDefaults::ClipSkip;
        QString negativePrompt;
        int imagesPerPrompt = 1; ///< 1 … MaxImagesPerPrompt

        // Workers
        /// Most jobs a worker renders in one batch (CoordinatorOptions::maxBatch): 0 automatic (what its memory
        /// holds), else 1 … Ipc::MaxBatch.
        int maxBatch = 0;
        /// Worker processes on the CPU when it is used (1 … MaxCpuWorkers): on a machine without a GPU, two
        /// workers with half the cores each keep the cores busier than one with all of them.
        int cpuWorkers = 1;

        // Appearance
        Theme theme = Theme::System;

        /// Adds @p folder (made absolute and clean) to the library folders of the stored settings, unless it is
        /// there already or is the output folder; returns whether it was added. For `atelier --batch`, so that the
        /// window's gallery shows what it rendered.
        static bool addLibraryFolder(const QString& folder);

        /// The render defaults as a run's defaults (CoordinatorOptions::defaults): every field but prompt and seed.
        RenderSettings renderDefaults() const;
        /// Where to look for models: the environment's (ModelLocations::fromEnvironment()) and these folders.
        ModelLocations modelLocations(const QProcessEnvironment& environment
                                      = QProcessEnvironment::systemEnvironment()) const;

        /// `Atelier` in the user's Pictures folder (the home folder when there is none).
        static QString defaultOutputDirectory();

        /// Reads the settings from QSettings(). Each value that was replaced by its default is named in
        /// @p problems ("render/steps: … ; using 20").
        static AppSettings load(QStringList* problems = nullptr);
        static AppSettings load(const QSettings& settings, QStringList* problems = nullptr);
        /// Writes every setting to QSettings() (not synced: QSettings syncs on its own and when destroyed).
        void save() const;
        void save(QSettings& settings) const;

        friend bool operator==(const AppSettings&, const AppSettings&) = default;
    };
} // namespace Atelier

Q_DECLARE_METATYPE(Atelier::AppSettings)
