// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <utility>
#include <vector>

#include "UNet.h"
#include "Vae.h"

namespace Atelier::Engine
{
    /// Runs the UNet's forward pass and the VAE's decode, on CUDA as replayed CUDA graphs.
    ///
    /// The first call for a new input shape (batch, latent size, prompt tokens, dtype) records one pass into a graph
    /// with static input and output buffers; later calls copy their inputs in and replay it. At SD 1.x sizes a UNet
    /// pass is some 900 kernels, and a replay launches them without a host round trip each, which is what lets
    /// small batches keep the GPU busy. A shape whose capture fails (too little memory, an operation that waits for
    /// the host) runs eagerly from then on; results are the same either way. On the CPU, or when constructed
    /// disabled, forward() is UNet::forward and decode() is VaeDecoder::decode.
    ///
    /// Not thread-safe: one per engine thread. At most @p maxGraphs shapes are kept, least recently used first out.
    /// All of a runner's graphs share one memory pool, and all are captured on one stream (the caching allocator
    /// reuses a pool's free blocks only for the stream that allocated them), so their activations take the largest
    /// graph's memory, not the sum: a worker that renders batches of 8, then the queue's last 3, then one image at
    /// another size, and decodes each image in between, holds one pool, as large as the largest of those passes.
    /// That is safe because a runner replays one graph at a time, on the caller's stream, and copies each output
    /// out before the next replay: nothing in the pool has to outlive another graph's replay.
    class GraphRunner
    {
    public:
        explicit GraphRunner(bool useCudaGraphs = true, std::size_t maxGraphs = 6);
        ~GraphRunner();
        GraphRunner(const GraphRunner&) = delete;
        GraphRunner& operator=(const GraphRunner&) = delete;

        /// The UNet's output for these inputs (see UNet::forward); a tensor of its own, never a graph's buffer.
        at::Tensor forward(const UNet& unet, const at::Tensor& sample, const at::Tensor& timestep,
                           const at::Tensor& context);
        /// @p vae's decode of @p latents (see VaeDecoder::decode); a tensor of its own.
        at::Tensor decode(const VaeDecoder& vae, const at::Tensor& latents);

        bool usesCudaGraphs() const { return m_enabled; }
        std::size_t graphCount() const { return m_graphs.size(); }
        std::size_t replays() const { return m_replays; }
        std::size_t captureFailures() const { return m_failures; }

    private:
        struct Graph;
        using Key = std::vector<std::int64_t>;
        using Pass = std::function<at::Tensor(const std::vector<at::Tensor>&)>;

        /// @p module (the UNet or VAE, whose weights a graph has baked in) run as @p pass on @p inputs.
        at::Tensor run(const void* module, const std::vector<at::Tensor>& inputs, const Pass& pass);
        at::Tensor replay(Graph& graph, const std::vector<at::Tensor>& inputs);

        bool m_enabled;
        std::size_t m_maxGraphs;
        std::list<std::unique_ptr<Graph>> m_graphs; ///< most recently used first
        std::vector<Key> m_failed;
        std::size_t m_replays = 0;
        std::size_t m_failures = 0;
        /// The graphs' shared memory pool (a CUDA MempoolId_t); {0, 0} until the first capture, and again after
        /// a failed capture has left no graph holding it.
        std::pair<unsigned long long, unsigned long long> m_pool{0, 0};
        /// Per CUDA device, the stream every capture of this runner runs on (a c10::cuda::CUDAStream, kept opaque so
        /// that this header needs no CUDA one).
        struct CaptureStreams;
        std::unique_ptr<CaptureStreams> m_streams;
    };
} // namespace Atelier::Engine
