// SPDX-License-Identifier: GPL-3.0-or-later
#include "AppSettings.h"

#include <QDir>
#include <QSettings>
#include <QStandardPaths>

#include "ipc/Protocol.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        namespace Key
        {
            const QString Steps = u"render/steps"_s;
            const QString ClipSkip = u"render/clipSkip"_s;
            const QString Cfg = u"render/cfg"_s;
            const QString Width = u"render/width"_s;
            const QString Height = u"render/height"_s;
            const QString Sampler = u"render/sampler"_s;
            const QString ImagesPerPrompt = u"render/imagesPerPrompt"_s;
            const QString Model = u"render/model"_s;
            const QString Output = u"render/output"_s;
            const QString NegativePrompt = u"render/negativePrompt"_s;
            const QString NamingPattern = u"output/namingPattern"_s;
            const QString Automatic1111Roots = u"models/automatic1111Roots"_s;
            const QString ComfyUiRoots = u"models/comfyUiRoots"_s;
            const QString ModelFolders = u"models/folders"_s;
            const QString LoraFolders = u"models/loraFolders"_s;
            const QString EmbeddingFolders = u"models/embeddingFolders"_s;
            const QString VaeFolders = u"models/vaeFolders"_s;
            const QString MaxBatch = u"workers/maxBatch"_s;
            const QString CpuWorkers = u"workers/cpuWorkers"_s;
            const QString LibraryFolders = u"library/folders"_s;
            const QString Theme = u"appearance/theme"_s;
        } // namespace Key

        /// Reads keys, keeping the default of each that is absent or bad and saying why.
        class Reader
        {
        public:
            Reader(const QSettings& settings, QStringList* problems)
                : m_settings(settings)
                , m_problems(problems)
            { }

            /// The stored text of @p key, or nullopt when absent.
            std::optional<QString> text(const QString& key) const
            {
                const QVariant value = m_settings.value(key);
                if (!value.isValid() || value.isNull()) {
                    return std::nullopt;
                }
                return value.toString();
            }

            /// @p check (a RenderChecks text check, with the key as its field) decides; on failure @p value keeps its
            /// default.
            template <typename T, typename Check> void read(const QString& key, T& value, Check check) const
            {
                if (const std::optional<QString> given = text(key)) {
                    T parsed{};
                    if (const QString problem = check(*given, key, &parsed); !problem.isEmpty()) {
                        refuse(problem, value);
                    } else {
                        value = parsed;
                    }
                }
            }

            QStringList folders(const QString& key) const
            {
                QStringList folders;
                for (const QString& folder : m_settings.value(key).toStringList()) {
                    const QString trimmed = folder.trimmed();
                    if (!trimmed.isEmpty() && !folders.contains(trimmed)) {
                        folders.append(trimmed);
                    }
                }
                return folders;
            }

            template <typename T> void refuse(const QString& problem, const T& fallback) const
            {
                if (m_problems) {
                    m_problems->append(u"%1; using %2"_s.arg(problem, shown(fallback)));
                }
            }

        private:
            static QString shown(int value) { return QString::number(value); }
            static QString shown(double value) { return QString::number(value); }
            static QString shown(const QString& value) { return value.isEmpty() ? u"none"_s : u"\"%1\""_s.arg(value); }

            const QSettings& m_settings;
            QStringList* m_problems;
        };

        /// A whole number from @p min to @p max, for the settings that have no RenderChecks function.
        auto wholeIn(int min, int max)
        {
            return [min, max](QStringView given, QStringView field, int* value) -> QString {
                bool ok = false;
                const int parsed = given.trimmed().toInt(&ok);
                if (!ok || parsed < min || parsed > max) {
                    return u"%1 must be a whole number from %2 to %3, not \"%4\""_s.arg(field.toString())
                        .arg(min)
                        .arg(max)
                        .arg(excerpt(given));
                }
                *value = parsed;
                return {};
            };
        }
    } // namespace

    QString themeName(Theme theme)
    {
        switch (theme) {
        case Theme::Light:
            return u"light"_s;
        case Theme::Dark:
            return u"dark"_s;
        case Theme::System:
            break;
        }
        return u"system"_s;
    }

    std::optional<Theme> themeFromName(QStringView name)
    {
        for (const Theme theme : {Theme::System, Theme::Light, Theme::Dark}) {
            if (name.trimmed().compare(themeName(theme), Qt::CaseInsensitive) == 0) {
                return theme;
            }
        }
        return std::nullopt;
    }

    RenderSettings AppSettings::renderDefaults() const
    {
        RenderSettings defaults;
        defaults.negativePrompt = negativePrompt;
        defaults.steps = steps;
        defaults.cfgScale = cfgScale;
        defaults.width = width;
        defaults.height = height;
        defaults.scheduler = sampler;
        defaults.clipSkip = clipSkip;
        return defaults;
    }

    ModelLocations AppSettings::modelLocations(const QProcessEnvironment& environment) const
    {
        ModelLocations locations = ModelLocations::fromEnvironment(environment);
        for (const QString& root : automatic1111Roots) {
            if (!locations.automatic1111Roots.contains(root)) {
                locations.automatic1111Roots.append(root);
            }
        }
        for (const QString& root : comfyUiRoots) {
            if (!locations.comfyUiRoots.contains(root)) {
                locations.comfyUiRoots.append(root);
            }
        }
        locations.extraFolders = modelFolders;
        return locations;
    }

    QString AppSettings::defaultOutputDirectory()
    {
        QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
        if (pictures.isEmpty()) {
            pictures = QDir::homePath();
        }
        return QDir(pictures).filePath(u"Atelier"_s);
    }

    AppSettings AppSettings::load(QStringList* problems)
    {
        const QSettings settings;
        return load(settings, problems);
    }

    AppSettings AppSettings::load(const QSettings& settings, QStringList* problems)
    {
        AppSettings s;
        const Reader reader(settings, problems);

        s.automatic1111Roots = reader.folders(Key::Automatic1111Roots);
        s.comfyUiRoots = reader.folders(Key::ComfyUiRoots);
        s.modelFolders = reader.folders(Key::ModelFolders);
        s.loraFolders = reader.folders(Key::LoraFolders);
        s.embeddingFolders = reader.folders(Key::EmbeddingFolders);
        s.vaeFolders = reader.folders(Key::VaeFolders);
        s.libraryFolders = reader.folders(Key::LibraryFolders);
        s.modelPath = reader.text(Key::Model).value_or(QString()).trimmed();

        if (const QString output = reader.text(Key::Output).value_or(QString()).trimmed(); !output.isEmpty()) {
            s.outputDirectory = output;
        }
        if (const std::optional<QString> pattern = reader.text(Key::NamingPattern)) {
            if (const QString problem = checkNamingPattern(*pattern); !problem.isEmpty()) {
                reader.refuse(u"%1: %2"_s.arg(Key::NamingPattern, problem), s.namingPattern);
            } else {
                s.namingPattern = *pattern;
            }
        }

        reader.read(Key::Steps, s.steps, RenderChecks::stepsText);
        reader.read(Key::ClipSkip, s.clipSkip, RenderChecks::clipSkipText);
        reader.read(Key::Cfg, s.cfgScale, RenderChecks::cfgScaleText);
        reader.read(Key::Width, s.width, RenderChecks::sideText);
        reader.read(Key::Height, s.height, RenderChecks::sideText);
        // Stored canonical ("euler_a"); an A1111 name typed into the file is understood too.
        if (const QString sampler = reader.text(Key::Sampler).value_or(QString()).trimmed(); !sampler.isEmpty()) {
            s.sampler = samplerFromName(sampler);
            if (s.sampler.isEmpty()) {
                reader.refuse(unknownSamplerMessage(sampler, Key::Sampler), s.sampler);
            }
        }
        if (const std::optional<QString> negative = reader.text(Key::NegativePrompt)) {
            if (const QString problem = RenderChecks::promptBytes(*negative, Key::NegativePrompt); !problem.isEmpty()) {
                reader.refuse(problem, s.negativePrompt);
            } else {
                s.negativePrompt = *negative;
            }
        }
        reader.read(Key::ImagesPerPrompt, s.imagesPerPrompt, wholeIn(1, MaxImagesPerPrompt));
        reader.read(Key::MaxBatch, s.maxBatch, wholeIn(0, Ipc::MaxBatch));
        reader.read(Key::CpuWorkers, s.cpuWorkers, wholeIn(1, MaxCpuWorkers));

        if (const std::optional<QString> name = reader.text(Key::Theme)) {
            if (const std::optional<Theme> theme = themeFromName(*name)) {
                s.theme = *theme;
            } else {
                reader.refuse(
                    u"%1 must be \"system\", \"light\" or \"dark\", not \"%2\""_s.arg(Key::Theme, excerpt(*name)),
                    themeName(s.theme));
            }
        }
        return s;
    }

    bool AppSettings::addLibraryFolder(const QString& folder)
    {
        QSettings settings;
        AppSettings s = load(settings);
        const QString clean = QDir::cleanPath(QDir(folder).absolutePath());
        if (s.libraryFolders.contains(clean) || QDir::cleanPath(QDir(s.outputDirectory).absolutePath()) == clean) {
            return false;
        }
        s.libraryFolders.append(clean);
        settings.setValue(Key::LibraryFolders, s.libraryFolders);
        return true;
    }

    void AppSettings::save() const
    {
        QSettings settings;
        save(settings);
    }

    void AppSettings::save(QSettings& settings) const
    {
        settings.setValue(Key::Automatic1111Roots, automatic1111Roots);
        settings.setValue(Key::ComfyUiRoots, comfyUiRoots);
        settings.setValue(Key::ModelFolders, modelFolders);
        settings.setValue(Key::LoraFolders, loraFolders);
        settings.setValue(Key::EmbeddingFolders, embeddingFolders);
        settings.setValue(Key::VaeFolders, vaeFolders);
        settings.setValue(Key::Model, modelPath);
        settings.setValue(Key::Output, outputDirectory);
        settings.setValue(Key::NamingPattern, namingPattern);
        settings.setValue(Key::Steps, steps);
        settings.setValue(Key::ClipSkip, clipSkip);
        settings.setValue(Key::Cfg, cfgScale);
        settings.setValue(Key::Width, width);
        settings.setValue(Key::Height, height);
        settings.setValue(Key::Sampler, sampler);
        settings.setValue(Key::NegativePrompt, negativePrompt);
        settings.setValue(Key::ImagesPerPrompt, imagesPerPrompt);
        settings.setValue(Key::MaxBatch, maxBatch);
        settings.setValue(Key::CpuWorkers, cpuWorkers);
        settings.setValue(Key::LibraryFolders, libraryFolders);
        settings.setValue(Key::Theme, themeName(theme));
    }
} // namespace Atelier
