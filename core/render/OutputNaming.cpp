// SPDX-License-Identifier: GPL-3.0-or-later
#include "OutputNaming.h"

#include "engine/ExtraNetworks.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSysInfo>

#include <csignal>

#include <algorithm>
#include <filesystem>
#include <limits>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        /// `[seed]` … and the most UTF-8 bytes each can put into a name, so that checkNamingPattern() can bound a
        /// pattern's longest name without rendering every possible job.
        struct Token
        {
            QStringView name;
            qsizetype maxBytes;
        };
        constexpr qsizetype MaxModelBytes = 40;
        constexpr qsizetype MaxSamplerBytes = 24;
        constexpr qsizetype MaxPromptWords = 48;
        constexpr Token Tokens[] = {
            {u"seed", 20},
            {u"prompt_words", MaxPromptWords},
            {u"prompt_hash", 8},
            {u"model_name", MaxModelBytes},
            {u"sampler", MaxSamplerBytes},
            {u"steps", 3},
            {u"cfg", 8}, // QString::number(x, 'g', 6) of 0 … 30: "12.3457" at most
            {u"width", 4},
            {u"height", 4},
            {u"date", 10},
            {u"time", 8},
            {u"datetime", 14},
            {u"item", 19},
        };
        /// The running number (a qint64 has 19 digits), its '-', and ".png".
        constexpr qsizetype FrameBytes = 19 + 1 + 4;

        const Token* findToken(QStringView name)
        {
            for (const Token& token : Tokens) {
                if (name.compare(token.name, Qt::CaseInsensitive) == 0) {
                    return &token;
                }
            }
            return nullptr;
        }

        /// Characters no file name may hold on Windows (which also covers Linux's '/').
        bool isForbidden(QChar c)
        {
            return c.unicode() < 0x20 || c.unicode() == 0x7f || c.category() == QChar::Other_Control
                || QStringView(u"<>:\"/\\|?*").contains(c);
        }

        struct Segment
        {
            bool isToken = false;
            QString text; ///< literal text, or the token's name in lower case
        };

        /// @p pattern split into literal text and tokens, or the problem in @p problem.
        QList<Segment> parsePattern(QStringView pattern, QString* problem)
        {
            QList<Segment> segments;
            QString literal;
            for (qsizetype i = 0; i < pattern.size(); ++i) {
                const QChar c = pattern.at(i);
                if (c == u']') {
                    *problem = u"the naming pattern has a \"]\" at character %1 that closes no \"[\""_s.arg(i + 1);
                    return {};
                }
                if (c == u'[') {
                    const qsizetype close = pattern.indexOf(u']', i + 1);
                    const qsizetype reopen = pattern.indexOf(u'[', i + 1);
                    if (close < 0 || (reopen >= 0 && reopen < close)) {
                        *problem = u"the naming pattern has a \"[\" at character %1 that is not closed"_s.arg(i + 1);
                        return {};
                    }
                    const QStringView name = pattern.sliced(i + 1, close - i - 1);
                    if (!findToken(name)) {
                        *problem = u"unknown token \"[%1]\" in the naming pattern (known: %2)"_s.arg(
                            name.toString(), namingTokens().join(u", "_s));
                        return {};
                    }
                    if (!literal.isEmpty()) {
                        segments.append({false, literal});
                        literal.clear();
                    }
                    segments.append({true, name.toString().toLower()});
                    i = close;
                    continue;
                }
                if (isForbidden(c)) {
                    const QString shown = c.unicode() < 0x20 || c.unicode() == 0x7f
                        ? u"U+%1"_s.arg(uint(c.unicode()), 4, 16, QLatin1Char('0')).toUpper()
                        : u"\"%1\""_s.arg(c);
                    *problem = u"the naming pattern contains %1 (character %2), which file names cannot hold"_s.arg(
                        shown, QString::number(i + 1));
                    return {};
                }
                literal.append(c);
            }
            if (!literal.isEmpty()) {
                segments.append({false, literal});
            }
            return segments;
        }

        /// At most @p maxBytes of @p text's UTF-8, cut between characters.
        QString leftBytes(const QString& text, qsizetype maxBytes)
        {
            qsizetype bytes = 0;
            qsizetype end = 0;
            while (end < text.size()) {
                const bool pair = text.at(end).isHighSurrogate() && end + 1 < text.size();
                const char32_t code
                    = pair ? QChar::surrogateToUcs4(text.at(end), text.at(end + 1)) : char32_t(text.at(end).unicode());
                const qsizetype size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
                if (bytes + size > maxBytes) {
                    break;
                }
                bytes += size;
                end += pair ? 2 : 1;
            }
            return text.left(end);
        }

        /// @p value as part of a file name: forbidden characters and white space become '_' (runs of them one),
        /// at most @p maxBytes, and @p fallback when nothing is left.
        QString safePart(const QString& value, qsizetype maxBytes, const QString& fallback)
        {
            QString safe;
            safe.reserve(value.size());
            for (const QChar c : value) {
                if (isForbidden(c) || c.isSpace()) {
                    if (!safe.endsWith(u'_')) {
                        safe.append(u'_');
                    }
                } else {
                    safe.append(c);
                }
            }
            while (safe.startsWith(u'_')) {
                safe.remove(0, 1);
            }
            safe = leftBytes(safe, maxBytes);
            while (safe.endsWith(u'_')) {
                safe.chop(1);
            }
            return safe.isEmpty() ? fallback : safe;
        }

        QString promptWords(const QString& prompt)
        {
            static const QRegularExpression marks(u"\\p{Mn}+"_s);
            static const QRegularExpression notWord(u"[^a-z0-9]+"_s);
            // Without its <lora:…> tags: they say how, not what. Decompose, then drop the accents, so "Café" names a
            // file "cafe" rather than "caf".
            const QString words = QString::fromStdString(Engine::extractExtraNetworks(prompt.toStdString()).prompt);
            QString slug = words.toLower().normalized(QString::NormalizationForm_KD);
            slug.remove(marks);
            slug.replace(notWord, u"-"_s);
            slug = slug.left(MaxPromptWords);
            while (slug.endsWith(u'-')) {
                slug.chop(1);
            }
            while (slug.startsWith(u'-')) {
                slug.remove(0, 1);
            }
            return slug.isEmpty() ? u"image"_s : slug;
        }

        QString tokenValue(const QString& token, const ImageNameValues& values, const QDateTime& time)
        {
            if (token == u"seed") {
                return QString::number(values.seed);
            }
            if (token == u"prompt_words") {
                return promptWords(values.prompt);
            }
            if (token == u"prompt_hash") {
                // As A1111 computes it, so a pattern moved between the two gives the same names.
                return QString::fromLatin1(
                    QCryptographicHash::hash(values.prompt.toUtf8(), QCryptographicHash::Sha256).toHex().left(8));
            }
            if (token == u"model_name") {
                return safePart(values.model, MaxModelBytes, u"unknown"_s);
            }
            if (token == u"sampler") {
                return safePart(values.sampler, MaxSamplerBytes, u"default"_s);
            }
            if (token == u"steps") {
                return QString::number(std::clamp(values.steps, 0, 999));
            }
            if (token == u"cfg") {
                return safePart(QString::number(values.cfgScale, 'g', 6), 8, u"0"_s);
            }
            if (token == u"width") {
                return QString::number(std::clamp(values.width, 0, 9999));
            }
            if (token == u"height") {
                return QString::number(std::clamp(values.height, 0, 9999));
            }
            if (token == u"date") {
                return time.toString(u"yyyy-MM-dd"_s);
            }
            if (token == u"time") {
                // ':' is not allowed in Windows file names.
                return time.toString(u"HH-mm-ss"_s);
            }
            if (token == u"datetime") {
                return time.toString(u"yyyyMMddHHmmss"_s);
            }
            if (token == u"item") {
                return values.item >= 0 ? QString::number(values.item) : u"none"_s;
            }
            return {};
        }

        QString numberPrefix(qint64 number)
        {
            // Zero-padded as A1111 pads, so a file manager sorting by name shows the images in the order they were
            // made.
            return u"%1-"_s.arg(number, 5, 10, QLatin1Char('0'));
        }
    } // namespace

    ImageNameValues imageNameValues(const RenderSettings& settings, const QString& model, qint64 item,
                                    const QDateTime& time)
    {
        ImageNameValues values;
        values.seed = settings.seed.value_or(0);
        values.prompt = settings.prompt;
        values.model = model;
        values.sampler = settings.scheduler.value_or(QString());
        values.steps = settings.steps.value_or(RenderDefaults::Steps);
        values.cfgScale = settings.cfgScale.value_or(RenderDefaults::CfgScale);
        values.width = settings.width.value_or(RenderDefaults::Width);
        values.height = settings.height.value_or(RenderDefaults::Height);
        values.item = item;
        values.time = time;
        return values;
    }

    QStringList namingTokens()
    {
        QStringList names;
        for (const Token& token : Tokens) {
            names.append(u"[%1]"_s.arg(token.name));
        }
        return names;
    }

    QString checkNamingPattern(QStringView pattern)
    {
        if (pattern.trimmed().isEmpty()) {
            return u"the naming pattern is empty"_s;
        }
        QString problem;
        const QList<Segment> segments = parsePattern(pattern, &problem);
        if (!problem.isEmpty()) {
            return problem;
        }
        qsizetype longest = FrameBytes;
        for (const Segment& segment : segments) {
            longest += segment.isToken ? findToken(segment.text)->maxBytes : segment.text.toUtf8().size();
        }
        if (longest > MaxImageNameBytes) {
            return u"the naming pattern makes names of up to %1 bytes; file names may have at most %2"_s.arg(longest)
                .arg(MaxImageNameBytes);
        }
        return {};
    }

    QString imageFileName(qint64 number, const ImageNameValues& values, QStringView pattern)
    {
        QString problem;
        QList<Segment> segments
            = checkNamingPattern(pattern).isEmpty() ? parsePattern(pattern, &problem) : QList<Segment>{};
        if (segments.isEmpty()) {
            segments = parsePattern(DefaultNamingPattern, &problem);
        }
        const QDateTime time = values.time.isValid() ? values.time : QDateTime::currentDateTime();
        QString name = numberPrefix(number);
        for (const Segment& segment : segments) {
            name += segment.isToken ? tokenValue(segment.text, values, time) : segment.text;
        }
        // checkNamingPattern() bounds every valid pattern's names; this only guards against a bound that is wrong.
        return leftBytes(name, MaxImageNameBytes - 4) + u".png"_s;
    }

    QString imageFileName(qint64 number, quint64 seed, const QString& prompt)
    {
        ImageNameValues values;
        values.seed = seed;
        values.prompt = prompt;
        return imageFileName(number, values, DefaultNamingPattern);
    }

    ImageNameValues exampleImageNameValues()
    {
        ImageNameValues values;
        values.seed = 42;
        values.prompt = u"A lighthouse at dusk, oil painting"_s;
        values.model = u"v1-5-pruned-emaonly"_s;
        values.sampler = u"euler_a"_s;
        values.steps = 20;
        values.cfgScale = 7.5;
        values.width = 512;
        values.height = 768;
        values.item = 7;
        values.time = QDateTime(QDate(2024, 5, 31), QTime(14, 25, 0));
        return values;
    }

    QString namingPatternExample(QStringView pattern, const ImageNameValues& values)
    {
        if (!checkNamingPattern(pattern).isEmpty()) {
            return {};
        }
        return imageFileName(12, values, pattern);
    }

    QString modelShortName(const QString& modelPath)
    {
        QString path = QDir::fromNativeSeparators(modelPath.trimmed());
        while (path.size() > 1 && path.endsWith(u'/')) {
            path.chop(1);
        }
        if (path.isEmpty()) {
            return u"embedded"_s;
        }
        const QStringList parts = path.split(u'/');
        // A Hugging Face cache snapshot: models--ORG--NAME/snapshots/REV; the revision names nothing the artist knows.
        if (parts.size() >= 3 && parts.at(parts.size() - 2) == u"snapshots"
            && parts.at(parts.size() - 3).startsWith(u"models--")) {
            return parts.at(parts.size() - 3).split(u"--"_s).last();
        }
        const QFileInfo info(path);
        static const QStringList modelSuffixes{u"safetensors"_s, u"ckpt"_s, u"pt"_s, u"pth"_s, u"bin"_s};
        return modelSuffixes.contains(info.suffix().toLower()) ? info.completeBaseName() : info.fileName();
    }

    qint64 nextImageNumber(const QString& directory)
    {
        qint64 next = 0;
        if (directory.isEmpty()) {
            return next;
        }
        // Names only, unsorted, without a stat per entry: a folder of 10,000 images is read in milliseconds, and this
        // runs on the window's thread when a run starts.
        std::error_code error;
        std::filesystem::directory_iterator entries(QFile::encodeName(directory).toStdString(), error);
        for (; !error && entries != std::filesystem::directory_iterator(); entries.increment(error)) {
            const QString name = QFile::decodeName(QByteArray::fromStdString(entries->path().filename().string()));
            qsizetype digits = 0;
            while (digits < name.size() && name.at(digits) >= u'0' && name.at(digits) <= u'9') {
                ++digits;
            }
            if (digits == 0 || digits >= name.size() || name.at(digits) != u'-') {
                continue;
            }
            bool ok = false;
            const qint64 number = QStringView(name).left(digits).toLongLong(&ok);
            // A number too large to follow cannot collide with the smaller ones given out instead, so skipping it
            // still never replaces a file.
            if (!ok || number == std::numeric_limits<qint64>::max()) {
                continue;
            }
            next = std::max(next, number + 1);
        }
        return next;
    }

    bool isCompleteImage(const QString& path)
    {
        const QFileInfo info(path);
        if (info.isSymLink() || !info.isFile() || info.size() < 8 + 12) {
            return false;
        }
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly) || file.read(8) != QByteArray::fromHex("89504e470d0a1a0a")
            || !file.seek(file.size() - 12)) {
            return false;
        }
        return file.read(12) == QByteArray::fromHex("0000000049454e44ae426082");
    }

    QString temporaryHostName()
    {
        // Names in a shared folder: only [A-Za-z0-9._-], at most 40 bytes (an image name stays under 255).
        static const QString host = [] {
            QString name = QSysInfo::machineHostName();
            name.replace(QRegularExpression(u"[^A-Za-z0-9._-]"_s), u"_"_s);
            return name.isEmpty() ? u"localhost"_s : name.left(40);
        }();
        return host;
    }

    QString temporaryImageTemplate(const QString& path)
    {
        const QFileInfo target(path);
        return QDir(target.absolutePath())
            .filePath(u".%1.%2@%3.XXXXXX.part"_s.arg(target.fileName())
                          .arg(QCoreApplication::applicationPid())
                          .arg(temporaryHostName()));
    }

    namespace
    {
        /// True when process @p pid can no longer write anything: it does not exist, or it is a zombie. A worker
        /// whose coordinator was killed is re-parented, and where the new parent (a container's PID 1, say) never
        /// reaps, it stays a zombie that kill(pid, 0) still finds.
        bool writerIsGone(qint64 pid)
        {
            if (::kill(static_cast<pid_t>(pid), 0) != 0) {
                return errno == ESRCH;
            }
            QFile stat(u"/proc/%1/stat"_s.arg(pid));
            if (!stat.open(QIODevice::ReadOnly)) {
                return false;
            }
            // The state follows the command name, which may itself hold ") ": read after the last one.
            const QByteArray line = stat.read(4096);
            const qsizetype end = line.lastIndexOf(") ");
            return end >= 0 && end + 2 < line.size() && (line[end + 2] == 'Z' || line[end + 2] == 'X');
        }
    } // namespace

    int removeStaleTemporaryImages(const QString& directory)
    {
        // `.NAME.PID@HOST.XXXXXX.part`; before farms, `.NAME.PID.XXXXXX.part` (this host's).
        static const QRegularExpression temporary(
            u"^\\..+\\.png\\.(\\d+)(?:@([A-Za-z0-9._-]+))?\\.[A-Za-z0-9]{6}\\.part$"_s);
        int removed = 0;
        QDir dir(directory);
        for (const QString& name : dir.entryList({u".*.part"_s}, QDir::Files | QDir::Hidden | QDir::System)) {
            const QRegularExpressionMatch match = temporary.match(name);
            if (!match.hasMatch()) {
                continue;
            }
            // In a folder that other machines share, another host's pid says nothing here.
            const QString host = match.captured(2);
            if (!host.isEmpty() && host != temporaryHostName()) {
                continue;
            }
            const qint64 pid = match.captured(1).toLongLong();
            if (pid > 0 && writerIsGone(pid) && dir.remove(name)) {
                ++removed;
            }
        }
        return removed;
    }
} // namespace Atelier
