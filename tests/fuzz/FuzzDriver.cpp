// SPDX-License-Identifier: GPL-3.0-or-later
// A stand-in for libFuzzer's main(), for compilers without it (the normal gcc build): it runs every input it is
// given, then random mutations of them for a set time. It has no coverage feedback, so it is a smoke test that
// keeps the targets building and their invariants exercised in every `ctest` run; real fuzzing is scripts/fuzz.
//
//   FuzzX [--seconds N] [--seed S] [--max-len BYTES] [--dict FILE] [--artifact-prefix PREFIX] PATH...
//
// PATH is a corpus folder (every regular file in it) or one file (to replay a crash). Without --seconds only the
// inputs themselves run. The seed is printed, so a failing run can be repeated exactly. When a target aborts or
// crashes (or a sanitizer reports), the input that did it is written to PREFIX + "crash-<seed>-<run>".

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional in a target, as with libFuzzer.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
// Present when a sanitizer runtime is linked: called just before the sanitizer ends the process after a report.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)());

namespace
{
    using Bytes = std::vector<std::uint8_t>;

    struct Input
    {
        std::string name;
        Bytes bytes;
    };

    // What the crash handlers need, prepared before any input runs: they may only make async-signal-safe calls.
    const Bytes* g_current = nullptr;
    std::string g_crashPath;
    volatile std::sig_atomic_t g_dumped = 0;

    void writeAll(int fd, const void* data, std::size_t size)
    {
        const auto* p = static_cast<const char*>(data);
        while (size > 0) {
            const ssize_t n = ::write(fd, p, size);
            if (n <= 0) {
                return;
            }
            p += n;
            size -= static_cast<std::size_t>(n);
        }
    }

    void writeMessage(const char* text)
    {
        writeAll(STDERR_FILENO, text, std::strlen(text));
    }

    void dumpCurrentInput()
    {
        if (g_dumped || !g_current || g_crashPath.empty()) {
            return;
        }
        g_dumped = 1;
        const int fd = ::open(g_crashPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            writeMessage("fuzz driver: cannot write the crashing input\n");
            return;
        }
        writeAll(fd, g_current->data(), g_current->size());
        ::close(fd);
        writeMessage("fuzz driver: the crashing input is in ");
        writeMessage(g_crashPath.c_str());
        writeMessage("\n");
    }

    void onFatalSignal(int signal)
    {
        dumpCurrentInput();
        // Die of the same signal, so the exit status (and CTest) tells what happened.
        std::signal(signal, SIG_DFL);
        std::raise(signal);
    }

    void installCrashHandlers()
    {
        for (const int signal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
            std::signal(signal, onFatalSignal);
        }
        if (__sanitizer_set_death_callback) {
            __sanitizer_set_death_callback(dumpCurrentInput);
        }
    }

