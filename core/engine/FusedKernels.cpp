// SPDX-License-Identifier: GPL-3.0-or-later
#include "FusedKernels.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <utility>
#include <vector>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include "EngineError.h"
#include "cuda/EngineKernels.h"
#endif

namespace Atelier::Engine
{
    namespace
    {
        constexpr std::array<std::pair<std::string_view, FusedKernel>, 5> KernelNames{{
            {"groupnorm", FusedKernel::GroupNorm},
            {"geglu", FusedKernel::Geglu},
            {"normoffset", FusedKernel::NormOffset},
            {"biasresidual", FusedKernel::BiasResidual},
            {"layernorm", FusedKernel::LayerNorm},
        }};

        // All five passed every case of atelier-kernel-check on the H200 of docs/PERFORMANCE.md (2026-11-28), and
        // each pays there: GroupNorm and GEGLU 1.56x the images/s at batch 8; left out alone, the norm offset
        // costs 2 % and LayerNorm 4 % of it, bias+residual with the norm offset 6 %.
        constexpr FusedKernelSet BuiltInSet = AllFusedKernels;

        /// The built-in set, or ATELIER_FUSED_KERNELS when it names one: a way to switch a kernel off on a machine
        /// where it misbehaves without a rebuild (and what scripts/gpu-check does with a kernel that fails its
        /// check).
        FusedKernelSet initialSet()
        {
            const char* text = std::getenv("ATELIER_FUSED_KERNELS");
            if (text == nullptr || *text == '\0') {
                return BuiltInSet;
            }
            const std::string_view value(text);
            if (value == "default") {
                return BuiltInSet;
            }
            return parseFusedKernels(value).value_or(BuiltInSet);
        }

        const FusedKernelSet DefaultSet = initialSet();

        std::atomic<FusedKernelSet> g_fusedKernels{DefaultSet};

#if ATELIER_ENGINE_CUDA
        /// Whether the kernels have code for CUDA device @p device, asked once per device.
        bool kernelsRunOn(c10::DeviceIndex device)
        {
            static std::array<std::atomic<int>, 64> known{}; // 0 not asked yet, 1 yes, 2 no
            if (device < 0 || static_cast<std::size_t>(device) >= known.size()) {
                return false;
            }
            int state = known[static_cast<std::size_t>(device)].load();
            if (state == 0) {
                const c10::cuda::CUDAGuard guard(device);
                state = Kernels::kernelsRunOnCurrentDevice() ? 1 : 2;
                known[static_cast<std::size_t>(device)].store(state);
            }
            return state == 1;
        }

        /// Whether @p t's data suits the kernels' two-value loads and stores.
        bool pairAligned(const at::Tensor& t)
        {
            return reinterpret_cast<std::uintptr_t>(t.const_data_ptr()) % 4 == 0;
        }

        /// The kernels' element type for @p t, when @p kernel is on and @p t is a 4-byte aligned fp16 or bf16 tensor
        /// on a CUDA device the kernels were compiled for (every kernel moves two values at a time); std::nullopt
        /// otherwise, and LibTorch's kernels run.
        std::optional<Kernels::HalfType> kernelTypeOf(FusedKernel kernel, const at::Tensor& t)
        {
            if (!fusedKernelEnabled(kernel) || !t.defined() || !t.is_cuda() || !pairAligned(t)
                || !kernelsRunOn(t.get_device())) {
                return std::nullopt;
            }
            switch (t.scalar_type()) {
            case at::kHalf:
                return Kernels::HalfType::Float16;
            case at::kBFloat16:
                return Kernels::HalfType::BFloat16;
            default:
                return std::nullopt;
            }
        }

        /// Whether @p p is a dense vector of @p size values of @p x's dtype on @p x's device (gamma, beta, offsets).
        bool isParameterFor(const at::Tensor& p, const at::Tensor& x, std::int64_t size)
        {
            return p.defined() && p.scalar_type() == x.scalar_type() && p.device() == x.device() && p.is_contiguous()
                && p.numel() == size && pairAligned(p);
        }

        void* streamOf(const at::Tensor& t)
        {
            return at::cuda::getCurrentCUDAStream(t.get_device()).stream();
        }

        void checkLaunch(const char* kernel, int status)
        {
            if (status != 0) {
                throw EngineError(std::string("the fused ") + kernel + " kernel failed to launch: "
                                  + cudaGetErrorString(static_cast<cudaError_t>(status)));
            }
        }

