// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The safetensors header format on its own: no LibTorch and no Qt, so that the parser of untrusted bytes can be
// built and fuzzed without the rest of the engine (tests/fuzz). Safetensors.h includes this.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace Atelier::Engine
{
    /// Element types a safetensors file may hold that Atelier reads.
    enum class SafetensorsDType
    {
        F64,
        F32,
        F16,
        BF16,
        I64,
        I32,
        I16,
        I8,
        U8,
        Bool
    };

    /// One tensor's entry in a safetensors header.
    struct SafetensorsTensorInfo
    {
        std::string name;
        SafetensorsDType dtype = SafetensorsDType::F32;
        std::vector<std::int64_t> shape;
        std::uint64_t begin = 0; ///< byte offset into the data section
        std::uint64_t end = 0; ///< one past the last byte
    };

    /// A parsed and fully validated safetensors header.
    struct SafetensorsHeader
    {
        std::vector<SafetensorsTensorInfo> tensors; ///< in data order (sorted by begin offset)
        std::map<std::string, std::string> metadata;
    };

    /// Hard limit on the JSON header, as in the reference implementation: a larger one is refused unread.
    inline constexpr std::uint64_t SafetensorsMaxHeaderSize = 100'000'000;
    /// Most dimensions a tensor may have; ranks beyond this appear in no model, and refusing them bounds the work a
    /// hostile header can cause.
    inline constexpr std::size_t SafetensorsMaxRank = 16;

    /// Parses and validates a header (the JSON bytes after the 8-byte length) against a data section of
    /// @p dataSize bytes. Every rule of the format is checked: UTF-8 JSON object, no duplicate keys, string-only
    /// `__metadata__`, known dtypes, shape × element size equal to the byte range without overflow, byte ranges
    /// that, sorted, tile the data section from 0 to its end with no hole or overlap. Throws EngineError naming
    /// @p fileName and the rule broken.
    SafetensorsHeader parseSafetensorsHeader(std::span<const std::byte> json, std::uint64_t dataSize,
                                             const std::string& fileName);

    /// Size in bytes of one element of @p dtype.
    std::size_t elementSize(SafetensorsDType dtype);
    /// The header spelling of @p dtype ("F32", "BF16", …).
    std::string_view dtypeName(SafetensorsDType dtype);

    /// Whether @p path is named as a pickle checkpoint (`.ckpt`, `.pt`, `.pth`, `.bin`, `.pkl`, `.pickle`, any case):
    /// a file Atelier never opens, wherever it is found (models, LoRAs, embeddings).
    bool hasPickleExtension(const std::filesystem::path& path);
    /// Whether @p path ends in `.safetensors` (any case).
    bool hasSafetensorsExtension(const std::filesystem::path& path);
} // namespace Atelier::Engine
