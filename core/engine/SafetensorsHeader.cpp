// SPDX-License-Identifier: GPL-3.0-or-later
#include "SafetensorsHeader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <set>
#include <tuple>

#include "EngineError.h"

namespace Atelier::Engine
{
    namespace
    {
        struct DTypeEntry
        {
            std::string_view name;
            SafetensorsDType dtype;
            std::size_t size;
        };

        constexpr std::array DTypes{
            DTypeEntry{"F64", SafetensorsDType::F64, 8}, DTypeEntry{"F32", SafetensorsDType::F32, 4},
            DTypeEntry{"F16", SafetensorsDType::F16, 2}, DTypeEntry{"BF16", SafetensorsDType::BF16, 2},
            DTypeEntry{"I64", SafetensorsDType::I64, 8}, DTypeEntry{"I32", SafetensorsDType::I32, 4},
            DTypeEntry{"I16", SafetensorsDType::I16, 2}, DTypeEntry{"I8", SafetensorsDType::I8, 1},
            DTypeEntry{"U8", SafetensorsDType::U8, 1},   DTypeEntry{"BOOL", SafetensorsDType::Bool, 1},
        };

        const DTypeEntry& entryFor(SafetensorsDType dtype)
        {
            return *std::find_if(DTypes.begin(), DTypes.end(), [&](const auto& e) { return e.dtype == dtype; });
        }

        bool isValidUtf8(std::span<const std::byte> bytes)
        {
            std::size_t i = 0;
            const std::size_t n = bytes.size();
            auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
            while (i < n) {
                const unsigned char c = at(i);
                if (c < 0x80) {
                    ++i;
                    continue;
                }
                std::size_t len = 0;
                std::uint32_t cp = 0;
                if ((c & 0xE0) == 0xC0) {
                    len = 2;
                    cp = c & 0x1F;
                } else if ((c & 0xF0) == 0xE0) {
                    len = 3;
                    cp = c & 0x0F;
                } else if ((c & 0xF8) == 0xF0) {
                    len = 4;
                    cp = c & 0x07;
                } else {
                    return false;
                }
                if (i + len > n) {
                    return false;
                }
                for (std::size_t k = 1; k < len; ++k) {
                    if ((at(i + k) & 0xC0) != 0x80) {
                        return false;
                    }
                    cp = (cp << 6) | (at(i + k) & 0x3F);
                }
                // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
                static constexpr std::array<std::uint32_t, 5> minimum{0, 0, 0x80, 0x800, 0x10000};
                if (cp < minimum[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                    return false;
                }
                i += len;
            }
            return true;
        }

        [[noreturn]] void invalid(const std::string& fileName, const std::string& rule)
        {
            throw EngineError(fileName + ": not a valid safetensors file: " + rule);
        }

    } // namespace

    std::size_t elementSize(SafetensorsDType dtype)
    {
        return entryFor(dtype).size;
    }

    std::string_view dtypeName(SafetensorsDType dtype)
    {
        return entryFor(dtype).name;
    }

