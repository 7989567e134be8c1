// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QMetaType>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <atomic>

namespace Atelier
{
    /// Where Stable Diffusion models are looked for. Each list may be empty; missing folders are skipped.
    struct ModelLocations
    {
        QStringList huggingFaceCaches; ///< hub cache folders holding `models--ORG--NAME/snapshots/REV/`
        /// AUTOMATIC1111 webui folders, or their `models/Stable-diffusion` folders themselves.
        QStringList automatic1111Roots;
        /// ComfyUI folders, or their `models/checkpoints` folders themselves.
        QStringList comfyUiRoots;
        /// Folders the artist added: diffusers folders and `.safetensors` files in them and below.
        QStringList extraFolders;

        /// The Hugging Face cache the environment names (defaultHuggingFaceCache()), and the AUTOMATIC1111 and
        /// ComfyUI folders of a default install in the home folder (`~/stable-diffusion-webui`, `~/ComfyUI`) when
        /// they exist.
        static ModelLocations fromEnvironment(const QProcessEnvironment& environment
                                              = QProcessEnvironment::systemEnvironment());
        /// Where LoRAs named by prompts (`<lora:NAME:W>`) are looked for, in this order: @p extra (the artist's own),
        /// Atelier's `loras` folder in its data folder, each AUTOMATIC1111 root's `models/Lora` and each ComfyUI root's
        /// `models/loras` (a root given as its checkpoint folder counts as well). Only folders that exist.
        QStringList loraFolders(const QStringList& extra = {}) const;
        /// Where textual-inversion embeddings are looked for, in this order: @p extra, Atelier's `embeddings` folder
        /// in its data folder, each AUTOMATIC1111 root's `embeddings` and each ComfyUI root's `models/embeddings`.
        /// Only folders that exist.
        QStringList embeddingFolders(const QStringList& extra = {}) const;
        /// Where VAEs named by queue items (`sd_vae`, an infotext's `VAE`) are looked for, in this order: @p extra,
        /// Atelier's `vae` folder in its data folder, each AUTOMATIC1111 root's `models/VAE` and each ComfyUI root's
        /// `models/vae`. Only folders that exist.
        QStringList vaeFolders(const QStringList& extra = {}) const;

        friend bool operator==(const ModelLocations&, const ModelLocations&) = default;

    private:
        QStringList supportFolders(const QStringList& extra, const QString& atelierFolder,
                                   const QString& automatic1111Folder, const QString& comfyUiFolder) const;
    };

    /// The Hugging Face hub cache as huggingface_hub finds it: `$HF_HUB_CACHE`, else the older
    /// `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
    /// `~/.cache/huggingface/hub`. The folder need not exist.
    QString defaultHuggingFaceCache(const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment());

    /// One model found on disk.
    struct DiscoveredModel
    {
        enum class Kind
        {
            DiffusersFolder, ///< a folder with model_index.json
            SingleFile ///< one checkpoint file (.safetensors; pickle files are listed, never opened)
        };
        enum class Source
        {
            HuggingFaceCache,
            Automatic1111,
            ComfyUi,
            AddedFolder
        };

        QString path; ///< absolute, as found (a Hugging Face model: its snapshot folder)
        QString name; ///< "ORG/NAME" from the Hugging Face cache; else the path below the folder searched
        Kind kind = Kind::SingleFile;
        Source source = Source::AddedFolder;
        qint64 size = 0; ///< bytes on disk (a folder: its files, symlinks followed, each file once)
        /// Why the model cannot be used (checkModelPath()'s refusal, or a pipeline that is not SD 1.x's); empty when
        /// it can.
        QString problem;

        bool isUsable() const { return problem.isEmpty(); }
        friend bool operator==(const DiscoveredModel&, const DiscoveredModel&) = default;
    };

    /// What discoverModels() found.
    struct ModelDiscoveryResult
    {
        QList<DiscoveredModel> models; ///< sorted by name (case-insensitive), then by path; each model once
        /// What was skipped and why, one sentence each naming the path: unreadable folders, broken symbolic links,
        /// missing folders the artist gave, searches cut short.
        QStringList skipped;
        bool canceled = false; ///< @p cancel was set: the lists hold what was found until then
    };

    /// Finds Stable Diffusion models in @p locations cheaply: folders are listed and files stat()ed; no weights are
    /// read (a `.safetensors` file's first 9 bytes through checkModelPath(), a `model_index.json` of at most 64 KiB).
    ///
    /// - Hugging Face cache: each `models--ORG--NAME` whose snapshot has `model_index.json` (a diffusers folder),
    ///   the snapshot `refs/main` names, else the newest one. Single files in the cache are not listed.
    /// - AUTOMATIC1111 / ComfyUI: `*.safetensors` in `models/Stable-diffusion` / `models/checkpoints` and their
    ///   subfolders, 4 levels deep; also diffusers folders in ComfyUI's `models/diffusers`.
    /// - Added folders: diffusers folders (not looked into further) and `*.safetensors` files, 6 levels deep.
    ///
    /// Pickle checkpoints (`.ckpt`, `.pt`, `.pth`, `.bin`) in those folders are listed with checkModelPath()'s
    /// refusal as their problem, never opened, so the artist sees why such a model is not offered. Symbolic links
    /// are followed, each folder is entered once (loops end), hidden entries are skipped, and a search stops after
    /// 20000 entries per folder given. Nothing throws: what cannot be read is named in `skipped`. Models found
    /// twice (through a link, or a folder given twice) are listed once, under the first source in the order above.
    ///
    /// Runs on any thread; set @p cancel to make it return early.
    ModelDiscoveryResult discoverModels(const ModelLocations& locations, const std::atomic_bool* cancel = nullptr);
} // namespace Atelier

Q_DECLARE_METATYPE(Atelier::DiscoveredModel)
Q_DECLARE_METATYPE(Atelier::ModelDiscoveryResult)
