// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>

namespace Atelier::Engine
{
    class SafetensorsFile;

    /// Where a WeightSource gets its tensors: a safetensors file, or freshly made random weights for tools.
    class WeightProvider
    {
    public:
        virtual ~WeightProvider() = default;
        /// The tensor stored under @p key, which must have @p shape; throws EngineError naming the origin and key.
        virtual at::Tensor load(const std::string& key, const std::vector<std::int64_t>& shape) const = 0;
    };

    /// Serves the tensors of a safetensors file, checking names and shapes.
    std::shared_ptr<const WeightProvider> weightsFrom(std::shared_ptr<const SafetensorsFile> file);

    /// Makes a new random tensor for every weight asked for and remembers it under its key, so that loading a
    /// model through it yields both a working model and the complete list of its weights (for writing models
    /// with random weights: benchmarks, the embedded default model). Biases start at zero, normalisation scales
    /// at one, embeddings at N(0, 0.02²) and other weights at N(0, 1/fan_in), which keeps activations of any depth
    /// near unit scale.
    class RandomWeights final : public WeightProvider
    {
    public:
        explicit RandomWeights(std::uint64_t seed);
        at::Tensor load(const std::string& key, const std::vector<std::int64_t>& shape) const override;
        /// Every weight handed out so far, in the order asked for.
        const std::vector<std::pair<std::string, at::Tensor>>& made() const { return m_made; }

    private:
        mutable at::Generator m_generator;
        mutable std::vector<std::pair<std::string, at::Tensor>> m_made;
    };

    /// The weights a loaded model computes with, by name ("unet.down_blocks.0.resnets.0.conv1.weight",
    /// "text_encoder.encoder.layers.0.self_attn.q_proj.weight": the component, then its diffusers/transformers name
    /// inside it, whatever the file called it). Each entry shares storage with the model (it is the tensor itself, or
    /// a view into a packed one), so an in-place change here is a change of the model: this is how LoRA patches a
    /// loaded model without reloading it.
    class WeightRegistry
    {
    public:
        void add(const std::string& name, const at::Tensor& tensor);
        /// The weight called @p name, or nullptr.
        const at::Tensor* find(const std::string& name) const;
        std::size_t size() const { return m_tensors.size(); }
        const std::unordered_map<std::string, at::Tensor>& tensors() const { return m_tensors; }

    private:
        std::unordered_map<std::string, at::Tensor> m_tensors;
    };

    /// Hands out a model's weights by their diffusers/transformers names, checking each one's shape and
    /// converting it to the dtype and device the model runs in.
    ///
    /// A source is a view of one provider under a name prefix; sub() narrows the prefix, so each module asks for
    /// its own short names ("to_q.weight") without knowing where it sits. A key map translates the full diffusers
    /// name into the file's own naming, which is how single-file (CompVis) checkpoints are read.
    ///
    /// Example:
    /// @code
    /// WeightSource unet(weightsFrom(file), "", at::TensorOptions().dtype(at::kHalf).device(at::kCUDA));
    /// at::Tensor w = unet.sub("conv_in").load("weight", {320, 4, 3, 3});
    /// @endcode
    class WeightSource
    {
    public:
        using KeyMap = std::function<std::string(const std::string&)>;

        WeightSource(std::shared_ptr<const WeightProvider> provider, std::string prefix, at::TensorOptions options,
                     KeyMap keyMap = {});
        /// Shorthand for a source over weightsFrom(@p file).
        WeightSource(std::shared_ptr<const SafetensorsFile> file, std::string prefix, at::TensorOptions options,
                     KeyMap keyMap = {});

        /// The tensor called prefix + @p name with exactly @p shape, in this source's dtype and device. Throws
        /// EngineError naming the file and the key when it is missing or has another shape.
        at::Tensor load(const std::string& name, std::vector<std::int64_t> shape) const;
        /// A source for the names under prefix + @p child + ".".
        WeightSource sub(const std::string& child) const;
        /// The same source, but convolution kernels load channels-last (NHWC), the layout tensor-core convolutions
        /// read without transposing.
        WeightSource withChannelsLast(bool channelsLast = true) const;
        /// The same source, recording the layers' weights in @p registry (record()) as @p component + "." + their
        /// names below this source's prefix.
        WeightSource withRegistry(std::shared_ptr<WeightRegistry> registry, const std::string& component) const;
        /// Puts @p tensor, the weight this layer computes with, into the registry (if any) under @p name.
        void record(const std::string& name, const at::Tensor& tensor) const;

