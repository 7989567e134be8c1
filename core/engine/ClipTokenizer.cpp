// SPDX-License-Identifier: GPL-3.0-or-later
#include "ClipTokenizer.h"

#include <nlohmann/json.hpp>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <climits>
#include <functional>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "EngineError.h"
#include "ModelFiles.h"

namespace Atelier::Engine
{
    namespace
    {
        constexpr std::u32string_view StartOfText = U"<|startoftext|>";
        constexpr std::u32string_view EndOfText = U"<|endoftext|>";
        constexpr std::string_view EndOfWord = "</w>";
        constexpr std::size_t IdsPerChunk = ClipTokenizer::ContextLength - 2;
        // Like the `tokenizers` BPE cache: bounded, so a long-running worker fed endless novel words cannot grow
        // without limit; once full, further words are simply merged every time.
        constexpr std::size_t CacheCapacity = 10000;

        /// GPT-2's bytes_to_unicode(): every byte becomes a printable character, so that BPE never sees
        /// whitespace or control characters. Printable Latin-1 bytes map to themselves, the other 68 bytes to
        /// U+0100 onwards in byte order. Returned as UTF-8, the form vocab.json's keys have.
        std::array<std::string, 256> byteLevelAlphabet()
        {
            const auto printable
                = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; };
            std::array<std::string, 256> alphabet;
            char32_t next = 0x100;
            for (int b = 0; b < 256; ++b) {
                const char32_t cp = printable(b) ? static_cast<char32_t>(b) : next++;
                // Every code point here is below U+0800, so two bytes at most.
                if (cp < 0x80) {
                    alphabet.at(b) = std::string(1, static_cast<char>(cp));
                } else {
                    alphabet.at(b) = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
                }
            }
            return alphabet;
        }

        void appendUtf8(std::string& out, char32_t cp)
        {
            if (cp < 0x80) {
                out += static_cast<char>(cp);
            } else if (cp < 0x800) {
                out += static_cast<char>(0xC0 | (cp >> 6));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out += static_cast<char>(0xE0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (cp >> 18));
                out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            }
        }

        bool isLetter(UChar32 c)
        {
            return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0;
        }

        bool isNumber(UChar32 c)
        {
            return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0;
        }

        // The Unicode White_Space property is what Oniguruma's \s matches, the regex engine `tokenizers` uses:
        // it includes U+0085, U+00A0 and U+3000 but not U+200B or the ASCII separators U+001C..U+001F.
        bool isSpace(UChar32 c)
        {
            return u_isUWhiteSpace(c) != 0;
        }

        /// UTF-8 → NFC → lowercase, as code points. Ill-formed UTF-8 becomes U+FFFD.
        /// HF's normalizer also replaces each whitespace run by one space between those two steps; that is left
        /// out because whitespace only ever separates words here, and the special tokens contain none.
        std::u32string normalize(std::string_view utf8)
        {
            if (utf8.size() > static_cast<std::size_t>(INT32_MAX / 2)) {
                throw EngineError("The prompt is too long to tokenize (" + std::to_string(utf8.size()) + " bytes).");
            }
            UErrorCode status = U_ZERO_ERROR;
            std::u16string utf16(utf8.size(), u'\0'); // UTF-16 never needs more code units than UTF-8 has bytes
            int32_t length = 0;
            u_strFromUTF8WithSub(utf16.data(), static_cast<int32_t>(utf16.size()), &length, utf8.data(),
                                 static_cast<int32_t>(utf8.size()), 0xFFFD, nullptr, &status);
            if (U_FAILURE(status)) {
                throw EngineError(std::string("Cannot decode the prompt as UTF-8: ") + u_errorName(status) + ".");
            }
            const icu::UnicodeString decoded(false, utf16.data(), length); // read-only alias, no copy
            const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
            icu::UnicodeString composed;
            if (U_SUCCESS(status)) {
                composed = nfc->normalize(decoded, status);
            }
            if (U_FAILURE(status)) {
                throw EngineError(std::string("Unicode normalization of the prompt failed: ") + u_errorName(status)
                                  + ".");
            }

            std::u32string out;
            out.reserve(static_cast<std::size_t>(composed.length()));
            for (int32_t i = 0; i < composed.length();) {
                const UChar32 c = composed.char32At(i);
                i += U16_LENGTH(c);
                if (c < 0x80) {
                    out += static_cast<char32_t>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
                    continue;
                }
                // One character at a time, with the root locale, because that is what `tokenizers` does (Rust's
                // char::to_lowercase): full mappings such as İ → i + U+0307, but no context, so a word-final Σ
                // becomes σ rather than ς, and no Turkish or Lithuanian rules whatever the machine's locale.
                std::array<UChar, 2> source{};
                int32_t sourceLength = 0;
                U16_APPEND_UNSAFE(source.data(), sourceLength, c);
                std::array<UChar, 8> lower{};
                UErrorCode caseStatus = U_ZERO_ERROR;
                const int32_t lowerLength = u_strToLower(lower.data(), static_cast<int32_t>(lower.size()),
                                                         source.data(), sourceLength, "", &caseStatus);
                if (U_FAILURE(caseStatus)) {
                    out += static_cast<char32_t>(c);
                    continue;
                }
                for (int32_t j = 0; j < lowerLength;) {
                    UChar32 lc = 0;
                    U16_NEXT(lower.data(), j, lowerLength, lc);
                    out += static_cast<char32_t>(lc);
                }
            }
            return out;
        }

