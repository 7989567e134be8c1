// SPDX-License-Identifier: GPL-3.0-or-later
#include "Safetensors.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "EngineError.h"
#include "ModelFiles.h"

namespace Atelier::Engine
{
    namespace
    {
        struct DTypeEntry
        {
            std::string_view name;
            SafetensorsDType dtype;
            std::size_t size;
            c10::ScalarType scalar;
        };

        constexpr std::array DTypes{
            DTypeEntry{"F64", SafetensorsDType::F64, 8, c10::ScalarType::Double},
            DTypeEntry{"F32", SafetensorsDType::F32, 4, c10::ScalarType::Float},
            DTypeEntry{"F16", SafetensorsDType::F16, 2, c10::ScalarType::Half},
            DTypeEntry{"BF16", SafetensorsDType::BF16, 2, c10::ScalarType::BFloat16},
            DTypeEntry{"I64", SafetensorsDType::I64, 8, c10::ScalarType::Long},
            DTypeEntry{"I32", SafetensorsDType::I32, 4, c10::ScalarType::Int},
            DTypeEntry{"I16", SafetensorsDType::I16, 2, c10::ScalarType::Short},
            DTypeEntry{"I8", SafetensorsDType::I8, 1, c10::ScalarType::Char},
            DTypeEntry{"U8", SafetensorsDType::U8, 1, c10::ScalarType::Byte},
            DTypeEntry{"BOOL", SafetensorsDType::Bool, 1, c10::ScalarType::Bool},
        };

        const DTypeEntry& entryFor(SafetensorsDType dtype)
        {
            return *std::find_if(DTypes.begin(), DTypes.end(), [&](const auto& e) { return e.dtype == dtype; });
        }

        // Ranks beyond this appear in no model; refusing them bounds the work a hostile header can cause.
        constexpr std::size_t MaxRank = 16;

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

        std::string lowerExtension(const std::filesystem::path& path)
        {
            std::string ext = path.extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
            return ext;
        }

        bool isPickleExtension(const std::string& ext)
        {
            return ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".bin" || ext == ".pkl"
                || ext == ".pickle";
        }

        std::string pickleRefusal(const std::filesystem::path& path, const std::string& why)
        {
            return path.string() + ": " + why
                + "; Atelier never loads pickle checkpoints because loading one runs code stored in the file. "
                  "Convert it to .safetensors (for example with diffusers' conversion scripts) and load that.";
        }

        // Only consulted once a file has already failed as safetensors, to explain what it probably is.
        bool looksLikePickle(std::span<const std::byte> head)
        {
            if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80) {
                const auto protocol = static_cast<unsigned char>(head[1]);
                return protocol >= 2 && protocol <= 5;
            }
            // torch.save's default format is a zip archive holding a pickle.
            return head.size() >= 4 && std::memcmp(head.data(), "PK\x03\x04", 4) == 0;
        }

        [[noreturn]] void invalid(const std::string& fileName, const std::string& rule)
        {
            throw EngineError(fileName + ": not a valid safetensors file: " + rule);
        }

