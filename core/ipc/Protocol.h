// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QCborMap>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>
#include <variant>

namespace Atelier::Ipc
{
    /// Version of the coordinator–worker protocol; a worker announces it in Hello and the coordinator refuses
    /// any other.
    inline constexpr int ProtocolVersion = 6;
    /// Largest frame either side accepts: a preview image plus its envelope.
    inline constexpr quint32 MaxFrameSize = 1024 * 1024;
    /// Largest frame for every message but Preview.
    inline constexpr quint32 MaxControlFrameSize = 64 * 1024;
    /// Largest preview side in pixels; previews are thumbnails, not images.
    inline constexpr int MaxPreviewSide = 256;
    /// Most jobs one batch may hold.
    inline constexpr int MaxBatch = 64;
    /// Length of the per-worker secret a worker proves itself with.
    inline constexpr int TokenSize = 32;

    /// First message of every worker: who it is and what it can do.
    struct Hello
    {
        int protocolVersion = ProtocolVersion;
        QByteArray token; ///< the secret the coordinator put in the worker's environment
        int rank = 0;
        QString device; ///< "cpu", "cuda:1"
        QString deviceName; ///< "NVIDIA H100 80GB HBM3"
        qint64 pid = 0;
        QStringList capabilities; ///< e.g. "fp16", "bf16", "batch=8" (the most jobs it renders at once at 512×512)
        friend bool operator==(const Hello&, const Hello&) = default;
    };

    /// Coordinator → worker: render one image. Jobs sent back to back as one batch (same size, steps, sampler and
    /// guidance) carry their place in it; the worker renders them together once all have arrived.
    struct Job
    {
        qint64 jobId = 0;
        qint64 itemId = 0; ///< the queue item it renders (the provenance's queueItemId); the job id without a store
        int attempt = 1;
        QString prompt;
        QString negativePrompt;
        quint64 seed = 0;
        int steps = 20;
        double cfgScale = 7.5;
        int width = 512;
        int height = 512;
        QString scheduler;
        QString outputPath; ///< where the worker writes the PNG (atomically)
        int batchIndex = 0; ///< 0-based place in its batch
        int batchCount = 1; ///< jobs in its batch, 1..MaxBatch
        int clipSkip = 1; ///< RenderSettings::clipSkip
        QString initImage; ///< image to image: an absolute path; empty: text to image
        double denoisingStrength = 0; ///< RenderSettings::effectiveDenoisingStrength(); 0: none (text to image)
        double hiresScale = 1; ///< the hires fix: above 1 renders again at this scale; 1: off
        int hiresSteps = 0; ///< the second pass's steps; 0: the first pass's
        QString hiresUpscaler; ///< "Latent" or "Lanczos" when hiresScale is above 1
        QString vae; ///< a VAE's name (found in the worker's VAE folders) or path; empty: the worker's own choice
        friend bool operator==(const Job&, const Job&) = default;
    };

    /// Whether @p a and @p b may render in one batch: the same size, steps, sampler, guidance, clip skip, VAE,
    /// denoising strength and hires fix, and both image to image or neither (everything a batch shares; prompts, seeds
    /// and init images are per image).
    bool canShareBatch(const Job& a, const Job& b);

    struct Progress
    {
        qint64 jobId = 0;
        int step = 0;
        int total = 0;
        double iterationsPerSecond = 0;
        friend bool operator==(const Progress&, const Progress&) = default;
    };

    /// A small RGB thumbnail of the latents being denoised.
    struct Preview
    {
        qint64 jobId = 0;
        int width = 0;
        int height = 0;
        QByteArray rgb; ///< width × height × 3 bytes, row-major
        friend bool operator==(const Preview&, const Preview&) = default;
    };

    struct Result
    {
        qint64 jobId = 0;
        QString imagePath;
        QCborMap metadata; ///< provenance: timings, device, dtype, versions
        friend bool operator==(const Result&, const Result&) = default;
    };

    struct Error
    {
        qint64 jobId = -1; ///< -1: not about a job (e.g. the worker failed to start)
        /// machine-readable: "oom", "bad-job" (fails anywhere: no retry), "engine", "io", "exists" (the output name
        /// is taken: never replaced), "cancelled", "busy"; with jobId -1, "model" (it cannot work at all)
        QString code;
        QString message; ///< for people
        friend bool operator==(const Error&, const Error&) = default;
    };

    struct Cancel
    {
        qint64 jobId = 0;
        friend bool operator==(const Cancel&, const Cancel&) = default;
    };

    struct Shutdown
    {
        friend bool operator==(const Shutdown&, const Shutdown&) = default;
    };

    /// Worker → coordinator: the model is loaded; jobs may come. The coordinator sends none before, and gives up
    /// on a worker that does not get here within its model-loading deadline.
    struct Ready
    {
        friend bool operator==(const Ready&, const Ready&) = default;
    };

    struct Heartbeat
    {
        qint64 sentAtMs = 0; ///< sender's monotonic clock, for round-trip measurements
        /// Worker → coordinator: the memory it holds on its device (a GPU's reserved memory; on the CPU its
        /// resident size), and the device's total; 0 where unknown.
        qint64 memoryUsed = 0;
        qint64 memoryTotal = 0;
        friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
    };

    using Message = std::variant<Hello, Job, Progress, Preview, Result, Error, Cancel, Shutdown, Ready, Heartbeat>;

    /// The message's name on the wire ("hello", "job", …).
    QString messageType(const Message& message);

    /// Encodes @p message as one CBOR map, the payload of one frame (see encodeFrame).
    QByteArray encodeMessage(const Message& message);

    /// A decoded message, or why the payload is not one.
    struct DecodeResult
    {
        std::optional<Message> message;
        QString error;
    };

    /// Decodes and validates one frame's payload: a CBOR map with a known "type", every field of that type
    /// present with the right CBOR type and within range, nothing trailing. Never throws; a payload that is not a
    /// valid message gives an error sentence and the connection must be dropped.
    DecodeResult decodeMessage(QByteArrayView payload);
} // namespace Atelier::Ipc

Q_DECLARE_METATYPE(Atelier::Ipc::Hello)
