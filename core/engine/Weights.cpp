// SPDX-License-Identifier: GPL-3.0-or-later
#include "Weights.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/thnn_conv2d.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <sstream>

#include "EngineError.h"
#include "FusedKernels.h"
#include "Safetensors.h"

namespace Atelier::Engine
{
    namespace
    {
        std::string shapeText(const std::vector<std::int64_t>& shape)
        {
            std::ostringstream out;
            out << '[';
            for (std::size_t i = 0; i < shape.size(); ++i) {
                out << (i ? ", " : "") << shape[i];
            }
            out << ']';
            return out.str();
        }
    } // namespace

    namespace
    {
        class SafetensorsWeights final : public WeightProvider
        {
        public:
            explicit SafetensorsWeights(std::shared_ptr<const SafetensorsFile> file)
                : m_file(std::move(file))
            { }

            at::Tensor load(const std::string& key, const std::vector<std::int64_t>& shape) const override
            {
                const SafetensorsTensorInfo* info = m_file->find(key);
                if (!info) {
                    throw EngineError(m_file->path().string() + ": the model has no weight \"" + key + "\"");
                }
                // Single-file (LDM) checkpoints store the VAE's attention projections as 1×1 convolutions,
                // [o, i, 1, 1], where diffusers has Linear layers, [o, i]. Both hold the same o·i numbers in the same
                // order, so such a weight is a reshaped view of the stored one, with no copy and no conversion step.
                const bool pointwiseConv = shape.size() == 2 && info->shape.size() == 4 && info->shape[0] == shape[0]
                    && info->shape[1] == shape[1] && info->shape[2] == 1 && info->shape[3] == 1;
                if (info->shape != shape && !pointwiseConv) {
                    throw EngineError(m_file->path().string() + ": weight \"" + key + "\" has shape "
                                      + shapeText(info->shape) + " but the model's configuration needs "
                                      + shapeText(shape));
                }
                const at::Tensor stored = m_file->tensor(key);
                return pointwiseConv ? stored.view(shape) : stored;
            }

        private:
            std::shared_ptr<const SafetensorsFile> m_file;
        };
    } // namespace

    std::shared_ptr<const WeightProvider> weightsFrom(std::shared_ptr<const SafetensorsFile> file)
    {
        return std::make_shared<const SafetensorsWeights>(std::move(file));
    }

    RandomWeights::RandomWeights(std::uint64_t seed)
        : m_generator(at::make_generator<at::CPUGeneratorImpl>(seed))
    { }

    at::Tensor RandomWeights::load(const std::string& key, const std::vector<std::int64_t>& shape) const
    {
        const auto options = at::TensorOptions().dtype(at::kFloat);
        const bool isBias = key.size() >= 5 && key.compare(key.size() - 5, 5, ".bias") == 0;
        at::Tensor tensor;
        if (isBias) {
            tensor = at::zeros(shape, options);
        } else if (shape.size() == 1) {
            tensor = at::ones(shape, options); // the scale of a GroupNorm or LayerNorm
        } else if (key.find("embedding") != std::string::npos) {
            tensor = at::randn(shape, m_generator, options) * 0.02;
        } else {
            std::int64_t fanIn = 1;
            for (std::size_t i = 1; i < shape.size(); ++i) {
                fanIn *= shape[i];
            }
            tensor = at::randn(shape, m_generator, options) / std::sqrt(static_cast<double>(fanIn));
        }
        m_made.emplace_back(key, tensor);
        return tensor;
    }

    WeightSource::WeightSource(std::shared_ptr<const WeightProvider> provider, std::string prefix,
                               at::TensorOptions options, KeyMap keyMap)
        : m_provider(std::move(provider))
        , m_prefix(std::move(prefix))
        , m_options(options)
        , m_keyMap(std::move(keyMap))
    { }

