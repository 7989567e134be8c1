// SPDX-License-Identifier: GPL-3.0-or-later
#include "ModelDiscovery.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QStandardPaths>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <unistd.h>

#include "render/ModelCheck.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        constexpr int CheckpointDepth = 4; ///< A1111 and ComfyUI users sort checkpoints into a few subfolders
        constexpr int AddedFolderDepth = 6;
        constexpr int FolderSizeDepth = 4; ///< a diffusers folder's files sit one or two levels down
        constexpr int MaxEntries = 20000; ///< per folder given: someone adding their home folder still gets an answer
        constexpr qint64 MaxModelIndexBytes = 64 * 1024; ///< real ones are under 1 KiB

        const QStringList& pickleSuffixes()
        {
            static const QStringList suffixes{u"ckpt"_s, u"pt"_s, u"pth"_s, u"bin"_s};
            return suffixes;
        }

        bool hasModelIndex(const QString& folder)
        {
            const QFileInfo index(folder + u"/model_index.json"_s);
            return index.isFile(); // follows symlinks: a Hugging Face snapshot links into blobs/
        }

        /// The pipeline a diffusers folder declares, when it is not SD 1.x's: empty when it is, or when
        /// model_index.json does not say (the worker then decides).
        QString pipelineProblem(const QString& folder)
        {
            QFile file(folder + u"/model_index.json"_s);
            if (file.size() > MaxModelIndexBytes || !file.open(QIODevice::ReadOnly)) {
                return {};
            }
            QJsonParseError error;
            const QJsonDocument document = QJsonDocument::fromJson(file.read(MaxModelIndexBytes), &error);
            if (error.error != QJsonParseError::NoError || !document.isObject()) {
                return u"%1 is not valid JSON: %2"_s.arg(file.fileName(), error.errorString());
            }
            const QString pipeline = document.object().value(u"_class_name"_s).toString();
            if (!pipeline.isEmpty() && pipeline != u"StableDiffusionPipeline") {
                return u"%1 is a %2 model; Atelier renders Stable Diffusion 1.x (StableDiffusionPipeline)"_s.arg(
                    folder, pipeline);
            }
            return {};
        }

        QString errnoText(int error)
        {
            return QString::fromLocal8Bit(std::strerror(error));
        }

        /// One discovery run: what was found, what was skipped, the folders entered.
        class Discovery
        {
        public:
            explicit Discovery(const std::atomic_bool* cancel)
                : m_cancel(cancel)
            { }

            bool isCanceled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }

            void scanHuggingFaceCache(const QString& cache);
            /// Looks in @p folder (4 or 6 levels down) for single-file checkpoints and, when @p diffusers, for
            /// diffusers folders. Names are paths below @p folder.
            void scanFolder(const QString& folder, DiscoveredModel::Source source, int maxDepth, bool diffusers);
            /// @p root given by the artist: its @p subfolder when it has one (a webui's models/Stable-diffusion), else
            /// the folder itself.
            QString resolveRoot(const QString& root, const QString& subfolder, const QString& what);

            ModelDiscoveryResult finish();

            /// Names @p folder, given as a @p what folder, as missing or not a folder.
            void skipMissing(const QString& folder, const QString& what);

        private:
            /// One folder given, being searched.
            struct Walk
            {
                QString base; ///< names are paths below it
                DiscoveredModel::Source source;
                int maxDepth;
                bool diffusers;
                int entries = 0;
                bool stopped = false; ///< MaxEntries reached
            };
            void walk(Walk& state, const QString& folder, int depth);
            void addModel(DiscoveredModel model);
            /// Whether @p folder can be listed; when not, says why in skipped.
            bool canList(const QString& folder);
            qint64 folderSize(const QString& folder);

            const std::atomic_bool* m_cancel;
            ModelDiscoveryResult m_result;
            QSet<QString> m_models; ///< canonical paths of the models listed
            QSet<QString> m_folders; ///< canonical paths of the folders entered
        };

        bool Discovery::canList(const QString& folder)
        {
            if (::access(QFile::encodeName(folder).constData(), R_OK | X_OK) != 0) {
                m_result.skipped.append(u"cannot read the folder %1: %2"_s.arg(folder, errnoText(errno)));
                return false;
            }
            return true;
        }

        void Discovery::addModel(DiscoveredModel model)
        {
            const QString canonical = QFileInfo(model.path).canonicalFilePath();
            const QString key = canonical.isEmpty() ? QFileInfo(model.path).absoluteFilePath() : canonical;
            if (m_models.contains(key)) {
                return;
            }
            m_models.insert(key);
            if (model.problem.isEmpty()) {
                model.problem = checkModelPath(model.path);
            }
            if (model.problem.isEmpty() && model.kind == DiscoveredModel::Kind::DiffusersFolder) {
                model.problem = pipelineProblem(model.path);
            }
            m_result.models.append(std::move(model));
        }

        qint64 Discovery::folderSize(const QString& folder)
        {
            qint64 size = 0;
            QSet<QString> counted;
            QList<std::pair<QString, int>> pending{{folder, 0}};
            int entries = 0;
            while (!pending.isEmpty() && !isCanceled()) {
                const auto [path, depth] = pending.takeLast();
                const QFileInfoList infos
                    = QDir(path).entryInfoList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
                for (const QFileInfo& info : infos) {
                    if (++entries > MaxEntries) {
                        return size;
                    }
                    // Links are followed (a Hugging Face snapshot is links into blobs/), and each file is counted
                    // once, however many links lead to it.
                    const QString canonical = info.canonicalFilePath();
                    if (canonical.isEmpty() || counted.contains(canonical)) {
                        continue;
                    }
                    counted.insert(canonical);
                    if (info.isDir()) {
                        if (depth < FolderSizeDepth) {
                            pending.append({info.filePath(), depth + 1});
                        }
                    } else if (info.isFile()) {
                        size += info.size();
                    }
                }
            }
            return size;
        }

        void Discovery::scanHuggingFaceCache(const QString& cache)
        {
            if (cache.isEmpty() || !QFileInfo(cache).isDir()) {
                return; // no cache is the usual case, not a problem
            }
            if (!canList(cache)) {
                return;
            }
            const QFileInfoList repositories
                = QDir(cache).entryInfoList({u"models--*"_s}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
            for (const QFileInfo& repository : repositories) {
                if (isCanceled()) {
                    return;
                }
                const QString snapshots = repository.filePath() + u"/snapshots"_s;
                if (!QFileInfo(snapshots).isDir() || !canList(snapshots)) {
                    continue;
                }
                QString revision;
                QFile ref(repository.filePath() + u"/refs/main"_s);
                if (ref.open(QIODevice::ReadOnly)) {
                    revision = QString::fromLatin1(ref.read(256)).trimmed();
                }
                QString chosen;
                QDateTime newest;
                for (const QFileInfo& snapshot :
                     QDir(snapshots).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
                    if (!hasModelIndex(snapshot.filePath())) {
                        continue; // not a diffusers model (a text encoder, a LoRA), or a download cut short
                    }
                    if (!revision.isEmpty() && snapshot.fileName() == revision) {
                        chosen = snapshot.filePath();
                        break;
                    }
                    if (chosen.isEmpty() || snapshot.lastModified() > newest) {
                        chosen = snapshot.filePath();
                        newest = snapshot.lastModified();
                    }
                }
                if (chosen.isEmpty()) {
                    continue;
                }
                DiscoveredModel model;
                model.path = chosen;
                // models--ORG--NAME; the hub forbids "--" inside names, so the split is exact.
                model.name = repository.fileName().mid(8).split(u"--"_s).join(u'/');
                model.kind = DiscoveredModel::Kind::DiffusersFolder;
                model.source = DiscoveredModel::Source::HuggingFaceCache;
                model.size = folderSize(chosen);
                addModel(std::move(model));
            }
        }

        void Discovery::skipMissing(const QString& folder, const QString& what)
        {
            const QFileInfo info(folder);
            m_result.skipped.append(info.exists() ? u"the %1 folder %2 is not a folder"_s.arg(what, folder)
                                                  : u"the %1 folder %2 does not exist"_s.arg(what, folder));
        }

        QString Discovery::resolveRoot(const QString& root, const QString& subfolder, const QString& what)
        {
            if (!QFileInfo(root).isDir()) {
                skipMissing(root, what);
                return {};
            }
            const QString models = QDir(root).filePath(subfolder);
            return QFileInfo(models).isDir() ? models : root;
        }

        void Discovery::scanFolder(const QString& folder, DiscoveredModel::Source source, int maxDepth, bool diffusers)
        {
            if (folder.isEmpty()) {
                return;
            }
            const QString base = QFileInfo(folder).absoluteFilePath();
            if (diffusers && hasModelIndex(base)) {
                DiscoveredModel model;
                model.path = base;
                model.name = QFileInfo(base).fileName();
                model.kind = DiscoveredModel::Kind::DiffusersFolder;
                model.source = source;
                model.size = folderSize(base);
                addModel(std::move(model));
                return;
            }
            Walk state{base, source, maxDepth, diffusers};
            walk(state, base, 0);
        }

        void Discovery::walk(Walk& state, const QString& folder, int depth)
        {
            // Entered once: a link to a folder above it ends here instead of looping.
            const QString canonical = QFileInfo(folder).canonicalFilePath();
            if (canonical.isEmpty() || m_folders.contains(canonical)) {
                return;
            }
            m_folders.insert(canonical);
            if (!canList(folder)) {
                return;
            }
            // System: broken symlinks are listed too, so that they can be named. Hidden entries are not listed.
            const QFileInfoList infos = QDir(folder).entryInfoList(
                QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System, QDir::Name | QDir::IgnoreCase);
            for (const QFileInfo& info : infos) {
                if (isCanceled() || state.stopped) {
                    return;
                }
                if (++state.entries > MaxEntries) {
                    m_result.skipped.append(
                        u"stopped looking in %1 after %2 files and folders"_s.arg(state.base).arg(MaxEntries));
                    state.stopped = true;
                    return;
                }
                if (info.isSymLink() && !info.exists()) {
                    m_result.skipped.append(u"%1 is a symbolic link to %2, which does not exist"_s.arg(
                        info.filePath(), info.symLinkTarget()));
                    continue;
                }
                const QString relative = QDir(state.base).relativeFilePath(info.filePath());
                if (info.isDir()) {
                    if (state.diffusers && hasModelIndex(info.filePath())) {
                        DiscoveredModel model;
                        model.path = info.filePath();
                        model.name = relative;
                        model.kind = DiscoveredModel::Kind::DiffusersFolder;
                        model.source = state.source;
                        model.size = folderSize(info.filePath());
                        addModel(std::move(model));
                    } else if (depth + 1 < state.maxDepth) {
                        walk(state, info.filePath(), depth + 1);
                    }
                    continue;
                }
                if (!info.isFile()) {
                    continue; // FIFOs, sockets, devices: never models, never opened
                }
                const QString suffix = info.suffix().toLower();
                const bool pickle = pickleSuffixes().contains(suffix);
                if (suffix != u"safetensors" && !pickle) {
                    continue;
                }
                DiscoveredModel model;
                model.path = info.filePath();
                model.name = relative.chopped(suffix.size() + 1);
                model.kind = DiscoveredModel::Kind::SingleFile;
                model.source = state.source;
                model.size = info.size();
                addModel(std::move(model)); // a pickle file gets checkModelPath()'s refusal, without being opened
            }
        }

        ModelDiscoveryResult Discovery::finish()
        {
            m_result.canceled = isCanceled();
            std::sort(m_result.models.begin(), m_result.models.end(),
                      [](const DiscoveredModel& a, const DiscoveredModel& b) {
                          const int byName = a.name.compare(b.name, Qt::CaseInsensitive);
                          return byName != 0 ? byName < 0 : a.path < b.path;
                      });
            return std::move(m_result);
        }
    } // namespace

    QString defaultHuggingFaceCache(const QProcessEnvironment& environment)
    {
        for (const QString& variable : {u"HF_HUB_CACHE"_s, u"HUGGINGFACE_HUB_CACHE"_s}) {
            if (const QString value = environment.value(variable); !value.isEmpty()) {
                return value;
            }
        }
        if (const QString home = environment.value(u"HF_HOME"_s); !home.isEmpty()) {
            return QDir(home).filePath(u"hub"_s);
        }
        if (const QString cache = environment.value(u"XDG_CACHE_HOME"_s); !cache.isEmpty()) {
            return QDir(cache).filePath(u"huggingface/hub"_s);
        }
        const QString home = environment.value(u"HOME"_s, QDir::homePath());
        return QDir(home).filePath(u".cache/huggingface/hub"_s);
    }

    ModelLocations ModelLocations::fromEnvironment(const QProcessEnvironment& environment)
    {
        ModelLocations locations;
        locations.huggingFaceCaches.append(defaultHuggingFaceCache(environment));
        const QDir home(environment.value(u"HOME"_s, QDir::homePath()));
        // Where their install guides clone them.
        if (const QString webui = home.filePath(u"stable-diffusion-webui"_s); QFileInfo(webui).isDir()) {
            locations.automatic1111Roots.append(webui);
        }
        if (const QString comfy = home.filePath(u"ComfyUI"_s); QFileInfo(comfy).isDir()) {
            locations.comfyUiRoots.append(comfy);
        }
        return locations;
    }

    ModelDiscoveryResult discoverModels(const ModelLocations& locations, const std::atomic_bool* cancel)
    {
        Discovery discovery(cancel);
        for (const QString& cache : locations.huggingFaceCaches) {
            discovery.scanHuggingFaceCache(cache);
        }
        for (const QString& root : locations.automatic1111Roots) {
            discovery.scanFolder(discovery.resolveRoot(root, u"models/Stable-diffusion"_s, u"AUTOMATIC1111"_s),
                                 DiscoveredModel::Source::Automatic1111, CheckpointDepth, false);
        }
        for (const QString& root : locations.comfyUiRoots) {
            const QString checkpoints = discovery.resolveRoot(root, u"models/checkpoints"_s, u"ComfyUI"_s);
            discovery.scanFolder(checkpoints, DiscoveredModel::Source::ComfyUi, CheckpointDepth, false);
            // ComfyUI keeps diffusers-format models apart, in models/diffusers.
            if (const QString diffusers = QDir(root).filePath(u"models/diffusers"_s);
                !checkpoints.isEmpty() && QFileInfo(diffusers).isDir()) {
                discovery.scanFolder(diffusers, DiscoveredModel::Source::ComfyUi, 2, true);
            }
        }
        for (const QString& folder : locations.extraFolders) {
            if (!QFileInfo(folder).isDir()) {
                discovery.skipMissing(folder, u"model"_s);
                continue;
            }
            discovery.scanFolder(folder, DiscoveredModel::Source::AddedFolder, AddedFolderDepth, true);
        }
        return discovery.finish();
    }

    QStringList ModelLocations::supportFolders(const QStringList& extra, const QString& atelierFolder,
                                               const QString& automatic1111Folder, const QString& comfyUiFolder) const
    {
        QStringList candidates = extra;
        candidates.append(
            QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(atelierFolder));
        // A root may be the install itself or its checkpoint folder (models/Stable-diffusion, models/checkpoints).
        const auto below = [&](const QStringList& roots, const QString& checkpoints, const QString& folder) {
            for (const QString& root : roots) {
                const QString clean = QDir::cleanPath(root);
                const QString install = clean.endsWith(checkpoints) ? QDir(clean).filePath(u"../.."_s) : clean;
                candidates.append(QDir(install).filePath(folder));
            }
        };
        below(automatic1111Roots, u"models/Stable-diffusion"_s, automatic1111Folder);
        below(comfyUiRoots, u"models/checkpoints"_s, comfyUiFolder);
        QStringList folders;
        for (const QString& candidate : std::as_const(candidates)) {
            const QString clean = QDir::cleanPath(QDir(candidate).absolutePath());
            if (QFileInfo(clean).isDir() && !folders.contains(clean)) {
                folders.append(clean);
            }
        }
        return folders;
    }

    QStringList ModelLocations::loraFolders(const QStringList& extra) const
    {
        return supportFolders(extra, u"loras"_s, u"models/Lora"_s, u"models/loras"_s);
    }

    QStringList ModelLocations::embeddingFolders(const QStringList& extra) const
    {
        return supportFolders(extra, u"embeddings"_s, u"embeddings"_s, u"models/embeddings"_s);
    }

    QStringList ModelLocations::vaeFolders(const QStringList& extra) const
    {
        return supportFolders(extra, u"vae"_s, u"models/VAE"_s, u"models/vae"_s);
    }
} // namespace Atelier
