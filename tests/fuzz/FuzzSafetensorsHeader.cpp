// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes Engine::parseSafetensorsHeader, which reads the JSON header of every model file before anything else of it.
// Input: the data section's size (8 bytes, little-endian, as a safetensors file stores its header length), then the
// header's JSON. The parser must throw EngineError or return a header whose tensors tile exactly that data section.
// Qt-free, like the parser, and built without LibTorch.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <span>
#include <string>

#include "FuzzCheck.h"
#include "engine/EngineError.h"
#include "engine/SafetensorsHeader.h"

using namespace Atelier::Engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 8) {
        return 0;
    }
    std::uint64_t dataSize = 0;
    for (int i = 7; i >= 0; --i) {
        dataSize = (dataSize << 8) | data[i];
    }
    const std::span<const std::byte> json(reinterpret_cast<const std::byte*>(data + 8), size - 8);

    SafetensorsHeader header;
    try {
        header = parseSafetensorsHeader(json, dataSize, "fuzz.safetensors");
    } catch (const EngineError& error) {
        // The one way to refuse, and it must say which file.
        ATELIER_FUZZ_CHECK(std::string(error.what()).starts_with("fuzz.safetensors: "), error.what());
        return 0;
    } catch (const std::exception& error) {
        // Anything else (a JSON library error, bad_alloc, out_of_range) escapes SafetensorsFile::open's contract.
        ATELIER_FUZZ_CHECK(false, std::string("not an EngineError: ") + error.what());
    }

    std::uint64_t expected = 0;
    std::set<std::string> names;
    for (const SafetensorsTensorInfo& tensor : header.tensors) {
        ATELIER_FUZZ_CHECK(names.insert(tensor.name).second, "tensor named twice: " + tensor.name);
        ATELIER_FUZZ_CHECK(tensor.name != "__metadata__", std::string());
        // In data order, each starting where the previous one ended, all inside the data section.
        ATELIER_FUZZ_CHECK(tensor.begin == expected && tensor.begin <= tensor.end && tensor.end <= dataSize,
                           tensor.name + " is outside the data section or out of order");
        ATELIER_FUZZ_CHECK(tensor.shape.size() <= SafetensorsMaxRank, tensor.name);
        std::uint64_t bytes = elementSize(tensor.dtype);
        for (const std::int64_t extent : tensor.shape) {
            ATELIER_FUZZ_CHECK(extent >= 0, tensor.name + " has a negative dimension");
            ATELIER_FUZZ_CHECK(!__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(extent), &bytes),
                               tensor.name + "'s size overflows");
        }
        ATELIER_FUZZ_CHECK(tensor.end - tensor.begin == bytes, tensor.name + "'s byte range does not fit its shape");
        ATELIER_FUZZ_CHECK(!dtypeName(tensor.dtype).empty(), std::string());
        expected = tensor.end;
    }
    ATELIER_FUZZ_CHECK(expected == dataSize, "the tensors do not cover the data section");
    return 0;
}