    WeightSource::WeightSource(std::shared_ptr<const SafetensorsFile> file, std::string prefix,
                               at::TensorOptions options, KeyMap keyMap)
        : WeightSource(weightsFrom(std::move(file)), std::move(prefix), options, std::move(keyMap))
    { }

    at::Tensor WeightSource::load(const std::string& name, std::vector<std::int64_t> shape) const
    {
        const std::string full = m_prefix + name;
        // .to() copies out of a file's mapping only when the dtype or device changes; same-type CPU weights stay
        // views of the file.
        return m_provider->load(m_keyMap ? m_keyMap(full) : full, shape).to(m_options);
    }

    WeightSource WeightSource::sub(const std::string& child) const
    {
        // A copy, so that every setting (dtype, device, key map, layout) carries over to the child.
        WeightSource source = *this;
        source.m_prefix += child + ".";
        return source;
    }

    WeightSource WeightSource::withChannelsLast(bool channelsLast) const
    {
        WeightSource copy = *this;
        copy.m_channelsLast = channelsLast;
        return copy;
    }

    WeightSource WeightSource::withRegistry(std::shared_ptr<WeightRegistry> registry,
                                            const std::string& component) const
    {
        WeightSource copy = *this;
        copy.m_registry = std::move(registry);
        copy.m_registryPrefix = component + ".";
        copy.m_registryCut = m_prefix.size();
        return copy;
    }

    void WeightSource::record(const std::string& name, const at::Tensor& tensor) const
    {
        if (m_registry) {
            m_registry->add(m_registryPrefix + m_prefix.substr(m_registryCut) + name, tensor);
        }
    }

    void WeightRegistry::add(const std::string& name, const at::Tensor& tensor)
    {
        m_tensors.insert_or_assign(name, tensor);
    }

    const at::Tensor* WeightRegistry::find(const std::string& name) const
    {
        const auto found = m_tensors.find(name);
        return found == m_tensors.end() ? nullptr : &found->second;
    }

    Linear Linear::load(const WeightSource& source, std::int64_t in, std::int64_t out, bool withBias)
    {
        Linear layer;
        layer.weight = source.load("weight", {out, in});
        source.record("weight", layer.weight);
        if (withBias) {
            layer.bias = source.load("bias", {out});
        }
        return layer;
    }

    at::Tensor Linear::operator()(const at::Tensor& x) const
    {
        return at::linear(x, weight, bias);
    }

    Conv2d Conv2d::load(const WeightSource& source, std::int64_t in, std::int64_t out, std::int64_t kernel,
                        std::int64_t stride, std::int64_t padding)
    {
        Conv2d layer;
        layer.weight = source.load("weight", {out, in, kernel, kernel});
        if (source.channelsLast()) {
            layer.weight = layer.weight.contiguous(at::MemoryFormat::ChannelsLast);
        }
        source.record("weight", layer.weight);
        layer.bias = source.load("bias", {out});
        if (layer.bias.is_cuda()
            && (layer.bias.scalar_type() == at::kHalf || layer.bias.scalar_type() == at::kBFloat16)) {
            layer.bias32 = layer.bias.to(at::kFloat);
        }
        layer.stride = stride;
        layer.padding = padding;
        return layer;
    }

    namespace
    {
        /// Largest feature map (height × width) convolved by im2col + GEMM on the CPU: the UNet's levels up to
        /// 256² images; at 64×64 the two ways measured the same.
        constexpr std::int64_t SmallConvolutionPixels = 32 * 32;
    } // namespace

    bool Conv2d::fusesBias(const at::Tensor& x) const
    {
        return bias32.defined() && x.is_cuda() && fusedKernelEnabled(FusedKernel::BiasResidual);
    }

    at::Tensor Conv2d::convolve(const at::Tensor& x) const
    {
        return at::conv2d(x, weight, {}, {stride, stride}, {padding, padding});
    }