        /// CLIP's pre-tokenizer regex, `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, with what it
        /// does not match (whitespace) dropped. Calls @p piece with each match, in order.
        template <typename OnPiece> void splitWords(std::u32string_view text, const OnPiece& piece)
        {
            static constexpr std::array<std::u32string_view, 7> Contractions
                = {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
            std::size_t i = 0;
            while (i < text.size()) {
                const auto c = static_cast<UChar32>(text[i]);
                std::size_t end = i + 1;
                if (isSpace(c)) {
                    i = end;
                    continue;
                }
                if (c == '\'') {
                    const auto rest = text.substr(i);
                    const auto contraction = std::find_if(Contractions.begin(), Contractions.end(),
                                                          [&](std::u32string_view k) { return rest.starts_with(k); });
                    if (contraction != Contractions.end()) {
                        piece(text.substr(i, contraction->size()));
                        i += contraction->size();
                        continue;
                    }
                }
                if (isLetter(c)) {
                    while (end < text.size() && isLetter(static_cast<UChar32>(text[end]))) {
                        ++end;
                    }
                } else if (!isNumber(c)) { // a digit is a word of its own
                    while (end < text.size()) {
                        const auto d = static_cast<UChar32>(text[end]);
                        if (isSpace(d) || isLetter(d) || isNumber(d)) {
                            break;
                        }
                        ++end;
                    }
                }
                piece(text.substr(i, end - i));
                i = end;
            }
        }
    } // namespace

    struct ClipTokenizer::Data
    {
        struct Merge
        {
            int rank = 0;
            std::int64_t id = 0; ///< the id of the merged token
        };

        static std::uint64_t pairKey(std::int64_t left, std::int64_t right)
        {
            return (static_cast<std::uint64_t>(left) << 32) | static_cast<std::uint64_t>(right);
        }

        std::array<std::int64_t, 256> byteIds{}; ///< a byte inside a word
        std::array<std::int64_t, 256> finalByteIds{}; ///< a byte ending a word, i.e. with `</w>`
        std::unordered_map<std::uint64_t, Merge> merges;

        mutable std::shared_mutex cacheMutex;
        mutable std::unordered_map<std::string, std::vector<std::int64_t>> cache;

        std::vector<std::int64_t> bpe(const std::string& word) const;
        void appendWord(const std::string& word, std::vector<std::int64_t>& ids) const;
    };

    // BPE over one pre-tokenized word: start from one symbol per byte, then repeatedly merge the adjacent pair of
    // lowest rank, leftmost first. A heap of candidate pairs keeps long words (a prompt of 10,000 "!") at
    // n log n; candidates made stale by an earlier merge are recognised and skipped when they come up.
    std::vector<std::int64_t> ClipTokenizer::Data::bpe(const std::string& word) const
    {
        struct Symbol
        {
            std::int64_t id;
            int prev;
            int next;
        };
        struct Candidate
        {
            int rank;
            int pos;
            std::int64_t id;
            bool operator>(const Candidate& other) const
            {
                return rank != other.rank ? rank > other.rank : pos > other.pos;
            }
        };

        const int n = static_cast<int>(word.size());
        std::vector<Symbol> symbols(word.size());
        for (int i = 0; i < n; ++i) {
            const auto byte = static_cast<unsigned char>(word[static_cast<std::size_t>(i)]);
            symbols[i] = {i + 1 == n ? finalByteIds.at(byte) : byteIds.at(byte), i - 1, i + 1 == n ? -1 : i + 1};
        }
        std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
        const auto consider = [&](int left) {
            if (left < 0 || symbols[left].next < 0) {
                return;
            }
            const auto merge = merges.find(pairKey(symbols[left].id, symbols[symbols[left].next].id));
            if (merge != merges.end()) {
                queue.push({merge->second.rank, left, merge->second.id});
            }
        };
        for (int i = 0; i + 1 < n; ++i) {
            consider(i);
        }
        std::vector<bool> removed(word.size(), false);
        while (!queue.empty()) {
            const Candidate top = queue.top();
            queue.pop();
            Symbol& left = symbols[top.pos];
            if (removed[top.pos] || left.next < 0) {
                continue;
            }
            const auto merge = merges.find(pairKey(left.id, symbols[left.next].id));
            if (merge == merges.end() || merge->second.id != top.id) {
                continue; // a neighbour changed since this pair was queued
            }
            const int right = left.next;
            removed[right] = true;
            left.id = top.id;
            left.next = symbols[right].next;
            if (left.next >= 0) {
                symbols[left.next].prev = top.pos;
            }
            consider(left.prev);
            consider(top.pos);
        }

        std::vector<std::int64_t> ids;
        for (int i = 0; i >= 0 && i < n; i = symbols[i].next) {
            ids.push_back(symbols[i].id);
        }
        return ids;
    }

