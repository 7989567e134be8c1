// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "SafetensorsHeader.h"

namespace Atelier::Engine
{
    /// A memory-mapped safetensors file. Opening validates the whole header before anything is allocated for
    /// tensors; tensors are then zero-copy CPU views into the mapping, which stays alive as long as any view does.
    ///
    /// Pickle-based checkpoints (.ckpt, .pt, .pth, .bin, .pkl, or any file whose bytes look like one) are refused:
    /// loading them would run code from the file.
    ///
    /// Example:
    /// @code
    /// auto file = SafetensorsFile::open("unet/diffusion_pytorch_model.safetensors");
    /// at::Tensor w = file.tensor("conv_in.weight"); // shares memory with the file
    /// @endcode
    class SafetensorsFile
    {
    public:
        /// Maps @p path and parses its header. Throws EngineError naming the path when it is a pickle checkpoint,
        /// is not a regular file (a FIFO or a device is refused before it is opened), or is not valid safetensors.
        static SafetensorsFile open(const std::filesystem::path& path);

        const std::filesystem::path& path() const;
        const SafetensorsHeader& header() const;
        /// The entry called @p name, or nullptr.
        const SafetensorsTensorInfo* find(std::string_view name) const;
        bool contains(std::string_view name) const;
        /// A CPU tensor viewing the file's bytes for @p name (copy-on-write: writing to it never changes the
        /// file). Throws EngineError when there is no such tensor.
        at::Tensor tensor(std::string_view name) const;
        /// Raw bytes of the data section, for callers that check where views point.
        std::span<const std::byte> data() const;

    private:
        struct Mapping;
        SafetensorsFile(std::filesystem::path path, std::shared_ptr<Mapping> mapping, SafetensorsHeader header);

        std::filesystem::path m_path;
        std::shared_ptr<Mapping> m_mapping;
        SafetensorsHeader m_header;
        std::map<std::string, std::size_t, std::less<>> m_index;
    };

    /// Writes @p tensors (any order; each is made contiguous and written as stored on the CPU) and string
    /// @p metadata as a safetensors file, atomically: a temporary file in the same folder is renamed over @p path.
    void writeSafetensors(const std::filesystem::path& path,
                          const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                          const std::map<std::string, std::string>& metadata = {});
} // namespace Atelier::Engine