        const at::TensorOptions& options() const { return m_options; }
        bool channelsLast() const { return m_channelsLast; }

    private:
        std::shared_ptr<const WeightProvider> m_provider;
        std::string m_prefix;
        at::TensorOptions m_options;
        KeyMap m_keyMap;
        bool m_channelsLast = false;
        std::shared_ptr<WeightRegistry> m_registry;
        std::string m_registryPrefix; ///< the component, and the part of m_prefix the registry leaves out
        std::size_t m_registryCut = 0;
    };

    /// y = x Wᵀ + b
    struct Linear
    {
        at::Tensor weight;
        at::Tensor bias; ///< undefined when the layer has none

        static Linear load(const WeightSource& source, std::int64_t in, std::int64_t out, bool withBias = true);
        at::Tensor operator()(const at::Tensor& x) const;
    };

    struct Conv2d
    {
        at::Tensor weight;
        at::Tensor bias;
        /// The bias in float32, for the fused bias kernel (FusedKernels.h); defined only for fp16/bf16 weights on
        /// CUDA, the only place that kernel runs.
        at::Tensor bias32;
        std::int64_t stride = 1;
        std::int64_t padding = 0;

        static Conv2d load(const WeightSource& source, std::int64_t in, std::int64_t out, std::int64_t kernel,
                           std::int64_t stride = 1, std::int64_t padding = 0);
        at::Tensor operator()(const at::Tensor& x) const;
        /// conv(x) + @p residual. Where the fused bias kernel runs, the convolution leaves out its bias and one pass
        /// adds bias and residual; otherwise LibTorch's convolution and an in-place addition.
        at::Tensor plusResidual(const at::Tensor& x, const at::Tensor& residual) const;
        /// Whether operator() and plusResidual() take the fused path for @p x: then a caller may also convolve()
        /// and add the bias itself, folded into what comes next.
        bool fusesBias(const at::Tensor& x) const;
        /// The convolution without its bias.
        at::Tensor convolve(const at::Tensor& x) const;
    };

    /// y + @p bias (+ @p residual), in place on @p y, in one pass where the fused bias kernel takes it (@p bias32:
    /// the same bias in float32) and LibTorch's additions otherwise. A 4-D @p y has channels on dimension 1;
    /// anything else has them last.
    at::Tensor addBiasAndResidual(at::Tensor y, const at::Tensor& bias, const at::Tensor& bias32,
                                  const at::Tensor& residual);

    struct GroupNorm
    {
        at::Tensor weight;
        at::Tensor bias;
        std::int64_t groups = 32;
        double eps = 1e-5;

        static GroupNorm load(const WeightSource& source, std::int64_t channels, std::int64_t groups, double eps);
        at::Tensor operator()(const at::Tensor& x) const;
        /// SiLU(GroupNorm(x)): one fused kernel on channels-last CUDA tensors where the engine's kernels are on
        /// (FusedKernels.h), else LibTorch's GroupNorm and an in-place SiLU.
        at::Tensor withSilu(const at::Tensor& x) const;
        /// SiLU(GroupNorm(x + @p offset)) for an @p offset of x's dtype, [C] or [N, C] (a bias the caller left
        /// out of the layer before): the fused kernel adds it at no cost of its own; otherwise it is added first.
        at::Tensor withSilu(const at::Tensor& x, const at::Tensor& offset) const;

    private:
        at::Tensor apply(const at::Tensor& x, bool silu, const at::Tensor& offset = {}) const;
    };

    struct LayerNorm
    {
        at::Tensor weight;
        at::Tensor bias;
        std::int64_t size = 0;
        double eps = 1e-5;

        static LayerNorm load(const WeightSource& source, std::int64_t size, double eps);
        at::Tensor operator()(const at::Tensor& x) const;
    };
} // namespace Atelier::Engine
