// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <utility>
#include <vector>

#include "UNet.h"

namespace Atelier::Engine
{
    /// Runs a UNet forward pass, on CUDA as a replayed CUDA graph.
    ///
    /// The first call for a new input shape (batch, latent size, prompt tokens, dtype) records one forward pass
    /// into a graph with static input and output buffers; later calls copy their inputs in and replay it. At
    /// SD 1.x sizes a forward pass is some 900 kernels, and a replay launches them without a host round trip
    /// each, which is what lets small batches keep the GPU busy. A shape whose capture fails (too little memory,
    /// an operation that waits for the host) runs eagerly from then on; results are the same either way.
    /// On the CPU, or when constructed disabled, forward() is UNet::forward.
    ///
    /// Not thread-safe: one per engine thread. At most @p maxGraphs shapes are kept, least recently used first out.
    /// All of a runner's graphs share one memory pool, so their activations take the largest shape's memory, not
    /// the sum over shapes: a worker that renders batches of 8, then the queue's last 3, then one image at another
    /// size holds one pool. That is safe because a runner never replays two graphs at once and copies each output
    /// out before the next replay.
    class UNetRunner
    {
    public:
        explicit UNetRunner(bool useCudaGraphs = true, std::size_t maxGraphs = 4);
        ~UNetRunner();
        UNetRunner(const UNetRunner&) = delete;
        UNetRunner& operator=(const UNetRunner&) = delete;

        /// The UNet's output for these inputs (see UNet::forward); a tensor of its own, never a graph's buffer.
        at::Tensor forward(const UNet& unet, const at::Tensor& sample, const at::Tensor& timestep,
                           const at::Tensor& context);

        bool usesCudaGraphs() const { return m_enabled; }
        std::size_t graphCount() const { return m_graphs.size(); }
        std::size_t replays() const { return m_replays; }
        std::size_t captureFailures() const { return m_failures; }

    private:
        struct Graph;
        using Key = std::vector<std::int64_t>;

        static Key keyFor(const UNet& unet, const at::Tensor& sample, const at::Tensor& timestep,
                          const at::Tensor& context);
        at::Tensor replay(Graph& graph, const at::Tensor& sample, const at::Tensor& timestep,
                          const at::Tensor& context);

        bool m_enabled;
        std::size_t m_maxGraphs;
        std::list<std::unique_ptr<Graph>> m_graphs; ///< most recently used first
        std::vector<Key> m_failed;
        std::size_t m_replays = 0;
        std::size_t m_failures = 0;
        /// The graphs' shared memory pool (a CUDA MempoolId_t); {0, 0} until the first capture.
        std::pair<unsigned long long, unsigned long long> m_pool{0, 0};
    };
} // namespace Atelier::Engine