    SafetensorsHeader parseSafetensorsHeader(std::span<const std::byte> headerJson, std::uint64_t dataSize,
                                             const std::string& fileName)
    {
        using nlohmann::json;
        if (!isValidUtf8(headerJson)) {
            invalid(fileName, "the header is not valid UTF-8");
        }
        if (headerJson.empty() || static_cast<char>(headerJson[0]) != '{') {
            invalid(fileName, "the header does not start with '{'");
        }

        // nlohmann keeps the last of duplicate keys silently; a second parser might keep the first, so two
        // readers could see different tensors. Watch every object's keys while parsing and refuse duplicates.
        std::vector<std::set<std::string>> keysPerObject;
        std::string duplicate;
        auto watchKeys = [&](int, json::parse_event_t event, json& parsed) {
            switch (event) {
            case json::parse_event_t::object_start:
                keysPerObject.emplace_back();
                break;
            case json::parse_event_t::key:
                if (!keysPerObject.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
                    duplicate = parsed.get<std::string>();
                }
                break;
            case json::parse_event_t::object_end:
                keysPerObject.pop_back();
                break;
            default:
                break;
            }
            return true;
        };
        json doc;
        try {
            const auto* first = reinterpret_cast<const char*>(headerJson.data());
            doc = json::parse(first, first + headerJson.size(), watchKeys);
        } catch (const json::exception& e) {
            invalid(fileName, std::string("the header is not JSON (") + e.what() + ")");
        }
        if (!duplicate.empty()) {
            invalid(fileName, "the header names \"" + duplicate + "\" twice");
        }
        if (!doc.is_object()) {
            invalid(fileName, "the header is not a JSON object");
        }

        SafetensorsHeader header;
        for (const auto& [name, value] : doc.items()) {
            if (name == "__metadata__") {
                if (!value.is_object()) {
                    invalid(fileName, "__metadata__ is not an object");
                }
                for (const auto& [key, text] : value.items()) {
                    if (!text.is_string()) {
                        invalid(fileName, "__metadata__ value \"" + key + "\" is not a string");
                    }
                    header.metadata.emplace(key, text.get<std::string>());
                }
                continue;
            }
            const std::string where = "tensor \"" + name + "\"";
            if (!value.is_object()) {
                invalid(fileName, where + " is not an object");
            }
            for (const auto& [field, _] : value.items()) {
                if (field != "dtype" && field != "shape" && field != "data_offsets") {
                    invalid(fileName, where + " has an unknown field \"" + field + "\"");
                }
            }
            if (!value.contains("dtype") || !value["dtype"].is_string()) {
                invalid(fileName, where + " has no dtype string");
            }
            if (!value.contains("shape") || !value["shape"].is_array()) {
                invalid(fileName, where + " has no shape array");
            }
            if (!value.contains("data_offsets") || !value["data_offsets"].is_array()
                || value["data_offsets"].size() != 2) {
                invalid(fileName, where + " has no data_offsets pair");
            }

            SafetensorsTensorInfo info;
            info.name = name;
            const auto dtypeText = value["dtype"].get<std::string>();
            const auto dtype
                = std::find_if(DTypes.begin(), DTypes.end(), [&](const auto& e) { return e.name == dtypeText; });
            if (dtype == DTypes.end()) {
                invalid(fileName, where + " has unsupported dtype \"" + dtypeText + "\"");
            }
            info.dtype = dtype->dtype;

            const auto& shape = value["shape"];
            if (shape.size() > SafetensorsMaxRank) {
                invalid(fileName,
                        where + " has " + std::to_string(shape.size()) + " dimensions (at most "
                            + std::to_string(SafetensorsMaxRank) + ")");
            }
            std::uint64_t bytes = dtype->size;
            bool overflow = false;
            for (const auto& dim : shape) {
                if (!dim.is_number_unsigned()) {
                    invalid(fileName, where + " has a shape entry that is not a non-negative integer");
                }
                const auto extent = dim.get<std::uint64_t>();
                if (extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    invalid(fileName, where + " has a dimension too large to address");
                }
                overflow = overflow || __builtin_mul_overflow(bytes, extent, &bytes);
                info.shape.push_back(static_cast<std::int64_t>(extent));
            }
            if (overflow) {
                invalid(fileName, where + ": shape times element size overflows 64 bits");
            }
            for (const auto& offset : value["data_offsets"]) {
                if (!offset.is_number_unsigned()) {
                    invalid(fileName, where + " has a data offset that is not a non-negative integer");
                }
            }
            info.begin = value["data_offsets"][0].get<std::uint64_t>();
            info.end = value["data_offsets"][1].get<std::uint64_t>();
            if (info.end < info.begin) {
                invalid(fileName, where + " ends before it begins");
            }
            if (info.end - info.begin != bytes) {
                invalid(fileName,
                        where + " spans " + std::to_string(info.end - info.begin)
                            + " bytes but its dtype and shape need " + std::to_string(bytes));
            }
            header.tensors.push_back(std::move(info));
        }

        // Sorted, the byte ranges must tile the data section exactly: a hole could hide a second payload
        // (a polyglot file), and an overlap lets one stretch of bytes pose as several tensors.
        std::sort(header.tensors.begin(), header.tensors.end(), [](const auto& a, const auto& b) {
            return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
        });
        std::uint64_t expected = 0;
        for (const auto& info : header.tensors) {
            if (info.begin != expected) {
                invalid(fileName,
                        "tensor \"" + info.name + "\" starts at byte " + std::to_string(info.begin)
                            + " of the data but the previous tensor ends at " + std::to_string(expected)
                            + (info.begin < expected ? " (overlap)" : " (hole)"));
            }
            expected = info.end;
        }
        if (expected != dataSize) {
            invalid(fileName,
                    "the tensors cover " + std::to_string(expected) + " bytes but the data section has "
                        + std::to_string(dataSize));
        }
        return header;
    }

    namespace
    {
        std::string lowerExtension(const std::filesystem::path& path)
        {
            std::string extension = path.extension().string();
            std::transform(extension.begin(), extension.end(), extension.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            return extension;
        }
    } // namespace

    bool hasPickleExtension(const std::filesystem::path& path)
    {
        const std::string extension = lowerExtension(path);
        return extension == ".ckpt" || extension == ".pt" || extension == ".pth" || extension == ".bin"
            || extension == ".pkl" || extension == ".pickle";
    }

    bool hasSafetensorsExtension(const std::filesystem::path& path)
    {
        return lowerExtension(path) == ".safetensors";
    }
} // namespace Atelier::Engine
