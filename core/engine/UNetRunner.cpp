// SPDX-License-Identifier: GPL-3.0-or-later
#include "UNetRunner.h"

#include <algorithm>
#include <cstdio>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace Atelier::Engine
{
    struct UNetRunner::Graph
    {
        Key key;
#if ATELIER_ENGINE_CUDA
        at::cuda::CUDAGraph graph;
#endif
        // The static buffers the graph reads and writes; every replay goes through them.
        at::Tensor sample;
        at::Tensor timestep;
        at::Tensor context;
        at::Tensor output;
    };

    UNetRunner::UNetRunner(bool useCudaGraphs, std::size_t maxGraphs)
        : m_enabled(useCudaGraphs)
        , m_maxGraphs(std::max<std::size_t>(maxGraphs, 1))
    { }

    UNetRunner::~UNetRunner() = default;

    UNetRunner::Key UNetRunner::keyFor(const UNet& unet, const at::Tensor& sample, const at::Tensor& timestep,
                                       const at::Tensor& context)
    {
        // The UNet's address stands for its weights: a graph has them baked in. Every input's dtype counts, since
        // replay() copies into the captured buffers, and a copy converts: a fractional timestep copied into an int64
        // buffer was silently truncated (found by the CUDA parity run, 0.02 off the golden).
        Key key{static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(&unet)),
                static_cast<std::int64_t>(sample.scalar_type()),
                static_cast<std::int64_t>(timestep.scalar_type()),
                static_cast<std::int64_t>(context.scalar_type()),
                sample.get_device(),
                timestep.dim()};
        for (const at::Tensor* t : {&sample, &timestep, &context}) {
            key.insert(key.end(), t->sizes().begin(), t->sizes().end());
        }
        return key;
    }

    at::Tensor UNetRunner::replay(Graph& graph, const at::Tensor& sample, const at::Tensor& timestep,
                                  const at::Tensor& context)
    {
        graph.sample.copy_(sample);
        graph.timestep.copy_(timestep);
        graph.context.copy_(context);
#if ATELIER_ENGINE_CUDA
        graph.graph.replay();
#endif
        ++m_replays;
        // The next replay overwrites the output buffer, and multistep samplers keep earlier outputs.
        return graph.output.clone();
    }

    at::Tensor UNetRunner::forward(const UNet& unet, const at::Tensor& sample, const at::Tensor& timestep,
                                   const at::Tensor& context)
    {
        if (!m_enabled || !sample.is_cuda()) {
            return unet.forward(sample, timestep, context);
        }
#if ATELIER_ENGINE_CUDA
        // The UNet embeds timesteps in float32 whatever they arrive as, so integer and fractional timesteps (the
        // schedulers give both) can share one graph.
        const at::Tensor t = timestep.to(sample.device(), at::kFloat);
        const Key key = keyFor(unet, sample, t, context);
        if (std::find(m_failed.begin(), m_failed.end(), key) != m_failed.end()) {
            return unet.forward(sample, t, context);
        }
        for (auto it = m_graphs.begin(); it != m_graphs.end(); ++it) {
            if ((*it)->key == key) {
                m_graphs.splice(m_graphs.begin(), m_graphs, it);
                return replay(*m_graphs.front(), sample, t, context);
            }
        }

        auto graph = std::make_unique<Graph>();
        graph->key = key;
        try {
            graph->sample = sample.clone();
            graph->timestep = t.clone();
            graph->context = context.clone();
            // Capture on a side stream, after warm-up runs there: cuBLAS and cuDNN choose their algorithms and
            // allocate workspaces on first use, which must not happen inside the capture.
            c10::cuda::device_synchronize();
            const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
            {
                const c10::cuda::CUDAStreamGuard onSide(side);
                for (int i = 0; i < 2; ++i) {
                    unet.forward(graph->sample, graph->timestep, graph->context);
                }
                side.synchronize();
                // Thread-local capture: the worker's other threads never touch CUDA, but nothing they could do
                // should invalidate this capture either.
                if (m_pool == std::pair<unsigned long long, unsigned long long>{0, 0}) {
                    m_pool = at::cuda::graph_pool_handle();
                }
                graph->graph.capture_begin(m_pool, cudaStreamCaptureModeThreadLocal);
                try {
                    graph->output = unet.forward(graph->sample, graph->timestep, graph->context);
                } catch (...) {
                    // End the capture on the stream it began on, or the stream stays capturing and the caching
                    // allocator keeps routing this stream's allocations to the graph's pool.
                    try {
                        graph->graph.capture_end();
                    } catch (...) { }
                    throw;
                }
                graph->graph.capture_end();
            }
            c10::cuda::device_synchronize();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "atelier: no CUDA graph for this UNet shape (%s); running it eagerly\n", e.what());
            ++m_failures;
            m_failed.push_back(key);
            graph.reset();
            return unet.forward(sample, t, context);
        }
        if (m_graphs.size() >= m_maxGraphs) {
            m_graphs.pop_back();
        }
        m_graphs.push_front(std::move(graph));
        return replay(*m_graphs.front(), sample, t, context);
#else
        return unet.forward(sample, timestep, context);
#endif
    }
} // namespace Atelier::Engine
