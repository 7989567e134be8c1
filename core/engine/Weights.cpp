// SPDX-License-Identifier: GPL-3.0-or-later
#include "Weights.h"

#include <ATen/ops/conv2d.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>

#include <sstream>

#include "EngineError.h"
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

    WeightSource::WeightSource(std::shared_ptr<const SafetensorsFile> file, std::string prefix,
                               at::TensorOptions options, KeyMap keyMap)
        : m_file(std::move(file))
        , m_prefix(std::move(prefix))
        , m_options(options)
        , m_keyMap(std::move(keyMap))
    { }

    std::string WeightSource::resolve(const std::string& name) const
    {
        const std::string full = m_prefix + name;
        return m_keyMap ? m_keyMap(full) : full;
    }

    bool WeightSource::shapeOf(const std::string& name, std::vector<std::int64_t>* shape) const
    {
        const SafetensorsTensorInfo* info = m_file->find(resolve(name));
        if (info && shape) {
            *shape = info->shape;
        }
        return info != nullptr;
    }

    at::Tensor WeightSource::load(const std::string& name, std::vector<std::int64_t> shape) const
    {
        const std::string key = resolve(name);
        const SafetensorsTensorInfo* info = m_file->find(key);
        if (!info) {
            throw EngineError(m_file->path().string() + ": the model has no weight \"" + key + "\"");
        }
        // Single-file (LDM) checkpoints store the VAE's attention projections as 1×1 convolutions, [o, i, 1, 1],
        // where diffusers has Linear layers, [o, i]. Both hold the same o·i numbers in the same order, so such a
        // weight is a reshaped view of the stored one, with no copy and no conversion step.
        const bool pointwiseConv = shape.size() == 2 && info->shape.size() == 4 && info->shape[0] == shape[0]
            && info->shape[1] == shape[1] && info->shape[2] == 1 && info->shape[3] == 1;
        if (info->shape != shape && !pointwiseConv) {
            throw EngineError(m_file->path().string() + ": weight \"" + key + "\" has shape " + shapeText(info->shape)
                              + " but the model's configuration needs " + shapeText(shape));
        }
        // .to() copies out of the mapping (a new dtype or device always does); same-type CPU weights stay views.
        at::Tensor stored = m_file->tensor(key);
        return (pointwiseConv ? stored.view(shape) : stored).to(m_options);
    }

    WeightSource WeightSource::sub(const std::string& child) const
    {
        return WeightSource(m_file, m_prefix + child + ".", m_options, m_keyMap);
    }

    Linear Linear::load(const WeightSource& source, std::int64_t in, std::int64_t out, bool withBias)
    {
        Linear layer;
        layer.weight = source.load("weight", {out, in});
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
        layer.bias = source.load("bias", {out});
        layer.stride = stride;
        layer.padding = padding;
        return layer;
    }

    at::Tensor Conv2d::operator()(const at::Tensor& x) const
    {
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
        return at::group_norm(x, groups, weight, bias, eps);
    }

    LayerNorm LayerNorm::load(const WeightSource& source, std::int64_t size, double eps)
    {
        return {source.load("weight", {size}), source.load("bias", {size}), size, eps};
    }

    at::Tensor LayerNorm::operator()(const at::Tensor& x) const
    {
        return at::layer_norm(x, {size}, weight, bias, eps);
    }
} // namespace Atelier::Engine