        /// A channels-last 4-D tensor, or a dense one whose last dimension is the channels: rows × channels as laid
        /// out in memory. std::nullopt for other layouts.
        std::optional<std::pair<std::int64_t, std::int64_t>> rowsAndChannels(const at::Tensor& t)
        {
            if (t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast)) {
                return std::pair{t.size(0) * t.size(2) * t.size(3), t.size(1)};
            }
            if (t.dim() >= 1 && t.dim() != 4 && t.is_contiguous() && t.numel() > 0) {
                return std::pair{t.numel() / t.size(-1), t.size(-1)};
            }
            return std::nullopt;
        }
#endif
    } // namespace

    FusedKernelSet defaultFusedKernels()
    {
        return DefaultSet;
    }

    std::optional<FusedKernelSet> parseFusedKernels(std::string_view text)
    {
        if (text == "default") {
            return defaultFusedKernels();
        }
        if (text == "on" || text == "all" || text == "1") {
            return AllFusedKernels;
        }
        if (text == "off" || text == "none" || text == "0") {
            return FusedKernelSet{0};
        }
        FusedKernelSet set = 0;
        for (;;) {
            const std::size_t comma = text.find(',');
            const std::string_view name = text.substr(0, comma);
            const auto* known = std::find_if(KernelNames.begin(), KernelNames.end(),
                                             [&](const auto& entry) { return entry.first == name; });
            if (known == KernelNames.end()) {
                return std::nullopt; // also an empty name: "", "a,,b", "a,"
            }
            set |= static_cast<FusedKernelSet>(known->second);
            if (comma == std::string_view::npos) {
                break;
            }
            text.remove_prefix(comma + 1);
        }
        return set;
    }

    std::string fusedKernelsName(FusedKernelSet set)
    {
        std::string name;
        for (const auto& [kernelName, kernel] : KernelNames) {
            if ((set & static_cast<FusedKernelSet>(kernel)) != 0) {
                if (!name.empty()) {
                    name += ',';
                }
                name.append(kernelName);
            }
        }
        return name.empty() ? "none" : name;
    }

    bool fusedKernelsBuilt()
    {
        return ATELIER_ENGINE_CUDA != 0;
    }

    bool fusedKernelsRunOn([[maybe_unused]] at::Device device)
    {
#if ATELIER_ENGINE_CUDA
        return device.is_cuda() && kernelsRunOn(device.has_index() ? device.index() : c10::cuda::current_device());
#else
        return false;
#endif
    }

    void setFusedKernels(FusedKernelSet set)
    {
        g_fusedKernels.store(set & AllFusedKernels);
    }

    FusedKernelSet fusedKernels()
    {
        return fusedKernelsBuilt() ? g_fusedKernels.load() : 0;
    }

    bool fusedKernelEnabled(FusedKernel kernel)
    {
        return (fusedKernels() & static_cast<FusedKernelSet>(kernel)) != 0;
    }

    std::optional<at::Tensor> fusedGroupNorm([[maybe_unused]] const at::Tensor& x, [[maybe_unused]] std::int64_t groups,
                                             [[maybe_unused]] const at::Tensor& gamma,
                                             [[maybe_unused]] const at::Tensor& beta, [[maybe_unused]] double eps,
                                             [[maybe_unused]] bool silu, [[maybe_unused]] const at::Tensor& offset)
    {
#if ATELIER_ENGINE_CUDA
        const std::optional<Kernels::HalfType> type = kernelTypeOf(FusedKernel::GroupNorm, x);
        if (!type || x.dim() != 4 || !x.is_contiguous(at::MemoryFormat::ChannelsLast)) {
            return std::nullopt;
        }
        const Kernels::GroupNormShape shape{x.size(0), x.size(2) * x.size(3), x.size(1), groups};
        if (!Kernels::groupNormNhwcSupports(shape) || !isParameterFor(gamma, x, shape.channels)
            || !isParameterFor(beta, x, shape.channels)) {
            return std::nullopt;
        }
        std::int64_t offsetImageStride = 0;
        if (offset.defined()) {
            // [C] for every image, or [N, C] per image.
            const bool perImage = offset.dim() == 2 && offset.size(0) == shape.batch;
            if (!fusedKernelEnabled(FusedKernel::NormOffset) || (offset.dim() != 1 && !perImage)
                || !isParameterFor(offset, x, perImage ? shape.batch * shape.channels : shape.channels)) {
                return std::nullopt;
            }
            offsetImageStride = perImage ? shape.channels : 0;
        }
        // The launch goes to the current device, which must be x's for x's stream.
        const c10::cuda::CUDAGuard guard(x.device());
        at::Tensor y = at::empty_like(x, at::MemoryFormat::ChannelsLast);
        at::Tensor workspace = at::empty({static_cast<std::int64_t>(Kernels::groupNormWorkspaceFloats(shape))},
                                         x.options().dtype(at::kFloat));
        checkLaunch("GroupNorm",
                    Kernels::launchGroupNormNhwc(
                        *type, x.const_data_ptr(), y.mutable_data_ptr(), gamma.const_data_ptr(), beta.const_data_ptr(),
                        offset.defined() ? offset.const_data_ptr() : nullptr, offsetImageStride,
                        workspace.mutable_data_ptr<float>(), shape, static_cast<float>(eps), silu, streamOf(x)));
        return y;
#else
        return std::nullopt;
#endif
    }

    std::optional<at::Tensor> fusedGeglu([[maybe_unused]] const at::Tensor& projected)
    {
#if ATELIER_ENGINE_CUDA
        const std::optional<Kernels::HalfType> type = kernelTypeOf(FusedKernel::Geglu, projected);
        if (!type || projected.dim() < 1 || !projected.is_contiguous() || projected.size(-1) % 2 != 0
            || projected.numel() == 0) {
            return std::nullopt;
        }
        const std::int64_t width = projected.size(-1) / 2;
        const std::int64_t rows = projected.numel() / projected.size(-1);
        if (!Kernels::gegluSupports(rows, width)) {
            return std::nullopt;
        }
        std::vector<std::int64_t> shape = projected.sizes().vec();
        shape.back() = width;
        const c10::cuda::CUDAGuard guard(projected.device());
        at::Tensor y = at::empty(shape, projected.options());
        checkLaunch("GEGLU",
                    Kernels::launchGeglu(*type, projected.const_data_ptr(), y.mutable_data_ptr(), rows, width,
                                         streamOf(projected)));
        return y;
#else
        return std::nullopt;
#endif
    }

    bool fusedBiasResidual([[maybe_unused]] at::Tensor& y, [[maybe_unused]] const at::Tensor& bias,
                           [[maybe_unused]] const at::Tensor& residual)
    {
#if ATELIER_ENGINE_CUDA
        const std::optional<Kernels::HalfType> type = kernelTypeOf(FusedKernel::BiasResidual, y);
        const auto shape = type ? rowsAndChannels(y) : std::nullopt;
        if (!shape || !Kernels::biasResidualSupports(shape->first, shape->second) || !bias.defined()
            || bias.scalar_type() != at::kFloat || bias.device() != y.device() || !bias.is_contiguous()
            || bias.numel() != shape->second) {
            return false;
        }
        if (residual.defined()
            && (residual.scalar_type() != y.scalar_type() || residual.device() != y.device()
                || residual.sizes() != y.sizes() || residual.strides() != y.strides() || !pairAligned(residual))) {
            return false;
        }
        const c10::cuda::CUDAGuard guard(y.device());
        checkLaunch("bias and residual",
                    Kernels::launchBiasResidual(*type, y.mutable_data_ptr(), bias.const_data_ptr<float>(),
                                                residual.defined() ? residual.const_data_ptr() : nullptr, shape->first,
                                                shape->second, streamOf(y)));
        return true;
#else
        return false;
#endif
    }

    std::optional<at::Tensor> fusedLayerNorm([[maybe_unused]] const at::Tensor& x,
                                             [[maybe_unused]] const at::Tensor& gamma,
                                             [[maybe_unused]] const at::Tensor& beta, [[maybe_unused]] double eps)
    {
#if ATELIER_ENGINE_CUDA
        const std::optional<Kernels::HalfType> type = kernelTypeOf(FusedKernel::LayerNorm, x);
        if (!type || x.dim() < 1 || !x.is_contiguous() || x.numel() == 0) {
            return std::nullopt;
        }
        const std::int64_t width = x.size(-1);
        const std::int64_t rows = x.numel() / width;
        if (!Kernels::layerNormSupports(rows, width) || !isParameterFor(gamma, x, width)
            || !isParameterFor(beta, x, width)) {
            return std::nullopt;
        }
        const c10::cuda::CUDAGuard guard(x.device());
        at::Tensor y = at::empty_like(x);
        checkLaunch("LayerNorm",
                    Kernels::launchLayerNorm(*type, x.const_data_ptr(), y.mutable_data_ptr(), gamma.const_data_ptr(),
                                             beta.const_data_ptr(), rows, width, static_cast<float>(eps), streamOf(x)));
        return y;
#else
        return std::nullopt;
#endif
    }
} // namespace Atelier::Engine
