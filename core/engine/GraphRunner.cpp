// SPDX-License-Identifier: GPL-3.0-or-later
#include "GraphRunner.h"

#include <algorithm>
#include <cstdio>
#include <map>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace Atelier::Engine
{
    struct GraphRunner::Graph
    {
        Key key;
#if ATELIER_ENGINE_CUDA
        at::cuda::CUDAGraph graph;
#endif
        // The static buffers the graph reads and writes; every replay goes through them.
        std::vector<at::Tensor> inputs;
        at::Tensor output;
    };

    struct GraphRunner::CaptureStreams
    {
#if ATELIER_ENGINE_CUDA
        std::map<c10::DeviceIndex, c10::cuda::CUDAStream> byDevice;
#endif
    };

    GraphRunner::GraphRunner(bool useCudaGraphs, std::size_t maxGraphs)
        : m_enabled(useCudaGraphs)
        , m_maxGraphs(std::max<std::size_t>(maxGraphs, 1))
        , m_streams(std::make_unique<CaptureStreams>())
    { }

    GraphRunner::~GraphRunner() = default;

    at::Tensor GraphRunner::forward(const UNet& unet, const at::Tensor& sample, const at::Tensor& timestep,
                                    const at::Tensor& context)
    {
        // The UNet embeds timesteps in float32 whatever they arrive as, so integer and fractional timesteps (the
        // schedulers give both) can share one graph.
        return run(&unet, {sample, timestep.to(sample.device(), at::kFloat), context},
                   [&unet](const std::vector<at::Tensor>& in) { return unet.forward(in[0], in[1], in[2]); });
    }

    at::Tensor GraphRunner::decode(const VaeDecoder& vae, const at::Tensor& latents)
    {
        return run(&vae, {latents}, [&vae](const std::vector<at::Tensor>& in) { return vae.decode(in[0]); });
    }

    at::Tensor GraphRunner::replay(Graph& graph, const std::vector<at::Tensor>& inputs)
    {
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            graph.inputs[i].copy_(inputs[i]);
        }
#if ATELIER_ENGINE_CUDA
        graph.graph.replay();
#endif
        ++m_replays;
        // The next replay of this graph overwrites the output buffer, and that of another may reuse its memory
        // (the shared pool); multistep samplers keep earlier outputs.
        return graph.output.clone();
    }

    at::Tensor GraphRunner::run(const void* module, const std::vector<at::Tensor>& inputs, const Pass& pass)
    {
        if (!m_enabled || !inputs.front().is_cuda()) {
            return pass(inputs);
        }
        // The module's address stands for its weights: a graph has them baked in. Every input's dtype counts, since
        // replay() copies into the captured buffers, and a copy converts: a fractional timestep copied into an int64
        // buffer was silently truncated (found by the CUDA parity run, 0.02 off the golden).
        Key key{static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(module)), inputs.front().get_device()};
        for (const at::Tensor& t : inputs) {
            key.push_back(static_cast<std::int64_t>(t.scalar_type()));
            key.push_back(t.dim());
            key.insert(key.end(), t.sizes().begin(), t.sizes().end());
        }
        if (std::find(m_failed.begin(), m_failed.end(), key) != m_failed.end()) {
            return pass(inputs);
        }
        for (auto it = m_graphs.begin(); it != m_graphs.end(); ++it) {
            if ((*it)->key == key) {
                m_graphs.splice(m_graphs.begin(), m_graphs, it);
                return replay(*m_graphs.front(), inputs);
            }
        }
#if ATELIER_ENGINE_CUDA
        auto graph = std::make_unique<Graph>();
        graph->key = key;
        try {
            for (const at::Tensor& t : inputs) {
                graph->inputs.push_back(t.clone());
            }
            // Capture on a side stream, after warm-up runs there: cuBLAS and cuDNN choose their algorithms and
            // allocate workspaces on first use, which must not happen inside the capture. Always the same stream for
            // this device: the shared pool's freed blocks are reused only by the stream that allocated them.
            const c10::DeviceIndex deviceIndex = inputs.front().device().index();
            const c10::cuda::CUDAGuard onDevice(deviceIndex);
            c10::cuda::device_synchronize();
            auto stream = m_streams->byDevice.find(deviceIndex);
            if (stream == m_streams->byDevice.end()) {
                stream
                    = m_streams->byDevice.emplace(deviceIndex, c10::cuda::getStreamFromPool(false, deviceIndex)).first;
            }
            const c10::cuda::CUDAStream side = stream->second;
            {
                const c10::cuda::CUDAStreamGuard onSide(side);
                for (int i = 0; i < 2; ++i) {
                    pass(graph->inputs);
                }
                side.synchronize();
                // The warm-up passes' activations sit cached in the ordinary pool, where the capture cannot use
                // them: give them back first, or a capture needs twice a pass's memory. This also drops a shared
                // pool that no graph holds any more.
                c10::cuda::CUDACachingAllocator::emptyCache();
                if (m_pool == std::pair<unsigned long long, unsigned long long>{0, 0}) {
                    m_pool = at::cuda::graph_pool_handle();
                }
                // Thread-local capture: the worker's other threads never touch CUDA, but nothing they could do
                // should invalidate this capture either.
                graph->graph.capture_begin(m_pool, cudaStreamCaptureModeThreadLocal);
                try {
                    graph->output = pass(graph->inputs);
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
            std::fprintf(stderr, "atelier: no CUDA graph for this shape (%s); running it eagerly\n", e.what());
            ++m_failures;
            m_failed.push_back(key);
            graph.reset();
            if (m_graphs.empty()) {
                // The failed graph was the pool's only holder, and a released pool's id cannot be captured into
                // again: the next capture starts a new one.
                m_pool = {0, 0};
            }
            return pass(inputs);
        }
        if (m_graphs.size() >= m_maxGraphs) {
            m_graphs.pop_back();
        }
        m_graphs.push_front(std::move(graph));
        return replay(*m_graphs.front(), inputs);
#else
        return pass(inputs);
#endif
    }
} // namespace Atelier::Engine
