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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "EngineError.h"
#include "ModelFiles.h"

namespace Atelier::Engine
{
    namespace
    {
        /// LibTorch's element type for each safetensors dtype; the names and sizes live in SafetensorsHeader.cpp.
        struct ScalarEntry
        {
            SafetensorsDType dtype;
            c10::ScalarType scalar;
        };

        constexpr std::array Scalars{
            ScalarEntry{SafetensorsDType::F64, c10::ScalarType::Double},
            ScalarEntry{SafetensorsDType::F32, c10::ScalarType::Float},
            ScalarEntry{SafetensorsDType::F16, c10::ScalarType::Half},
            ScalarEntry{SafetensorsDType::BF16, c10::ScalarType::BFloat16},
            ScalarEntry{SafetensorsDType::I64, c10::ScalarType::Long},
            ScalarEntry{SafetensorsDType::I32, c10::ScalarType::Int},
            ScalarEntry{SafetensorsDType::I16, c10::ScalarType::Short},
            ScalarEntry{SafetensorsDType::I8, c10::ScalarType::Char},
            ScalarEntry{SafetensorsDType::U8, c10::ScalarType::Byte},
            ScalarEntry{SafetensorsDType::Bool, c10::ScalarType::Bool},
        };

        c10::ScalarType scalarFor(SafetensorsDType dtype)
        {
            return std::find_if(Scalars.begin(), Scalars.end(), [&](const auto& e) { return e.dtype == dtype; })
                ->scalar;
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
        if (hasPickleExtension(path)) {
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
        const auto options = at::TensorOptions().dtype(scalarFor(info->dtype)).device(at::kCPU);
        if (info->begin == info->end) {
            return at::empty(info->shape, options);
        }
        auto* start = const_cast<std::byte*>(data().data() + info->begin);
        if (reinterpret_cast<std::uintptr_t>(start) % elementSize(info->dtype) != 0) {
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
            const auto it = std::find_if(Scalars.begin(), Scalars.end(),
                                         [&](const auto& e) { return e.scalar == tensor.scalar_type(); });
            if (it == Scalars.end()) {
                throw EngineError(path.string() + ": cannot store tensor \"" + name + "\" of type "
                                  + std::string(c10::toString(tensor.scalar_type())) + " in safetensors");
            }
            at::Tensor cpu = tensor.to(at::kCPU).contiguous();
            const auto bytes = static_cast<std::uint64_t>(cpu.nbytes());
            header[name] = {{"dtype", dtypeName(it->dtype)},
                            {"shape", cpu.sizes().vec()},
                            {"data_offsets", {offset, offset + bytes}}};
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