    void ClipTokenizer::Data::appendWord(const std::string& word, std::vector<std::int64_t>& ids) const
    {
        {
            const std::shared_lock lock(cacheMutex);
            if (const auto hit = cache.find(word); hit != cache.end()) {
                ids.insert(ids.end(), hit->second.begin(), hit->second.end());
                return;
            }
        }
        auto merged = bpe(word);
        ids.insert(ids.end(), merged.begin(), merged.end());
        const std::unique_lock lock(cacheMutex);
        if (cache.size() < CacheCapacity) {
            cache.try_emplace(word, std::move(merged));
        }
    }

    ClipTokenizer::ClipTokenizer(std::shared_ptr<Data> data)
        : m_data(std::move(data))
    { }

    ClipTokenizer ClipTokenizer::fromFolder(const std::filesystem::path& dir)
    {
        auto data = std::make_shared<Data>();

        // vocab.json: {"token": id, ...}, tokens in byte-level form.
        const auto vocabPath = dir / "vocab.json";
        std::unordered_map<std::string, std::int64_t> vocab;
        {
            nlohmann::json json;
            try {
                json = nlohmann::json::parse(readTextFile(vocabPath));
            } catch (const nlohmann::json::exception& e) {
                throw EngineError("The tokenizer vocabulary " + vocabPath.string() + " is not valid JSON: " + e.what());
            }
            if (!json.is_object() || json.empty()) {
                throw EngineError("The tokenizer vocabulary " + vocabPath.string()
                                  + " is not a JSON object mapping tokens to ids.");
            }
            vocab.reserve(json.size());
            for (const auto& [token, id] : json.items()) {
                if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > INT32_MAX) {
                    throw EngineError("The tokenizer vocabulary " + vocabPath.string() + " gives the token \"" + token
                                      + "\" the id " + id.dump() + ", which is not a valid token id.");
                }
                vocab.emplace(token, id.get<std::int64_t>());
            }
        }
        // The pipeline hard-codes these ids (BOS, EOS and padding); a vocabulary that disagrees is another model.
        for (const auto& [token, expected] : {std::pair{"<|startoftext|>", BosId}, std::pair{"<|endoftext|>", EosId}}) {
            const auto found = vocab.find(token);
            if (found == vocab.end() || found->second != expected) {
                throw EngineError("The tokenizer vocabulary " + vocabPath.string() + " does not give " + token
                                  + " the id " + std::to_string(expected) + " that Stable Diffusion 1.x uses.");
            }
        }
        const auto alphabet = byteLevelAlphabet();
        for (std::size_t b = 0; b < alphabet.size(); ++b) {
            // A byte missing from the vocabulary is the unknown token, which for CLIP is <|endoftext|>.
            const auto plain = vocab.find(alphabet.at(b));
            data->byteIds.at(b) = plain != vocab.end() ? plain->second : EosId;
            const auto suffixed = vocab.find(alphabet.at(b) + std::string(EndOfWord));
            data->finalByteIds.at(b) = suffixed != vocab.end() ? suffixed->second : EosId;
        }

