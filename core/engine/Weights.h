// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace Atelier::Engine
{
    class SafetensorsFile;

    /// Hands out a model's weights by their diffusers/transformers names, checking each one's shape and
    /// converting it to the dtype and device the model runs in.
    ///
    /// A source is a view of one file under a name prefix; sub() narrows the prefix, so each module asks for its
    /// own short names ("to_q.weight") without knowing where it sits. A key map translates the full diffusers
    /// name into the file's own naming, which is how single-file (CompVis) checkpoints are read.
    ///
    /// Example:
    /// @code
    /// WeightSource unet(file, "", at::TensorOptions().dtype(at::kHalf).device(at::kCUDA));
    /// at::Tensor w = unet.sub("conv_in").load("weight", {320, 4, 3, 3});
    /// @endcode
    class WeightSource
    {
    public:
        using KeyMap = std::function<std::string(const std::string&)>;

        WeightSource(std::shared_ptr<const SafetensorsFile> file, std::string prefix, at::TensorOptions options,
                     KeyMap keyMap = {});

        /// The tensor called prefix + @p name with exactly @p shape. Throws EngineError naming the file and the
        /// key when it is missing or has another shape.
        at::Tensor load(const std::string& name, std::vector<std::int64_t> shape) const;
        /// The shape of prefix + @p name as stored, or an empty optional-like result (empty vector and false).
        bool shapeOf(const std::string& name, std::vector<std::int64_t>* shape) const;
        /// A source for the names under prefix + @p child + ".".
        WeightSource sub(const std::string& child) const;

        const at::TensorOptions& options() const { return m_options; }

    private:
        std::string resolve(const std::string& name) const;

        std::shared_ptr<const SafetensorsFile> m_file;
        std::string m_prefix;
        at::TensorOptions m_options;
        KeyMap m_keyMap;
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
        std::int64_t stride = 1;
        std::int64_t padding = 0;

        static Conv2d load(const WeightSource& source, std::int64_t in, std::int64_t out, std::int64_t kernel,
                           std::int64_t stride = 1, std::int64_t padding = 0);
        at::Tensor operator()(const at::Tensor& x) const;
    };

    struct GroupNorm
    {
        at::Tensor weight;
        at::Tensor bias;
        std::int64_t groups = 32;
        double eps = 1e-5;

        static GroupNorm load(const WeightSource& source, std::int64_t channels, std::int64_t groups, double eps);
        at::Tensor operator()(const at::Tensor& x) const;
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