        std::uint64_t readLittleEndian64(const std::byte* p)
        {
            std::uint64_t v = 0;
            for (int i = 7; i >= 0; --i) {
                v = (v << 8) | static_cast<unsigned char>(p[i]);
            }
            return v;
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
            if (shape.size() > MaxRank) {
                invalid(fileName,
                        where + " has " + std::to_string(shape.size()) + " dimensions (at most "
                            + std::to_string(MaxRank) + ")");
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

    struct SafetensorsFile::Mapping
    {
        void* address = MAP_FAILED;
        std::size_t length = 0;
        std::uint64_t dataOffset = 0;

        Mapping() = default;
        Mapping(const Mapping&) = delete;
        Mapping& operator=(const Mapping&) = delete;
        ~Mapping()
        {
            if (address != MAP_FAILED) {
                munmap(address, length);
            }
        }
        const std::byte* bytes() const { return static_cast<const std::byte*>(address); }
    };

    SafetensorsFile::SafetensorsFile(std::filesystem::path path, std::shared_ptr<Mapping> mapping,
                                     SafetensorsHeader header)
        : m_path(std::move(path))
        , m_mapping(std::move(mapping))
        , m_header(std::move(header))
    {
        for (std::size_t i = 0; i < m_header.tensors.size(); ++i) {
            m_index.emplace(m_header.tensors[i].name, i);
        }
    }

    SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path)
    {
        const std::string fileName = path.string();
        if (isPickleExtension(lowerExtension(path))) {
            throw EngineError(pickleRefusal(path, "this is a pickle checkpoint (" + path.extension().string() + ")"));
        }
        // Before opening: opening a FIFO for reading blocks until some writer opens it.
        refuseSpecialFile(path);
        // Should a FIFO take the file's place after the check, O_NONBLOCK still lets open return, and the fstat
        // below refuses it; on a regular file the flag changes nothing.
        const int fd = ::open(fileName.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            throw EngineError(fileName + ": cannot open: " + std::strerror(errno));
        }
        struct stat st
        {
        };
        if (fstat(fd, &st) != 0) {
            const int statErrno = errno;
            ::close(fd);
            throw EngineError(fileName + ": cannot examine the file: " + std::strerror(statErrno));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd);
            refuseSpecialFile(path, st.st_mode);
        }
        const auto fileSize = static_cast<std::uint64_t>(st.st_size);
        if (fileSize < 8) {
            ::close(fd);
            invalid(fileName,
                    "the file has " + std::to_string(fileSize) + " bytes, fewer than the 8-byte header length");
        }

        auto mapping = std::make_shared<Mapping>();
        mapping->length = static_cast<std::size_t>(fileSize);
        // Private and writable: a view that is written to gets its own pages and the file never changes.
        mapping->address = mmap(nullptr, mapping->length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        const int mapErrno = errno;
        ::close(fd);
        if (mapping->address == MAP_FAILED) {
            throw EngineError(fileName + ": cannot map the file: " + std::strerror(mapErrno));
        }

        const std::span<const std::byte> all(mapping->bytes(), mapping->length);
        const std::uint64_t headerSize = readLittleEndian64(all.data());
        auto explainFailure = [&](const std::string& rule) {
            if (looksLikePickle(all.first(std::min<std::size_t>(all.size(), 8)))) {
                throw EngineError(
                    pickleRefusal(path, "this file holds a pickle or torch.save archive, not safetensors"));
            }
            invalid(fileName, rule);
        };
        if (headerSize > SafetensorsMaxHeaderSize) {
            explainFailure("the header claims " + std::to_string(headerSize) + " bytes, more than the limit of "
                           + std::to_string(SafetensorsMaxHeaderSize));
        }
        if (headerSize > fileSize - 8) {
            explainFailure("the header claims " + std::to_string(headerSize) + " bytes but the file has only "
                           + std::to_string(fileSize - 8) + " after the length");
        }
        mapping->dataOffset = 8 + headerSize;
        SafetensorsHeader header
            = parseSafetensorsHeader(all.subspan(8, headerSize), fileSize - mapping->dataOffset, fileName);
        return SafetensorsFile(path, std::move(mapping), std::move(header));
    }

    const std::filesystem::path& SafetensorsFile::path() const
    {
        return m_path;
    }

    const SafetensorsHeader& SafetensorsFile::header() const
    {
        return m_header;
    }

    const SafetensorsTensorInfo* SafetensorsFile::find(std::string_view name) const
    {
        const auto it = m_index.find(name);
        return it == m_index.end() ? nullptr : &m_header.tensors[it->second];
    }

    bool SafetensorsFile::contains(std::string_view name) const
    {
        return find(name) != nullptr;
    }

    std::span<const std::byte> SafetensorsFile::data() const
    {
        return {m_mapping->bytes() + m_mapping->dataOffset, m_mapping->length - m_mapping->dataOffset};
    }

    at::Tensor SafetensorsFile::tensor(std::string_view name) const
    {
        const SafetensorsTensorInfo* info = find(name);
        if (!info) {
            throw EngineError(m_path.string() + ": has no tensor \"" + std::string(name) + "\"");
        }
        const DTypeEntry& dtype = entryFor(info->dtype);
        const auto options = at::TensorOptions().dtype(dtype.scalar).device(at::kCPU);
        if (info->begin == info->end) {
            return at::empty(info->shape, options);
        }
        auto* start = const_cast<std::byte*>(data().data() + info->begin);
        if (reinterpret_cast<std::uintptr_t>(start) % dtype.size != 0) {
            // Writers normally pad the header so data is aligned; kernels assume it, so copy when it is not.
            at::Tensor copy = at::empty(info->shape, options);
            std::memcpy(copy.data_ptr(), start, info->end - info->begin);
            return copy;
        }
        std::shared_ptr<Mapping> keepAlive = m_mapping;
        return at::from_blob(
            start, info->shape, [keepAlive](void*) mutable { keepAlive.reset(); }, options);
    }

    void writeSafetensors(const std::filesystem::path& path,
                          const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                          const std::map<std::string, std::string>& metadata)
    {
        nlohmann::json header = nlohmann::json::object();
        if (!metadata.empty()) {
            header["__metadata__"] = metadata;
        }
        std::vector<at::Tensor> contiguous;
        std::uint64_t offset = 0;
        for (const auto& [name, tensor] : tensors) {
            const auto it = std::find_if(DTypes.begin(), DTypes.end(),
                                         [&](const auto& e) { return e.scalar == tensor.scalar_type(); });
            if (it == DTypes.end()) {
                throw EngineError(path.string() + ": cannot store tensor \"" + name + "\" of type "
                                  + std::string(c10::toString(tensor.scalar_type())) + " in safetensors");
            }
            at::Tensor cpu = tensor.to(at::kCPU).contiguous();
            const auto bytes = static_cast<std::uint64_t>(cpu.nbytes());
            header[name]
                = {{"dtype", it->name}, {"shape", cpu.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
            offset += bytes;
            contiguous.push_back(std::move(cpu));
        }
        std::string json = header.dump();
        // Pad with spaces so the data section starts 8-byte aligned and views need no copy.
        json.append((8 - json.size() % 8) % 8, ' ');

        const std::filesystem::path temporary = path.string() + ".tmp";
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            std::array<char, 8> length{};
            std::uint64_t n = json.size();
            for (char& byte : length) {
                byte = static_cast<char>(n & 0xFF);
                n >>= 8;
            }
            out.write(length.data(), length.size());
            out.write(json.data(), static_cast<std::streamsize>(json.size()));
            for (const at::Tensor& t : contiguous) {
                out.write(static_cast<const char*>(t.const_data_ptr()), static_cast<std::streamsize>(t.nbytes()));
            }
            out.flush();
            if (!out) {
                std::filesystem::remove(temporary);
                throw EngineError(path.string() + ": cannot write the file");
            }
        }
        std::filesystem::rename(temporary, path);
    }
} // namespace Atelier::Engine