        // merges.txt: "#version" header, then one "left right" pair per line, highest priority first.
        const auto mergesPath = dir / "merges.txt";
        const std::string merges = readTextFile(mergesPath);
        std::size_t lineStart = 0;
        int lineNumber = 0;
        int rank = 0;
        while (lineStart < merges.size()) {
            auto lineEnd = merges.find('\n', lineStart);
            if (lineEnd == std::string::npos) {
                lineEnd = merges.size();
            }
            std::string_view line(merges.data() + lineStart, lineEnd - lineStart);
            lineStart = lineEnd + 1;
            ++lineNumber;
            if (line.ends_with('\r')) {
                line.remove_suffix(1);
            }
            if (line.starts_with("#version")) {
                continue;
            }
            const auto where = [&] { return mergesPath.string() + ":" + std::to_string(lineNumber); };
            const auto space = line.find(' ');
            if (space == std::string_view::npos || space == 0 || space + 1 == line.size()
                || line.find(' ', space + 1) != std::string_view::npos) {
                throw EngineError("The tokenizer merges " + where() + " is not two tokens separated by one space: \""
                                  + std::string(line) + "\".");
            }
            const std::string left(line.substr(0, space));
            const std::string right(line.substr(space + 1));
            const auto leftId = vocab.find(left);
            const auto rightId = vocab.find(right);
            const auto mergedId = vocab.find(left + right);
            if (leftId == vocab.end() || rightId == vocab.end() || mergedId == vocab.end()) {
                throw EngineError("The tokenizer merges " + where() + " merges \"" + std::string(line) + "\", but "
                                  + vocabPath.filename().string() + " lacks \""
                                  + (leftId == vocab.end()        ? left
                                         : rightId == vocab.end() ? right
                                                                  : left + right)
                                  + "\".");
            }
            // A later duplicate overrides an earlier one, as in `tokenizers`.
            data->merges.insert_or_assign(Data::pairKey(leftId->second, rightId->second),
                                          Data::Merge{rank++, mergedId->second});
        }
        if (rank == 0) {
            throw EngineError("The tokenizer merges " + mergesPath.string() + " holds no merges.");
        }
        return ClipTokenizer(std::move(data));
    }

    std::vector<std::int64_t> ClipTokenizer::encode(std::string_view utf8Text) const
    {
        const std::u32string text = normalize(utf8Text);
        std::vector<std::int64_t> ids;
        std::string word;
        const auto encodeWords = [&](std::u32string_view segment) {
            splitWords(segment, [&](std::u32string_view piece) {
                word.clear();
                for (const char32_t c : piece) {
                    appendUtf8(word, c);
                }
                m_data->appendWord(word, ids);
            });
        };
        // The special tokens are found in the normalized text, anywhere (even inside a run of punctuation), before
        // the text is split into words; "<|ENDOFTEXT|>" is the special token too, since it is lowercased first.
        std::size_t segmentStart = 0;
        for (std::size_t i = text.find(U'<'); i != std::u32string::npos; i = text.find(U'<', i)) {
            const std::u32string_view rest = std::u32string_view(text).substr(i);
            const bool start = rest.starts_with(StartOfText);
            if (start || rest.starts_with(EndOfText)) {
                encodeWords(std::u32string_view(text).substr(segmentStart, i - segmentStart));
                ids.push_back(start ? BosId : EosId);
                i += start ? StartOfText.size() : EndOfText.size();
                segmentStart = i;
            } else {
                ++i;
            }
        }
        encodeWords(std::u32string_view(text).substr(segmentStart));
        return ids;
    }

    std::vector<std::int64_t> ClipTokenizer::encodePadded(std::string_view utf8Text) const
    {
        const auto ids = encode(utf8Text);
        std::vector<std::int64_t> padded;
        padded.reserve(ContextLength);
        padded.push_back(BosId);
        padded.insert(padded.end(), ids.begin(),
                      ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), IdsPerChunk)));
        padded.resize(ContextLength, EosId); // the EOS, then EOS as padding
        return padded;
    }

    std::vector<std::vector<std::int64_t>> ClipTokenizer::encodeChunks(std::string_view utf8Text) const
    {
        const auto ids = encode(utf8Text);
        const std::size_t count = std::max<std::size_t>(1, (ids.size() + IdsPerChunk - 1) / IdsPerChunk);
        std::vector<std::vector<std::int64_t>> chunks(count);
        for (std::size_t c = 0; c < count; ++c) {
            const auto begin = ids.begin() + static_cast<std::ptrdiff_t>(c * IdsPerChunk);
            const auto end = ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), (c + 1) * IdsPerChunk));
            auto& chunk = chunks[c];
            chunk.reserve(ContextLength);
            chunk.push_back(BosId);
            chunk.insert(chunk.end(), begin, end);
            chunk.resize(ContextLength, EosId);
        }
        return chunks;
    }
} // namespace Atelier::Engine