    at::Tensor Conv2d::plusResidual(const at::Tensor& x, const at::Tensor& residual) const
    {
        if (fusesBias(x)) {
            return addBiasAndResidual(convolve(x), bias, bias32, residual);
        }
        at::Tensor y = (*this)(x);
        return residual.defined() ? y.add_(residual) : y;
    }

    at::Tensor addBiasAndResidual(at::Tensor y, const at::Tensor& bias, const at::Tensor& bias32,
                                  const at::Tensor& residual)
    {
        if (bias32.defined() && fusedBiasResidual(y, bias32, residual)) {
            return y;
        }
        y.add_(y.dim() == 4 ? bias.view({1, -1, 1, 1}) : bias);
        return residual.defined() ? y.add_(residual) : y;
    }

    at::Tensor Conv2d::operator()(const at::Tensor& x) const
    {
        if (fusesBias(x)) {
            // cuDNN's convolution in LibTorch adds its bias in a broadcast pass of its own; the fused one is faster.
            return addBiasAndResidual(convolve(x), bias, bias32, {});
        }
        if (x.is_cpu() && x.scalar_type() == at::kFloat && x.size(2) * x.size(3) <= SmallConvolutionPixels) {
            // On the CPU at::conv2d picks oneDNN, which re-lays out the input and weights on every call; on small
            // feature maps that costs more than the convolution. im2col plus an MKL GEMM skips it: measured on the
            // 2-core Xeon of docs/PERFORMANCE.md, SD 1.5's UNet step at 256² (32×32 latents) takes 1.87 s instead
            // of 2.49 s, and the tiny model's at 64² half the time; results agree to 6e-6. On larger maps
            // im2col's copy grows with the map (3× slower on the tiny VAE's 256² levels), and oneDNN stays.
            return at::thnn_conv2d(x, weight, {weight.size(2), weight.size(3)}, bias, {stride, stride},
                                   {padding, padding});
        }
        return at::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
    }

    GroupNorm GroupNorm::load(const WeightSource& source, std::int64_t channels, std::int64_t groups, double eps)
    {
        if (groups <= 0 || channels % groups != 0) {
            throw EngineError("group norm with " + std::to_string(channels) + " channels cannot use "
                              + std::to_string(groups) + " groups (norm_num_groups must divide every channel count)");
        }
        return {source.load("weight", {channels}), source.load("bias", {channels}), groups, eps};
    }

    at::Tensor GroupNorm::operator()(const at::Tensor& x) const
    {
        return apply(x, /*silu=*/false);
    }

    at::Tensor GroupNorm::withSilu(const at::Tensor& x) const
    {
        return apply(x, /*silu=*/true);
    }

    at::Tensor GroupNorm::withSilu(const at::Tensor& x, const at::Tensor& offset) const
    {
        return apply(x, /*silu=*/true, offset);
    }

    at::Tensor GroupNorm::apply(const at::Tensor& x, bool silu, const at::Tensor& offset) const
    {
        if (std::optional<at::Tensor> fused = fusedGroupNorm(x, groups, weight, bias, eps, silu, offset)) {
            return *std::move(fused);
        }
        const at::Tensor shifted = !offset.defined()
            ? x
            : x + (offset.dim() == 1 ? offset.view({1, -1, 1, 1}) : offset.view({x.size(0), -1, 1, 1}));
        at::Tensor y = at::group_norm(shifted, groups, weight, bias, eps);
        if (silu) {
            at::silu_(y);
        }
        return y;
    }

    LayerNorm LayerNorm::load(const WeightSource& source, std::int64_t size, double eps)
    {
        return {source.load("weight", {size}), source.load("bias", {size}), size, eps};
    }

    at::Tensor LayerNorm::operator()(const at::Tensor& x) const
    {
        if (std::optional<at::Tensor> fused = fusedLayerNorm(x, weight, bias, eps)) {
            return *std::move(fused);
        }
        return at::layer_norm(x, {size}, weight, bias, eps);
    }
} // namespace Atelier::Engine
