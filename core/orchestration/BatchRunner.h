// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

#include <optional>

#include "render/Precision.h"
#include "render/RenderSettings.h"

namespace Atelier
{
    /// What `atelier --batch FILE …` was asked to do. Values given here are defaults; values in the file win.
    struct BatchOptions
    {
        QString file;
        QString workerProgram;
        QString modelPath; ///< empty: the embedded model
        /// --vae-dir: VAE folders searched first, before ModelLocations::vaeFolders()'s usual ones. (--vae itself is
        /// defaults.vae, as every item may name its own.)
        QStringList vaeFolders;
        /// --lora-dir: LoRA folders searched first, before ModelLocations::loraFolders()'s usual ones.
        QStringList loraFolders;
        /// --lora NAME[:WEIGHT]: LoRAs every item renders with, added to each prompt as A1111 tags (so that the
        /// images' infotexts name them).
        QStringList loras;
        /// --embeddings-dir: textual-inversion folders searched first, before ModelLocations::embeddingFolders()'s.
        QStringList embeddingFolders;
        QString devices = QStringLiteral("cpu"); ///< "cpu", "cuda:0,cuda:1", "cpu,cpu" or "all"
        QString outputDirectory = QStringLiteral("atelier-output");
        /// --steps, --cfg, --width, --height, --scheduler, --clip-skip, --vae, --init-image, --strength, --hires-*
        /// (checked by the caller)
        RenderSettings defaults;
        Precision precision = Precision::Auto; ///< --dtype, resolved per device
        std::optional<quint64> seed; ///< base seed for prompts without one
        int threadsPerWorker = 0;
        bool json = false; ///< one JSON object per event on stdout
        bool strict = false; ///< any problem in the file: render nothing
        /// Continue the last interrupted run of this file into this folder: its images already written are kept, the
        /// rest (and the file's new items) rendered, none twice.
        bool resume = false;
        /// --shard K/N (shards > 0): render only the K-th of N static shards of the file, for SLURM job arrays.
        /// The shards agree on one plan in the output folder (FarmFolder) and commit images first-writer-wins;
        /// the folder is the record, so no queue store is used, and running a shard again makes what it lacks.
        int shard = 0;
        int shards = 0;
        QString storePath; ///< the durable queue; empty: defaultQueueStorePath()
        /// The image library each image is indexed in, for the window's gallery; empty: defaultImageLibraryPath();
        /// "-": none.
        QString libraryPath;
    };

    /// Runs a prompt file headless: imports it, checks everything that can be checked before a worker starts (the
    /// devices and their precision, the model path, a writable output folder, at least one prompt), starts one
    /// worker per device through the Coordinator, reports progress (a live display on a terminal, log lines
    /// otherwise, JSON events with --json) and ends with a summary. SIGINT or SIGTERM stops cleanly within 10 s in
    /// every state: running jobs are cancelled, workers stopped (killed if they do not go), nothing half-written is
    /// left, and what was not made is listed; a second SIGINT kills the workers at once. Returns the exit code: 0
    /// only when every prompt produced its image; 1 when some did not; 2 for bad options or a file with nothing to
    /// render; 130 after SIGINT, 143 after SIGTERM. Needs a QCoreApplication.
    ///
    /// The run's items live in the durable queue (QueueStore, queue "batch:<run id>") and a manifest in the output
    /// folder (`.atelier-runs/<run id>.json`: the file, the store, one content key per item) ties the folder to
    /// them, so that `--resume` finds them again after a crash, a kill or an interrupt.
    int runBatch(const BatchOptions& options);

    /// `atelier farm serve FILE`'s own options; the rest are --batch's (BatchOptions).
    struct FarmServeOptions
    {
        QString listen; ///< --listen HOST:PORT; empty: this host's cluster address, any free port
        int leaseTimeoutMs = 15000; ///< --lease-timeout: a worker silent this long loses its image to another
        int maxAttempts = 3; ///< renders an item gets (lost workers included) before it fails
    };

    /// `atelier farm serve FILE --out SHARED_DIR`: imports and checks the file as --batch does, publishes the run's
    /// plan and token in the shared folder (or finds them there: serving the same file again continues the run),
    /// then becomes the farm's coordinator (`atelier-worker farm-host`, which hosts the c10d store and shows the
    /// run as --batch would). Returns only when that cannot start: 2 for bad options or a file with nothing to
    /// render. See docs/FARM.md.
    int runFarmServe(const BatchOptions& options, const FarmServeOptions& farm);

    /// The devices `--devices` names: "all" is every CUDA device the worker sees, or the CPU when there is none.
    /// Returns an empty list and sets @p error when the list is unusable.
    QStringList resolveDevices(const QString& devices, const QString& workerProgram, QString* error);
} // namespace Atelier