    Bytes readFile(const std::filesystem::path& path)
    {
        std::ifstream in(path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    /// Tokens from an AFL/libFuzzer dictionary: every `"…"` on a line (with \\, \" and \xHH escapes); '#' lines are
    /// comments. Mutations splice them in, as libFuzzer does with -dict.
    std::vector<Bytes> readDictionary(const std::filesystem::path& path)
    {
        std::vector<Bytes> tokens;
        std::ifstream in(path);
        std::string line;
        while (std::getline(in, line)) {
            const auto open = line.find('"');
            const auto close = line.rfind('"');
            if (line.starts_with('#') || open == std::string::npos || close <= open) {
                continue;
            }
            Bytes token;
            for (std::size_t i = open + 1; i < close; ++i) {
                if (line[i] == '\\' && i + 1 < close) {
                    const char next = line[++i];
                    if (next == 'x' && i + 2 < close) {
                        token.push_back(static_cast<std::uint8_t>(std::stoi(line.substr(i + 1, 2), nullptr, 16)));
                        i += 2;
                        continue;
                    }
                    token.push_back(static_cast<std::uint8_t>(next));
                    continue;
                }
                token.push_back(static_cast<std::uint8_t>(line[i]));
            }
            if (!token.empty()) {
                tokens.push_back(std::move(token));
            }
        }
        return tokens;
    }

    /// Random edits in the spirit of libFuzzer's mutators, written for this driver.
    class Mutator
    {
    public:
        Mutator(std::uint64_t seed, std::size_t maxLength, const std::vector<Input>& corpus,
                const std::vector<Bytes>& dictionary)
            : m_random(seed)
            , m_maxLength(maxLength)
            , m_corpus(corpus)
            , m_dictionary(dictionary)
        { }

        std::size_t below(std::size_t n)
        {
            return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(m_random);
        }

        /// One to four stacked edits of @p input, kept within the length limit.
        void mutate(Bytes& input)
        {
            const std::size_t edits = 1 + below(4);
            for (std::size_t i = 0; i < edits; ++i) {
                mutateOnce(input);
            }
            if (input.size() > m_maxLength) {
                input.resize(m_maxLength);
            }
        }

    private:
        void insert(Bytes& input, const Bytes& piece)
        {
            const std::size_t at = below(input.size() + 1);
            input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), piece.begin(), piece.end());
        }

        void overwrite(Bytes& input, const Bytes& piece)
        {
            if (input.size() < piece.size()) {
                insert(input, piece);
                return;
            }
            const std::size_t at = below(input.size() - piece.size() + 1);
            std::copy(piece.begin(), piece.end(), input.begin() + static_cast<std::ptrdiff_t>(at));
        }

        Bytes randomChunk(const Bytes& from)
        {
            if (from.empty()) {
                return {};
            }
            const std::size_t begin = below(from.size());
            const std::size_t length = 1 + below(std::min<std::size_t>(from.size() - begin, 64));
            return Bytes(from.begin() + static_cast<std::ptrdiff_t>(begin),
                         from.begin() + static_cast<std::ptrdiff_t>(begin + length));
        }

        Bytes interestingInteger()
        {
            static constexpr std::array<std::uint64_t, 12> values{
                0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF};
            const std::uint64_t value = values[below(values.size())] + (below(4) == 0 ? 1 : 0);
            const std::size_t width = std::size_t{1} << below(4); // 1, 2, 4 or 8 bytes
            const bool bigEndian = below(2) == 0;
            Bytes bytes(width);
            for (std::size_t k = 0; k < width; ++k) {
                const std::size_t shift = 8 * (bigEndian ? width - 1 - k : k);
                bytes[k] = static_cast<std::uint8_t>(value >> shift);
            }
            return bytes;
        }

        Bytes interestingNumberText()
        {
            static constexpr std::array<std::string_view, 16> values{"0",
                                                                     "-1",
                                                                     "1",
                                                                     "8",
                                                                     "64",
                                                                     "150",
                                                                     "151",
                                                                     "2048",
                                                                     "2049",
                                                                     "30.000001",
                                                                     "1e308",
                                                                     "-0",
                                                                     "nan",
                                                                     "18446744073709551615",
                                                                     "18446744073709551616",
                                                                     "9223372036854775808"};
            const std::string_view text = values[below(values.size())];
            return Bytes(text.begin(), text.end());
        }

        void mutateOnce(Bytes& input)
        {
            switch (below(11)) {
            case 0: // flip a bit
                if (!input.empty()) {
                    input[below(input.size())] ^= static_cast<std::uint8_t>(1U << below(8));
                }
                break;
            case 1: // a random byte
                if (!input.empty()) {
                    input[below(input.size())] = static_cast<std::uint8_t>(below(256));
                }
                break;
            case 2: // insert random bytes
            {
                Bytes piece(1 + below(8));
                for (auto& b : piece) {
                    b = static_cast<std::uint8_t>(below(256));
                }
                insert(input, piece);
            } break;
            case 3: // erase a range
                if (!input.empty()) {
                    const std::size_t begin = below(input.size());
                    const std::size_t length = 1 + below(std::min<std::size_t>(input.size() - begin, 32));
                    input.erase(input.begin() + static_cast<std::ptrdiff_t>(begin),
                                input.begin() + static_cast<std::ptrdiff_t>(begin + length));
                }
                break;
            case 4: // repeat a piece of itself somewhere else
                insert(input, randomChunk(input));
                break;
            case 5: // splice in a piece of another input
                if (!m_corpus.empty()) {
                    insert(input, randomChunk(m_corpus[below(m_corpus.size())].bytes));
                }
                break;
            case 6: // a boundary integer, as binary
                overwrite(input, interestingInteger());
                break;
            case 7: // a boundary number, as text
                if (below(2) == 0) {
                    insert(input, interestingNumberText());
                } else {
                    overwrite(input, interestingNumberText());
                }
                break;
            case 8: // a dictionary token
                if (!m_dictionary.empty()) {
                    const Bytes& token = m_dictionary[below(m_dictionary.size())];
                    if (below(2) == 0) {
                        insert(input, token);
                    } else {
                        overwrite(input, token);
                    }
                }
                break;
            case 9: // cut the end off, now and then: truncated inputs matter, but this edit loses the most
                if (!input.empty() && below(4) == 0) {
                    input.resize(below(input.size()));
                }
                break;
            default: // cross over: the head of this input and the tail of another
                if (!m_corpus.empty()) {
                    const Bytes& other = m_corpus[below(m_corpus.size())].bytes;
                    input.resize(below(input.size() + 1));
                    const std::size_t from = below(other.size() + 1);
                    input.insert(input.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
                }
                break;
            }
        }

        std::mt19937_64 m_random;
        std::size_t m_maxLength;
        const std::vector<Input>& m_corpus;
        const std::vector<Bytes>& m_dictionary;
    };

    [[noreturn]] void usage(const char* program, const char* problem)
    {
        std::fprintf(stderr,
                     "%s: %s\nusage: %s [--seconds N] [--seed S] [--max-len BYTES] [--dict FILE] "
                     "[--artifact-prefix PREFIX] PATH...\n",
                     program, problem, program);
        std::exit(2);
    }

    void run(const Bytes& input)
    {
        g_current = &input;
        LLVMFuzzerTestOneInput(input.data(), input.size());
        g_current = nullptr;
    }
} // namespace

int main(int argc, char** argv)
{
    const char* program = argv[0];
    double seconds = 0;
    std::uint64_t seed = std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32);
    std::size_t maxLength = 0;
    std::string artifactPrefix;
    std::vector<std::filesystem::path> paths;
    std::vector<std::filesystem::path> dictionaries;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(program, "an option lacks its value");
            }
            return argv[++i];
        };
        try {
            if (arg == "--seconds") {
                seconds = std::stod(value());
            } else if (arg == "--seed") {
                seed = std::stoull(value());
            } else if (arg == "--max-len") {
                maxLength = std::stoull(value());
            } else if (arg == "--dict") {
                dictionaries.emplace_back(value());
            } else if (arg == "--artifact-prefix") {
                artifactPrefix = value();
            } else if (arg.starts_with("--")) {
                usage(program, "unknown option");
            } else {
                paths.emplace_back(arg);
            }
        } catch (const std::exception&) {
            usage(program, "an option has an invalid number");
        }
    }
    if (paths.empty()) {
        usage(program, "no corpus folder or input file given");
    }

    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }

    std::vector<Input> corpus;
    for (const auto& path : paths) {
        std::error_code error;
        if (std::filesystem::is_directory(path, error)) {
            std::vector<std::filesystem::path> files;
            for (const auto& entry : std::filesystem::directory_iterator(path)) {
                if (entry.is_regular_file()) {
                    files.push_back(entry.path());
                }
            }
            // Directory order differs between file systems; sorted, a seed means the same runs everywhere.
            std::sort(files.begin(), files.end());
            for (const auto& file : files) {
                corpus.push_back({file.string(), readFile(file)});
            }
        } else if (std::filesystem::is_regular_file(path, error)) {
            corpus.push_back({path.string(), readFile(path)});
        } else {
            std::fprintf(stderr, "%s: %s is neither a folder nor a file\n", program, path.c_str());
            return 2;
        }
    }
    std::vector<Bytes> dictionary;
    for (const auto& path : dictionaries) {
        const std::vector<Bytes> tokens = readDictionary(path);
        dictionary.insert(dictionary.end(), tokens.begin(), tokens.end());
    }
    if (maxLength == 0) {
        // As libFuzzer: room to grow beyond the largest seed, but not without bound.
        std::size_t largest = 0;
        for (const auto& input : corpus) {
            largest = std::max(largest, input.bytes.size());
        }
        maxLength = std::max<std::size_t>(4096, largest + largest / 4);
    }

    std::printf("%s: seed %llu (repeat with --seed %llu), %zu inputs, %zu dictionary tokens, %.0f s\n", program,
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), corpus.size(),
                dictionary.size(), seconds);
    std::fflush(stdout);

    installCrashHandlers();
    // Inputs from files first: a replayed crash should name the file it came from.
    for (const auto& input : corpus) {
        g_crashPath = artifactPrefix + "crash-" + std::filesystem::path(input.name).filename().string();
        run(input.bytes);
    }
    if (seconds <= 0) {
        std::printf("%s: %zu inputs ran\n", program, corpus.size());
        return 0;
    }

    // Mutants that parse partly are worth mutating further, but without coverage the driver cannot tell which
    // those are; keeping a random share of them lets the walk get several edits away from the seeds.
    std::vector<Input> pool = corpus;
    if (pool.empty()) {
        pool.push_back({"empty", {}});
    }
    constexpr std::size_t maxPool = 512;
    Mutator mutator(seed, maxLength, corpus, dictionary);
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    std::uint64_t runs = 0;
    const std::string crashPrefix = artifactPrefix + "crash-" + std::to_string(seed) + "-";
    while (std::chrono::steady_clock::now() < deadline) {
        for (int batch = 0; batch < 16; ++batch) {
            // Half the time a seed itself: edits mostly shorten, and a walk only through mutants drifts towards
            // tiny inputs that stop at the first byte.
            const bool fromSeed = !corpus.empty() && mutator.below(2) == 0;
            Bytes input
                = fromSeed ? corpus[mutator.below(corpus.size())].bytes : pool[mutator.below(pool.size())].bytes;
            mutator.mutate(input);
            g_crashPath = crashPrefix + std::to_string(runs);
            run(input);
            ++runs;
            if (mutator.below(8) == 0) {
                if (pool.size() < maxPool) {
                    pool.push_back({{}, std::move(input)});
                } else {
                    // Never evict the seeds themselves: they are the valid inputs the walk starts from.
                    const std::size_t seeds = std::min(corpus.size(), maxPool - 1);
                    pool[seeds + mutator.below(maxPool - seeds)].bytes = std::move(input);
                }
            }
        }
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %llu mutated runs in %.1f s (%.0f/s), no failure\n", program,
                static_cast<unsigned long long>(runs), elapsed, static_cast<double>(runs) / elapsed);
    return 0;
}
