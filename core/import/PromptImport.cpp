// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptImport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStringConverter>
#include <QStringDecoder>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        // The only keys a prompt file may set, in every format. The one path, init_image, is only ever read as an
        // image; sd_vae is looked up in the VAE folders by the worker.
        constexpr QStringView allowedKeys[] = {u"prompt",
                                               u"negative_prompt",
                                               u"seed",
                                               u"steps",
                                               u"cfg_scale",
                                               u"width",
                                               u"height",
                                               u"sampler_name",
                                               u"clip_skip",
                                               u"batch_size",
                                               u"n_iter",
                                               u"init_image",
                                               u"denoising_strength",
                                               u"enable_hr",
                                               u"hr_scale",
                                               u"hr_second_pass_steps",
                                               u"hr_upscaler",
                                               u"sd_vae"};

        bool isTextKey(QStringView key)
        {
            return key == u"prompt" || key == u"negative_prompt" || key == u"sampler_name" || key == u"init_image"
                || key == u"hr_upscaler" || key == u"sd_vae";
        }

        bool isAllowedKey(QStringView key)
        {
            return std::find(std::begin(allowedKeys), std::end(allowedKeys), key) != std::end(allowedKeys);
        }

        enum class Format
        {
            Txt,
            Csv,
            Json,
            Jsonl
        };

        std::optional<Format> formatFromName(QString name)
        {
            name = name.trimmed().toLower();
            if (name.startsWith(u'.')) {
                name.remove(0, 1);
            }
            if (name == u"txt") {
                return Format::Txt;
            }
            if (name == u"csv") {
                return Format::Csv;
            }
            if (name == u"json") {
                return Format::Json;
            }
            if (name == u"jsonl") {
                return Format::Jsonl;
            }
            return std::nullopt;
        }

        QString sizeText(qint64 bytes)
        {
            constexpr qint64 kib = 1024;
            if (bytes > 0 && bytes % (kib * kib) == 0) {
                return u"%1 MiB"_s.arg(bytes / (kib * kib));
            }
            if (bytes > 0 && bytes % kib == 0) {
                return u"%1 KiB"_s.arg(bytes / kib);
            }
            return u"%1 bytes"_s.arg(bytes);
        }

        /// Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlong
        /// forms, no surrogates, nothing above U+10FFFF), or -1 when all of @p bytes is valid.
        qsizetype firstInvalidUtf8(QByteArrayView bytes)
        {
            const auto* p = reinterpret_cast<const uchar*>(bytes.data());
            const qsizetype n = bytes.size();
            auto cont
                = [&](qsizetype i, uchar lo = 0x80, uchar hi = 0xBF) { return i < n && p[i] >= lo && p[i] <= hi; };
            qsizetype i = 0;
            while (i < n) {
                const uchar c = p[i];
                if (c < 0x80) {
                    ++i;
                } else if (c >= 0xC2 && c <= 0xDF) {
                    if (!cont(i + 1)) {
                        return i;
                    }
                    i += 2;
                } else if (c >= 0xE0 && c <= 0xEF) {
                    const uchar lo = c == 0xE0 ? 0xA0 : 0x80;
                    const uchar hi = c == 0xED ? 0x9F : 0xBF;
                    if (!cont(i + 1, lo, hi) || !cont(i + 2)) {
                        return i;
                    }
                    i += 3;
                } else if (c >= 0xF0 && c <= 0xF4) {
                    const uchar lo = c == 0xF0 ? 0x90 : 0x80;
                    const uchar hi = c == 0xF4 ? 0x8F : 0xBF;
                    if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) {
                        return i;
                    }
                    i += 4;
                } else {
                    return i;
                }
            }
            return -1;
        }

        /// Splits a line as Python's shlex.split does (POSIX mode, no comments): whitespace separates words,
        /// '…' is literal, "…" honours \" and \\, a backslash outside quotes escapes the next character, and
        /// adjacent quoted and unquoted parts join into one word.
        std::optional<QStringList> shlexSplit(QStringView line, QString* error)
        {
            enum class Quote
            {
                None,
                Single,
                Double
            };
            QStringList words;
            QString word;
            bool inWord = false;
            Quote quote = Quote::None;
            for (qsizetype i = 0; i < line.size(); ++i) {
                const QChar c = line[i];
                if (quote == Quote::Single) {
                    if (c == u'\'') {
                        quote = Quote::None;
                    } else {
                        word += c;
                    }
                    continue;
                }
                if (quote == Quote::Double) {
                    if (c == u'"') {
                        quote = Quote::None;
                    } else if (c == u'\\' && i + 1 < line.size() && (line[i + 1] == u'"' || line[i + 1] == u'\\')) {
                        word += line[++i];
                    } else {
                        word += c;
                    }
                    continue;
                }
                if (c == u' ' || c == u'\t' || c == u'\r' || c == u'\n') {
                    if (inWord) {
                        words.append(word);
                        word.clear();
                        inWord = false;
                    }
                    continue;
                }
                inWord = true;
                if (c == u'\'') {
                    quote = Quote::Single;
                } else if (c == u'"') {
                    quote = Quote::Double;
                } else if (c == u'\\') {
                    if (i + 1 >= line.size()) {
                        *error = u"a backslash at the end of the line escapes nothing"_s;
                        return std::nullopt;
                    }
                    word += line[++i];
                } else {
                    word += c;
                }
            }
            if (quote != Quote::None) {
                *error = quote == Quote::Single ? u"unbalanced quote: a single quote (') is never closed"_s
                                                : u"unbalanced quote: a double quote (\") is never closed"_s;
                return std::nullopt;
            }
            if (inWord) {
                words.append(word);
            }
            return words;
        }

        enum class ValueKind
        {
            Text,
            Number,
            Null,
            Bool,
            Array,
            Object
        };

        struct FieldValue
        {
            QString key;
            ValueKind kind = ValueKind::Text;
            QString text;
            qsizetype line = 0;
        };

        /// One prompt as a file wrote it, before validation.
        struct Record
        {
            qsizetype firstLine = 0;
            qsizetype lastLine = 0;
            QList<FieldValue> fields;
            bool optionSyntax = false; ///< A1111 "--key value" line: name keys "--key" in messages.
        };

        /// Whole decimal number, or an integral value written as a float ("1e9", "30.0"). Values beyond
        /// qint64 come back clamped, so that range checks still refuse them. std::nullopt: not a whole number.
        std::optional<qint64> parseWhole(QStringView s)
        {
            s = s.trimmed();
            const bool negative = s.startsWith(u'-');
            const QStringView digits = negative ? s.mid(1) : s;
            if (!digits.isEmpty()
                && std::all_of(digits.begin(), digits.end(), [](QChar c) { return c >= u'0' && c <= u'9'; })) {
                qint64 value = 0;
                for (QChar c : digits) {
                    const int d = c.unicode() - u'0';
                    if (value > (std::numeric_limits<qint64>::max() - d) / 10) {
                        return negative ? std::numeric_limits<qint64>::min() : std::numeric_limits<qint64>::max();
                    }
                    value = value * 10 + d;
                }
                return negative ? -value : value;
            }
            bool ok = false;
            const double d = s.toDouble(&ok);
            if (!ok || !std::isfinite(d) || d != std::floor(d)) {
                return std::nullopt;
            }
            if (std::fabs(d) >= 9.0e18) {
                return d > 0 ? std::numeric_limits<qint64>::max() : std::numeric_limits<qint64>::min();
            }
            return static_cast<qint64>(d);
        }

        enum class SeedParse
        {
            Value,
            Random,
            Invalid
        };

        /// A seed: 0..2^64-1 written as an integer (or an integral float up to 2^53, where doubles are still
        /// exact); -1 asks for a random seed, as in A1111.
        SeedParse parseSeed(QStringView s, quint64* seed)
        {
            s = s.trimmed();
            if (s == u"-1") {
                return SeedParse::Random;
            }
            if (!s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return c >= u'0' && c <= u'9'; })) {
                quint64 value = 0;
                for (QChar c : s) {
                    const unsigned d = c.unicode() - u'0';
                    if (value > (std::numeric_limits<quint64>::max() - d) / 10) {
                        return SeedParse::Invalid;
                    }
                    value = value * 10 + d;
                }
                *seed = value;
                return SeedParse::Value;
            }
            bool ok = false;
            const double d = s.toDouble(&ok);
            if (!ok || !std::isfinite(d) || d != std::floor(d)) {
                return SeedParse::Invalid;
            }
            if (d == -1.0) {
                return SeedParse::Random;
            }
            if (d < 0.0 || d > 9007199254740992.0) {
                return SeedParse::Invalid;
            }
            *seed = static_cast<quint64>(d);
            return SeedParse::Value;
        }

        /// A small strict JSON reader (RFC 8259) over decoded text. It keeps number lexemes as text, so that
        /// seeds up to 2^64-1 survive (QJsonDocument turns them into doubles), keeps every member of an object
        /// in order, so that duplicate keys can be refused (QJsonDocument keeps one silently), and says where
        /// an error is.
        class JsonReader
        {
        public:
            struct Member
            {
                QString key;
                qsizetype keyPos = 0;
                ValueKind kind = ValueKind::Null;
                QString text;
            };

            explicit JsonReader(QStringView text)
                : m_s(text)
            { }

            qsizetype pos = 0;
            QString error;
            qsizetype errorPos = 0;

            void skipWhitespace()
            {
                while (pos < m_s.size()) {
                    const QChar c = m_s[pos];
                    if (c != u' ' && c != u'\t' && c != u'\n' && c != u'\r') {
                        break;
                    }
                    ++pos;
                }
            }
            bool atEnd() const { return pos >= m_s.size(); }
            QChar peek() const { return atEnd() ? QChar() : m_s[pos]; }

            /// Parses any value; arrays and objects are checked and skipped (only their kind is kept).
            bool parseValue(ValueKind* kind, QString* text, int depth)
            {
                skipWhitespace();
                if (atEnd()) {
                    return fail(u"unexpected end of data, expected a value"_s);
                }
                const QChar c = m_s[pos];
                if (c == u'"') {
                    *kind = ValueKind::Text;
                    return parseString(text);
                }
                if (c == u'{') {
                    *kind = ValueKind::Object;
                    return parseObject(nullptr, depth);
                }
                if (c == u'[') {
                    *kind = ValueKind::Array;
                    return parseArray(depth);
                }
                if (c == u'-' || (c >= u'0' && c <= u'9')) {
                    *kind = ValueKind::Number;
                    return parseNumber(text);
                }
                for (const auto& [word, wordKind] :
                     {std::pair{u"true"_s, ValueKind::Bool}, std::pair{u"false"_s, ValueKind::Bool},
                      std::pair{u"null"_s, ValueKind::Null}}) {
                    if (m_s.mid(pos).startsWith(word)) {
                        pos += word.size();
                        *kind = wordKind;
                        *text = word;
                        return true;
                    }
                }
                return fail(u"unexpected character '%1'"_s.arg(c));
            }

            /// Parses an object starting at '{'; @p members (when given) receives every member in order.
            bool parseObject(QList<Member>* members, int depth)
            {
                if (depth > maxDepth) {
                    return fail(u"nested too deeply"_s);
                }
                ++pos; // '{'
                skipWhitespace();
                if (peek() == u'}') {
                    ++pos;
                    return true;
                }
                while (true) {
                    skipWhitespace();
                    if (peek() != u'"') {
                        return fail(u"expected a key in double quotes"_s);
                    }
                    Member member;
                    member.keyPos = pos;
                    if (!parseString(&member.key)) {
                        return false;
                    }
                    skipWhitespace();
                    if (peek() != u':') {
                        return fail(u"expected ':' after a key"_s);
                    }
                    ++pos;
                    if (!parseValue(&member.kind, &member.text, depth + 1)) {
                        return false;
                    }
                    if (members) {
                        members->append(member);
                    }
                    skipWhitespace();
                    if (peek() == u',') {
                        ++pos;
                        continue;
                    }
                    if (peek() == u'}') {
                        ++pos;
                        return true;
                    }
                    return fail(u"expected ',' or '}'"_s);
                }
            }

            bool fail(const QString& message)
            {
                if (error.isEmpty()) {
                    error = message;
                    errorPos = pos;
                }
                return false;
            }

        private:
            static constexpr int maxDepth = 64;

            bool parseArray(int depth)
            {
                if (depth > maxDepth) {
                    return fail(u"nested too deeply"_s);
                }
                ++pos; // '['
                skipWhitespace();
                if (peek() == u']') {
                    ++pos;
                    return true;
                }
                while (true) {
                    ValueKind kind;
                    QString text;
                    if (!parseValue(&kind, &text, depth + 1)) {
                        return false;
                    }
                    skipWhitespace();
                    if (peek() == u',') {
                        ++pos;
                        continue;
                    }
                    if (peek() == u']') {
                        ++pos;
                        return true;
                    }
                    return fail(u"expected ',' or ']'"_s);
                }
            }

            bool parseNumber(QString* text)
            {
                const qsizetype start = pos;
                auto isDigit = [this] { return !atEnd() && m_s[pos] >= u'0' && m_s[pos] <= u'9'; };
                auto digits = [&] {
                    if (!isDigit()) {
                        return false;
                    }
                    while (isDigit()) {
                        ++pos;
                    }
                    return true;
                };
                if (peek() == u'-') {
                    ++pos;
                }
                if (peek() == u'0') {
                    ++pos;
                } else if (!digits()) {
                    return fail(u"invalid number"_s);
                }
                if (peek() == u'.') {
                    ++pos;
                    if (!digits()) {
                        return fail(u"invalid number: expected digits after '.'"_s);
                    }
                }
                if (peek() == u'e' || peek() == u'E') {
                    ++pos;
                    if (peek() == u'+' || peek() == u'-') {
                        ++pos;
                    }
                    if (!digits()) {
                        return fail(u"invalid number: expected digits in the exponent"_s);
                    }
                }
                *text = m_s.mid(start, pos - start).toString();
                return true;
            }

            int hex4()
            {
                if (pos + 4 > m_s.size()) {
                    return -1;
                }
                bool ok = false;
                const int value = m_s.mid(pos, 4).toInt(&ok, 16);
                if (!ok || !std::all_of(m_s.begin() + pos, m_s.begin() + pos + 4, [](QChar c) {
                        return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
                    })) {
                    return -1;
                }
                pos += 4;
                return value;
            }

            bool parseString(QString* out)
            {
                out->clear();
                ++pos; // '"'
                while (true) {
                    const qsizetype runStart = pos;
                    while (pos < m_s.size() && m_s[pos] != u'"' && m_s[pos] != u'\\' && m_s[pos].unicode() >= 0x20) {
                        ++pos;
                    }
                    out->append(m_s.mid(runStart, pos - runStart));
                    if (atEnd()) {
                        return fail(u"a string is never closed"_s);
                    }
                    const QChar c = m_s[pos];
                    if (c == u'"') {
                        ++pos;
                        return true;
                    }
                    if (c.unicode() < 0x20) {
                        return fail(u"control character U+%1 inside a string (write it as an escape such as \\n)"_s.arg(
                            int(c.unicode()), 4, 16, QChar(u'0')));
                    }
                    ++pos; // '\\'
                    if (atEnd()) {
                        return fail(u"a string is never closed"_s);
                    }
                    const QChar e = m_s[pos++];
                    switch (e.unicode()) {
                    case u'"':
                    case u'\\':
                    case u'/':
                        out->append(e);
                        break;
                    case u'b':
                        out->append(u'\b');
                        break;
                    case u'f':
                        out->append(u'\f');
                        break;
                    case u'n':
                        out->append(u'\n');
                        break;
                    case u'r':
                        out->append(u'\r');
                        break;
                    case u't':
                        out->append(u'\t');
                        break;
                    case u'u': {
                        const int unit = hex4();
                        if (unit < 0) {
                            return fail(u"invalid \\u escape: expected four hex digits"_s);
                        }
                        if (QChar::isLowSurrogate(char16_t(unit))) {
                            return fail(u"invalid \\u escape: a low surrogate without a high one"_s);
                        }
                        out->append(QChar(char16_t(unit)));
                        if (QChar::isHighSurrogate(char16_t(unit))) {
                            if (!m_s.mid(pos).startsWith(u"\\u")) {
                                return fail(u"invalid \\u escape: a high surrogate without a low one"_s);
                            }
                            pos += 2;
                            const int low = hex4();
                            if (low < 0 || !QChar::isLowSurrogate(char16_t(low))) {
                                return fail(u"invalid \\u escape: a high surrogate without a low one"_s);
                            }
                            out->append(QChar(char16_t(low)));
                        }
                        break;
                    }
                    default:
                        --pos;
                        return fail(u"invalid escape \\%1 in a string"_s.arg(e));
                    }
                }
            }

            QStringView m_s;
        };

        class Importer
        {
        public:
            Importer(const QString& name, const ImportOptions& options)
                : m_name(name)
                , m_options(options)
            { }

            void fileIssue(const QString& message) { issue(0, {}, message); }

            void run(const QByteArray& data, Format format)
            {
                if (data.size() > m_options.maxFileBytes) {
                    fileIssue(u"the file is larger than %1, the limit for prompt files; nothing was imported"_s.arg(
                        sizeText(m_options.maxFileBytes)));
                    return;
                }
                decode(data, format != Format::Json);
                if (QStringView(m_text).trimmed().isEmpty()) {
                    return; // finish() reports "no prompts"
                }
                switch (format) {
                case Format::Txt:
                    importTxt();
                    break;
                case Format::Csv:
                    importCsv();
                    break;
                case Format::Json:
                    importJson();
                    break;
                case Format::Jsonl:
                    importJsonl();
                    break;
                }
            }

            ImportResult finish()
            {
                if (m_result.jobs.isEmpty() && m_issueCount == 0) {
                    fileIssue(u"the file contains no prompts"_s);
                }
                if (m_issueCount > m_result.issues.size()) {
                    m_result.issues.append(ImportIssue{
                        m_name, 0, {}, u"%1 more issues are not listed"_s.arg(m_issueCount - m_result.issues.size())});
                }
                if (m_options.strict && m_issueCount > 0) {
                    m_result.aborted = true;
                    m_result.jobs.clear();
                }
                return std::move(m_result);
            }

        private:
            struct Line
            {
                qsizetype start = 0; ///< In m_text.
                qsizetype end = 0; ///< In m_text, before the line terminator.
                bool bad = false;
            };

            /// Records an issue; @p message is a QString or a callable making one, which is only called when
            /// the issue will be listed (a file of garbage can hold millions of them).
            template <typename Message> void issue(qsizetype line, const QString& field, Message&& message)
            {
                ++m_issueCount;
                if (m_result.issues.size() < m_options.maxIssues) {
                    if constexpr (std::is_invocable_v<Message>) {
                        m_result.issues.append(ImportIssue{m_name, line, field, message()});
                    } else {
                        m_result.issues.append(ImportIssue{m_name, line, field, message});
                    }
                }
            }

            template <typename Message> void badLine(qsizetype line, Message&& message)
            {
                issue(line, {}, std::forward<Message>(message));
                if (m_badLines.isEmpty() || m_badLines.last() != line) {
                    m_badLines.append(line);
                }
            }

            /// Decodes @p data into m_text line by line, so that every encoding problem is pinned to its line
            /// and the other lines survive. Bad lines stay in m_text (lossily decoded, NUL as U+FFFD) so that
            /// CSV and JSON keep their structure; records touching them are skipped.
            /// In a .json file lines mean nothing (a whole array may be one line): @p checkLineLength is off and
            /// addRecord limits each value to maxLineBytes instead.
            void decode(const QByteArray& data, bool checkLineLength)
            {
                QStringConverter::Encoding encoding = QStringConverter::Utf8;
                std::optional<QStringConverter::Encoding> detected = QStringConverter::encodingForData(data);
                if (!detected) { // Qt only looks for a BOM when more bytes follow it.
                    if (data.size() == 3 && data.startsWith("\xEF\xBB\xBF")) {
                        detected = QStringConverter::Utf8;
                    } else if (data.size() == 2 && data.startsWith("\xFF\xFE")) {
                        detected = QStringConverter::Utf16LE;
                    } else if (data.size() == 2 && data.startsWith("\xFE\xFF")) {
                        detected = QStringConverter::Utf16BE;
                    }
                }
                qsizetype unit = 1;
                bool bigEndian = false;
                qsizetype pos = 0;
                QString encodingName = u"UTF-8"_s;
                if (detected) {
                    encoding = *detected;
                    switch (encoding) {
                    case QStringConverter::Utf16LE:
                    case QStringConverter::Utf16BE:
                        unit = 2;
                        bigEndian = encoding == QStringConverter::Utf16BE;
                        encodingName = u"UTF-16"_s;
                        break;
                    case QStringConverter::Utf32LE:
                    case QStringConverter::Utf32BE:
                        unit = 4;
                        bigEndian = encoding == QStringConverter::Utf32BE;
                        encodingName = u"UTF-32"_s;
                        break;
                    default:
                        encoding = QStringConverter::Utf8;
                        break;
                    }
                    pos = unit == 1 ? 3 : unit; // skip the byte order mark
                }

                const auto* bytes = reinterpret_cast<const uchar*>(data.constData());
                const qsizetype n = data.size();
                auto unitAt = [&](qsizetype p) {
                    quint32 value = 0;
                    for (qsizetype k = 0; k < unit; ++k) {
                        const quint32 b = bytes[p + (bigEndian ? k : unit - 1 - k)];
                        value = (value << 8) | b;
                    }
                    return value;
                };

                m_text.reserve(n - pos);
                qsizetype lineNumber = 0;
                while (pos < n) {
                    ++lineNumber;
                    qsizetype end = pos;
                    qsizetype nulAt = -1;
                    while (end + unit <= n) {
                        const quint32 u = unitAt(end);
                        if (u == '\n' || u == '\r') {
                            break;
                        }
                        if (u == 0 && nulAt < 0) {
                            nulAt = end;
                        }
                        end += unit;
                    }
                    QStringView terminator;
                    qsizetype next = end;
                    if (end + unit > n) { // no terminator; a partial code unit stays in the line (and is an error)
                        end = n;
                        next = n;
                    } else if (unitAt(end) == '\r' && end + 2 * unit <= n && unitAt(end + unit) == '\n') {
                        terminator = u"\r\n";
                        next = end + 2 * unit;
                    } else {
                        terminator = unitAt(end) == '\r' ? u"\r" : u"\n";
                        next = end + unit;
                    }

                    const QByteArrayView lineBytes(data.constData() + pos, end - pos);
                    QStringDecoder decoder(
                        encoding, QStringConverter::Flag::Stateless | QStringConverter::Flag::ConvertInitialBom);
                    QString text = decoder.decode(lineBytes);
                    if (nulAt >= 0) {
                        badLine(lineNumber, [&] { return u"contains a NUL byte (byte offset %1)"_s.arg(nulAt); });
                        text.replace(QChar(u'\0'), QChar(QChar::ReplacementCharacter));
                    }
                    if (unit == 1) {
                        const qsizetype invalid = firstInvalidUtf8(lineBytes);
                        if (invalid >= 0) {
                            badLine(lineNumber, [&] {
                                return u"invalid UTF-8: byte 0x%1 at byte offset %2 (column %3)"_s
                                    .arg(int(uchar(lineBytes[invalid])), 2, 16, QChar(u'0'))
                                    .arg(pos + invalid)
                                    .arg(invalid + 1);
                            });
                        } else if (decoder.hasError()) {
                            badLine(lineNumber, u"invalid UTF-8"_s);
                        }
                    } else if (decoder.hasError() || !text.isValidUtf16() || lineBytes.size() % unit != 0) {
                        badLine(lineNumber,
                                [&] { return u"invalid %1 (a broken or unpaired character)"_s.arg(encodingName); });
                    }
                    if (checkLineLength && lineBytes.size() > m_options.maxLineBytes) {
                        badLine(lineNumber, [&] {
                            return u"the line is %1 bytes long; the limit is %2"_s.arg(lineBytes.size())
                                .arg(sizeText(m_options.maxLineBytes));
                        });
                    }

                    Line line;
                    line.start = m_text.size();
                    m_text.append(text);
                    line.end = m_text.size();
                    line.bad = !m_badLines.isEmpty() && m_badLines.last() == lineNumber;
                    m_text.append(terminator);
                    m_lines.append(line);
                    pos = next;
                }
            }

            /// 1-based line of a position in m_text (a terminator belongs to the line it ends).
            qsizetype lineAt(qsizetype textPos) const
            {
                const auto it = std::upper_bound(m_lines.cbegin(), m_lines.cend(), textPos,
                                                 [](qsizetype p, const Line& line) { return p < line.start; });
                return std::max<qsizetype>(1, it - m_lines.cbegin());
            }

            qsizetype columnAt(qsizetype textPos) const
            {
                return textPos - m_lines.value(lineAt(textPos) - 1).start + 1;
            }

            bool spanIsBad(qsizetype first, qsizetype last) const
            {
                const auto it = std::lower_bound(m_badLines.cbegin(), m_badLines.cend(), first);
                return it != m_badLines.cend() && *it <= last;
            }

            QStringView lineText(qsizetype index) const
            {
                const Line& line = m_lines.at(index);
                return QStringView(m_text).mid(line.start, line.end - line.start);
            }

            void importTxt()
            {
                for (qsizetype i = 0; i < m_lines.size() && !m_stopped; ++i) {
                    if (m_lines.at(i).bad) {
                        continue;
                    }
                    const qsizetype lineNumber = i + 1;
                    const QStringView text = lineText(i).trimmed();
                    if (text.isEmpty() || text.startsWith(u'#')) {
                        continue;
                    }
                    Record record{lineNumber, lineNumber, {}, false};
                    if (!text.startsWith(u"--")) {
                        record.fields.append(FieldValue{u"prompt"_s, ValueKind::Text, text.toString(), lineNumber});
                    } else {
                        record.optionSyntax = true;
                        if (!parseOptions(text, &record)) {
                            continue;
                        }
                    }
                    addRecord(record);
                }
            }

            /// An A1111 "prompts from file" line: --key value pairs; --prompt and --negative_prompt take every
            /// word up to the next "--" option, joined by spaces.
            bool parseOptions(QStringView text, Record* record)
            {
                const qsizetype lineNumber = record->firstLine;
                QString error;
                const std::optional<QStringList> words = shlexSplit(text, &error);
                if (!words) {
                    issue(lineNumber, {}, error);
                    return false;
                }
                qsizetype i = 0;
                while (i < words->size()) {
                    const QString& word = words->at(i);
                    if (!word.startsWith(u"--")) {
                        issue(lineNumber, {},
                              u"expected an option starting with \"--\", found \"%1\""_s.arg(excerpt(word)));
                        return false;
                    }
                    const QString key = word.mid(2);
                    if (!isAllowedKey(key)) {
                        issue(lineNumber, key, u"unknown option %1"_s.arg(excerpt(word)));
                        return false;
                    }
                    if (i + 1 >= words->size()) {
                        issue(lineNumber, key, u"option %1 has no value"_s.arg(word));
                        return false;
                    }
                    QString value = words->at(i + 1);
                    i += 2;
                    if (key == u"prompt" || key == u"negative_prompt") {
                        while (i < words->size() && !words->at(i).startsWith(u"--")) {
                            value += u' ' + words->at(i++);
                        }
                    }
                    record->fields.append(FieldValue{key, ValueKind::Text, value, lineNumber});
                }
                return true;
            }

            void importCsv()
            {
                const QStringView t(m_text);
                const qsizetype n = t.size();
                qsizetype i = 0;
                QStringList header;
                bool haveHeader = false;
                auto isBreak = [&](qsizetype p) { return t[p] == u',' || t[p] == u'\r' || t[p] == u'\n'; };
                while (i < n && !m_stopped) {
                    const qsizetype firstLine = lineAt(i);
                    QStringList cells;
                    bool anyQuoted = false;
                    QString error;
                    while (true) {
                        QString cell;
                        if (i < n && t[i] == u'"') {
                            anyQuoted = true;
                            const qsizetype openedAt = i++;
                            bool closed = false;
                            while (i < n) {
                                const qsizetype runStart = i;
                                while (i < n && t[i] != u'"') {
                                    ++i;
                                }
                                cell.append(t.mid(runStart, i - runStart));
                                if (i + 1 < n && t[i + 1] == u'"') {
                                    cell.append(u'"');
                                    i += 2;
                                } else if (i < n) {
                                    ++i;
                                    closed = true;
                                    break;
                                }
                            }
                            if (!closed) {
                                issue(lineAt(openedAt), {},
                                      u"unclosed quote: the quoted field opened here (column %1) never ends; "
                                      "nothing after it was imported"_s.arg(columnAt(openedAt)));
                                return;
                            }
                            if (i < n && !isBreak(i)) {
                                if (error.isEmpty()) {
                                    error = u"unexpected text after a closing quote (column %1)"_s.arg(columnAt(i));
                                }
                                while (i < n && !isBreak(i)) {
                                    ++i;
                                }
                            }
                        } else {
                            const qsizetype from = i;
                            while (i < n && !isBreak(i)) {
                                if (t[i] == u'"' && error.isEmpty()) {
                                    error = u"a quote inside an unquoted field (column %1); quote the whole field "
                                            "and double the quotes inside it"_s.arg(columnAt(i));
                                }
                                ++i;
                            }
                            cell = t.mid(from, i - from).toString();
                        }
                        cells.append(cell);
                        if (i < n && t[i] == u',') {
                            ++i;
                            continue;
                        }
                        if (i < n && t[i] == u'\r') {
                            ++i;
                            if (i < n && t[i] == u'\n') {
                                ++i;
                            }
                        } else if (i < n) {
                            ++i; // '\n'
                        }
                        break;
                    }
                    const qsizetype lastLine = lineAt(i - 1);

                    if (cells.size() == 1 && !anyQuoted && cells.first().trimmed().isEmpty()) {
                        continue; // a blank line
                    }
                    if (spanIsBad(firstLine, lastLine)) {
                        if (!haveHeader) {
                            issue(firstLine, {}, u"the header row is unreadable; nothing was imported"_s);
                            return;
                        }
                        continue; // reported while decoding
                    }
                    if (!error.isEmpty()) {
                        issue(firstLine, {}, error);
                        if (!haveHeader) {
                            return;
                        }
                        continue;
                    }
                    if (!haveHeader) {
                        if (!readCsvHeader(cells, firstLine, &header)) {
                            return;
                        }
                        haveHeader = true;
                        continue;
                    }
                    if (cells.size() != header.size()) {
                        issue(firstLine, {}, [&] {
                            return u"the row has %1, the header has %2"_s.arg(
                                cells.size() == 1 ? u"1 field"_s : u"%1 fields"_s.arg(cells.size()),
                                QString::number(header.size()));
                        });
                        continue;
                    }
                    Record record{firstLine, lastLine, {}, false};
                    for (qsizetype c = 0; c < cells.size(); ++c) {
                        record.fields.append(FieldValue{header.at(c),
                                                        cells.at(c).isEmpty() ? ValueKind::Null : ValueKind::Text,
                                                        cells.at(c), firstLine});
                    }
                    addRecord(record);
                }
            }

            bool readCsvHeader(const QStringList& cells, qsizetype line, QStringList* header)
            {
                bool ok = true;
                for (const QString& cell : cells) {
                    const QString name = cell.trimmed();
                    if (!isAllowedKey(name)) {
                        issue(line, name, u"unknown column \"%1\" in the header"_s.arg(excerpt(name)));
                        ok = false;
                    } else if (header->contains(name)) {
                        issue(line, name, u"duplicate column \"%1\" in the header"_s.arg(name));
                        ok = false;
                    }
                    header->append(name);
                }
                if (!header->contains(u"prompt"_s)) {
                    issue(line, u"prompt"_s, u"the header has no \"prompt\" column"_s);
                    ok = false;
                }
                if (!ok) {
                    issue(line, {}, u"the header row is not valid; nothing was imported"_s);
                }
                return ok;
            }

            Record recordFromMembers(const QList<JsonReader::Member>& members, qsizetype offset, qsizetype firstLine,
                                     qsizetype lastLine) const
            {
                Record record{firstLine, lastLine, {}, false};
                for (const JsonReader::Member& m : members) {
                    record.fields.append(FieldValue{m.key, m.kind, m.text, lineAt(offset + m.keyPos)});
                }
                return record;
            }

            void importJson()
            {
                JsonReader reader(m_text);
                reader.skipWhitespace();
                if (reader.peek() != u'[') {
                    issue(lineAt(reader.pos), {},
                          reader.peek() == u'{'
                              ? u"the top level is an object; a .json prompt file must be an array of objects "
                                "(use .jsonl for one object per line)"_s
                              : u"the top level must be an array of objects"_s);
                    return;
                }
                ++reader.pos;
                reader.skipWhitespace();
                if (reader.peek() == u']') {
                    ++reader.pos;
                } else {
                    for (qsizetype element = 1; !m_stopped; ++element) {
                        reader.skipWhitespace();
                        const qsizetype start = reader.pos;
                        if (reader.peek() == u'{') {
                            QList<JsonReader::Member> members;
                            if (!reader.parseObject(&members, 1)) {
                                break;
                            }
                            addRecord(recordFromMembers(members, 0, lineAt(start), lineAt(reader.pos - 1)));
                        } else {
                            ValueKind kind;
                            QString text;
                            if (!reader.parseValue(&kind, &text, 1)) {
                                break;
                            }
                            if (!spanIsBad(lineAt(start), lineAt(reader.pos - 1))) {
                                issue(lineAt(start), {}, u"element %1 of the array is not an object"_s.arg(element));
                            }
                        }
                        reader.skipWhitespace();
                        if (reader.peek() == u',') {
                            ++reader.pos;
                            continue;
                        }
                        if (reader.peek() == u']') {
                            ++reader.pos;
                            break;
                        }
                        reader.fail(reader.atEnd() ? u"the array is never closed"_s : u"expected ',' or ']'"_s);
                        break;
                    }
                }
                if (m_stopped) {
                    return;
                }
                if (reader.error.isEmpty()) {
                    reader.skipWhitespace();
                    if (!reader.atEnd()) {
                        reader.fail(u"unexpected text after the array"_s);
                    }
                }
                if (!reader.error.isEmpty()) {
                    issue(lineAt(reader.errorPos), {},
                          u"invalid JSON (column %1): %2"_s.arg(QString::number(columnAt(reader.errorPos)),
                                                                reader.error));
                }
            }

            void importJsonl()
            {
                for (qsizetype i = 0; i < m_lines.size() && !m_stopped; ++i) {
                    if (m_lines.at(i).bad) {
                        continue;
                    }
                    const qsizetype lineNumber = i + 1;
                    const QStringView text = lineText(i);
                    if (text.trimmed().isEmpty()) {
                        continue;
                    }
                    JsonReader reader(text);
                    reader.skipWhitespace();
                    if (reader.peek() != u'{') {
                        issue(lineNumber, {}, u"expected a JSON object on this line"_s);
                        continue;
                    }
                    QList<JsonReader::Member> members;
                    if (reader.parseObject(&members, 1)) {
                        reader.skipWhitespace();
                        if (!reader.atEnd()) {
                            reader.fail(u"unexpected text after the object"_s);
                        }
                    }
                    if (!reader.error.isEmpty()) {
                        issue(
                            lineNumber, {},
                            u"invalid JSON (column %1): %2"_s.arg(QString::number(reader.errorPos + 1), reader.error));
                        continue;
                    }
                    addRecord(recordFromMembers(members, m_lines.at(i).start, lineNumber, lineNumber));
                }
            }

            /// Validates one record and appends its jobs (batch_size × n_iter of them).
            void addRecord(const Record& record)
            {
                if (m_stopped || spanIsBad(record.firstLine, record.lastLine)) {
                    return; // bad lines are reported while decoding
                }
                auto name = [&](const QString& key) { return record.optionSyntax ? u"--"_s + key : key; };
                bool ok = true;
                bool promptBad = false;
                auto fieldIssue = [&](const FieldValue& f, const QString& message) {
                    issue(f.line, f.key, message);
                    ok = false;
                    promptBad = promptBad || f.key == u"prompt";
                };
                QStringList seen;
                RenderSettings job;
                std::optional<bool> enableHires;
                bool promptSeen = false;
                std::optional<quint64> seed;
                qint64 batchSize = 1;
                qint64 iterations = 1;
                for (const FieldValue& f : record.fields) {
                    if (!isAllowedKey(f.key)) {
                        fieldIssue(f,
                                   record.optionSyntax ? u"unknown option --%1"_s.arg(excerpt(f.key))
                                                       : u"unknown field \"%1\""_s.arg(excerpt(f.key)));
                        continue;
                    }
                    if (seen.contains(f.key)) {
                        fieldIssue(f, u"%1 is given more than once"_s.arg(name(f.key)));
                        continue;
                    }
                    seen.append(f.key);
                    if (f.key == u"prompt") {
                        promptSeen = true;
                    }
                    if (f.kind == ValueKind::Null) {
                        continue; // unset: the run's default (or a random seed)
                    }
                    const bool isText = isTextKey(f.key);
                    if (isText && f.kind != ValueKind::Text) {
                        fieldIssue(f, u"%1 must be a string"_s.arg(name(f.key)));
                        continue;
                    }
                    if (f.key == u"enable_hr") {
                        // JSON's true/false, or the same words (and 1/0) in text formats.
                        const QString word = f.text.trimmed().toLower();
                        if ((f.kind == ValueKind::Bool || f.kind == ValueKind::Text || f.kind == ValueKind::Number)
                            && (word == u"true" || word == u"1" || word == u"false" || word == u"0")) {
                            enableHires = word == u"true" || word == u"1";
                        } else {
                            fieldIssue(f, u"%1 must be true or false, not \"%2\""_s.arg(name(f.key), excerpt(f.text)));
                        }
                        continue;
                    }
                    if (!isText && f.kind != ValueKind::Text && f.kind != ValueKind::Number) {
                        fieldIssue(f, u"%1 must be a number"_s.arg(name(f.key)));
                        continue;
                    }
                    if (f.text.size() > m_options.maxLineBytes) {
                        fieldIssue(f,
                                   u"%1 is longer than %2 characters"_s.arg(name(f.key),
                                                                            QString::number(m_options.maxLineBytes)));
                        continue;
                    }
                    if (f.text.contains(QChar(u'\0'))) {
                        fieldIssue(f, u"%1 contains a NUL character"_s.arg(name(f.key)));
                        continue;
                    }
                    auto whole = [&](qint64 min, qint64 max) -> std::optional<int> {
                        const std::optional<qint64> v = parseWhole(f.text);
                        if (!v || *v < min || *v > max) {
                            fieldIssue(f,
                                       u"%1 must be a whole number from %2 to %3, not \"%4\""_s.arg(name(f.key))
                                           .arg(min)
                                           .arg(max)
                                           .arg(excerpt(f.text)));
                            return std::nullopt;
                        }
                        return int(*v);
                    };
                    // A render setting in range: parseWhole takes the formats' forms ("20.0", JSON's 2e1), RenderChecks
                    // the limits. Its message for the text quotes the value as the file wrote it.
                    auto renderWhole = [&](QString (*byValue)(qint64, QStringView),
                                           QString (*byText)(QStringView, QStringView, int*)) -> std::optional<int> {
                        const QString field = name(f.key);
                        const std::optional<qint64> v = parseWhole(f.text);
                        if (v && byValue(*v, field).isEmpty()) {
                            return int(*v);
                        }
                        const QString problem = byText(f.text, field, nullptr);
                        fieldIssue(f, problem.isEmpty() ? byValue(v.value_or(0), field) : problem);
                        return std::nullopt;
                    };
                    if (f.key == u"prompt" || f.key == u"negative_prompt") {
                        if (const QString problem = RenderChecks::promptBytes(f.text, name(f.key));
                            !problem.isEmpty()) {
                            fieldIssue(f, problem);
                        } else {
                            (f.key == u"prompt" ? job.prompt : job.negativePrompt) = f.text;
                        }
                    } else if (f.key == u"sampler_name") {
                        const QString scheduler = samplerFromName(f.text);
                        if (f.text.trimmed().isEmpty()) {
                            // Named but empty: the model's own sampler, as the window's "Model default" and the
                            // queue store write it (unlike leaving it out, which takes the run's default).
                            job.scheduler = u""_s;
                        } else if (scheduler.isEmpty()) {
                            fieldIssue(f, unknownSamplerMessage(f.text, name(f.key)));
                        } else {
                            job.scheduler = scheduler;
                        }
                    } else if (f.key == u"seed") {
                        quint64 value = 0;
                        switch (parseSeed(f.text, &value)) {
                        case SeedParse::Value:
                            seed = value;
                            break;
                        case SeedParse::Random:
                            break;
                        case SeedParse::Invalid:
                            fieldIssue(f,
                                       u"%1 must be a whole number from 0 to 18446744073709551615 (or -1 for a "
                                       "random seed), not \"%2\""_s.arg(name(f.key), excerpt(f.text)));
                            break;
                        }
                    } else if (f.key == u"cfg_scale") {
                        double v = 0;
                        if (const QString problem = RenderChecks::cfgScaleText(f.text, name(f.key), &v);
                            !problem.isEmpty()) {
                            fieldIssue(f, problem);
                        } else {
                            job.cfgScale = v;
                        }
                    } else if (f.key == u"steps") {
                        if (const auto v = renderWhole(RenderChecks::steps, RenderChecks::stepsText)) {
                            job.steps = *v;
                        }
                    } else if (f.key == u"clip_skip") {
                        if (const auto v = renderWhole(RenderChecks::clipSkip, RenderChecks::clipSkipText)) {
                            job.clipSkip = *v;
                        }
                    } else if (f.key == u"denoising_strength" || f.key == u"hr_scale") {
                        const bool strength = f.key == u"denoising_strength";
                        double v = 0;
                        if (const QString problem = strength
                                ? RenderChecks::denoisingStrengthText(f.text, name(f.key), &v)
                                : RenderChecks::hiresScaleText(f.text, name(f.key), &v);
                            !problem.isEmpty()) {
                            fieldIssue(f, problem);
                        } else {
                            (strength ? job.denoisingStrength : job.hiresScale) = v;
                        }
                    } else if (f.key == u"hr_second_pass_steps") {
                        if (const auto v = renderWhole(RenderChecks::hiresSteps, RenderChecks::hiresStepsText)) {
                            job.hiresSteps = *v;
                        }
                    } else if (f.key == u"hr_upscaler") {
                        const QString upscaler = hiresUpscalerFromName(f.text);
                        if (upscaler.isEmpty()) {
                            fieldIssue(f, unknownHiresUpscalerMessage(f.text, name(f.key)));
                        } else {
                            job.hiresUpscaler = upscaler;
                        }
                    } else if (f.key == u"sd_vae") {
                        // A1111's "Automatic" and "None" both mean the model's own VAE here.
                        const QString vae = f.text.trimmed();
                        job.vae = vae.compare(u"Automatic", Qt::CaseInsensitive) == 0
                                || vae.compare(u"None", Qt::CaseInsensitive) == 0
                            ? QString(u""_s)
                            : vae;
                    } else if (f.key == u"init_image") {
                        const QString path = f.text.trimmed();
                        if (path.isEmpty()) {
                            job.initImage = u""_s;
                        } else if (QDir::isAbsolutePath(path)) {
                            job.initImage = QDir::cleanPath(path);
                        } else if (!m_options.baseFolder.isEmpty()) {
                            job.initImage = QDir::cleanPath(QDir(m_options.baseFolder).absoluteFilePath(path));
                        } else {
                            fieldIssue(f, u"%1 must be an absolute path, not \"%2\""_s.arg(name(f.key), excerpt(path)));
                        }
                    } else if (f.key == u"width" || f.key == u"height") {
                        if (const auto v = renderWhole(RenderChecks::side, RenderChecks::sideText)) {
                            (f.key == u"width" ? job.width : job.height) = *v;
                        }
                    } else if (f.key == u"batch_size") {
                        if (const auto v = whole(1, 1000)) {
                            batchSize = *v;
                        }
                    } else if (f.key == u"n_iter") {
                        if (const auto v = whole(1, 1000)) {
                            iterations = *v;
                        }
                    }
                }
                // enable_hr decides whether hr_scale counts, as in A1111's API; hr_scale alone turns the fix on.
                if (enableHires) {
                    job.hiresScale = *enableHires ? job.hiresScale.value_or(RenderDefaults::HiresScale)
                                                  : RenderLimits::MinHiresScale;
                }
                if (ok) {
                    for (const SettingProblem& problem : job.problems()) {
                        if (problem.field == u"enable_hr" || problem.field == u"hr_scale") {
                            issue(record.firstLine, problem.field, problem.message);
                            ok = false;
                        }
                    }
                }
                if (job.prompt.trimmed().isEmpty() && !promptBad) {
                    issue(record.firstLine, u"prompt"_s,
                          promptSeen ? u"%1 is empty"_s.arg(name(u"prompt"_s)) : u"the record has no prompt"_s);
                    ok = false;
                }
                const qint64 count = batchSize * iterations;
                if (ok && seed && quint64(count - 1) > std::numeric_limits<quint64>::max() - *seed) {
                    issue(record.firstLine, u"seed"_s,
                          u"seed %1 plus %2 images in the batch goes beyond 18446744073709551615"_s.arg(*seed).arg(
                              count));
                    ok = false;
                }
                if (!ok) {
                    return;
                }
                if (m_result.jobs.size() + count > m_options.maxPrompts) {
                    issue(record.firstLine, {},
                          u"more than %1 prompts; this record and the rest of the file were not imported"_s.arg(
                              m_options.maxPrompts));
                    m_stopped = true;
                    return;
                }
                for (qint64 k = 0; k < count; ++k) {
                    RenderSettings expanded = job;
                    // With a seed, a batch gets consecutive seeds as in A1111; without one, every image gets the
                    // next seed from the caller's base seed, or else none: the run draws one when it first
                    // dispatches the job (one place draws random seeds) and keeps it in the job and the image.
                    if (seed) {
                        expanded.seed = *seed + quint64(k);
                    } else if (m_options.baseSeed) {
                        expanded.seed = *m_options.baseSeed + quint64(m_seedsGiven++);
                    }
                    m_result.jobs.append(expanded);
                }
            }

            QString m_name;
            ImportOptions m_options;
            ImportResult m_result;
            qsizetype m_issueCount = 0;
            qsizetype m_seedsGiven = 0;
            bool m_stopped = false;
            QString m_text;
            QList<Line> m_lines;
            QList<qsizetype> m_badLines; ///< Sorted line numbers.
        };

        /// Reads at most @p limit bytes; std::nullopt (with @p error) when the file cannot be read.
        std::optional<QByteArray> readAtMost(QFile& file, qint64 limit, QString* error)
        {
            QByteArray data;
            qint64 total = 0;
            while (total < limit) {
                const qint64 want = std::min<qint64>(1024 * 1024, limit - total);
                data.resize(total + want);
                const qint64 got = file.read(data.data() + total, want);
                if (got < 0) {
                    *error = file.errorString();
                    return std::nullopt;
                }
                if (got == 0) {
                    break;
                }
                total += got;
            }
            data.resize(total);
            return data;
        }
    } // namespace

    QString ImportIssue::toString() const
    {
        return line > 0 ? u"%1:%2: %3"_s.arg(file, QString::number(line), message) : u"%1: %2"_s.arg(file, message);
    }

    ImportResult importPromptFile(const QString& path, const ImportOptions& options, const QString& format)
    {
        ImportOptions fileOptions = options;
        if (fileOptions.baseFolder.isEmpty()) {
            fileOptions.baseFolder = QFileInfo(path).absolutePath();
        }
        Importer importer(path, fileOptions);
        const QString formatName = format.isEmpty() ? QFileInfo(path).suffix() : format;
        const std::optional<Format> parsedFormat = formatFromName(formatName);
        if (!parsedFormat) {
            importer.fileIssue(format.isEmpty()
                                   ? u"unknown kind of prompt file \"%1\"; use .txt, .csv, .json or .jsonl"_s.arg(
                                       QFileInfo(path).fileName())
                                   : u"unknown prompt file format \"%1\"; use txt, csv, json or jsonl"_s.arg(format));
            return importer.finish();
        }
        if (QFileInfo(path).isDir()) {
            importer.fileIssue(u"is a folder, not a prompt file"_s);
            return importer.finish();
        }
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            importer.fileIssue(u"cannot open the file: %1"_s.arg(file.errorString()));
            return importer.finish();
        }
        QString error;
        const std::optional<QByteArray> data = readAtMost(file, std::max<qint64>(0, options.maxFileBytes) + 1, &error);
        if (!data) {
            importer.fileIssue(u"cannot read the file: %1"_s.arg(error));
            return importer.finish();
        }
        importer.run(*data, *parsedFormat);
        return importer.finish();
    }

    ImportResult importPromptData(const QByteArray& data, const QString& format, const QString& nameForMessages,
                                  const ImportOptions& options)
    {
        Importer importer(nameForMessages, options);
        const std::optional<Format> parsedFormat = formatFromName(format);
        if (!parsedFormat) {
            importer.fileIssue(u"unknown prompt file format \"%1\"; use txt, csv, json or jsonl"_s.arg(format));
            return importer.finish();
        }
        importer.run(data, *parsedFormat);
        return importer.finish();
    }
} // namespace Atelier
