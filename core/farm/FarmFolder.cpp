// SPDX-License-Identifier: GPL-3.0-or-later
#include "FarmFolder.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTemporaryFile>

#include <QHash>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import/PromptImport.h"
#include "queue/PromptExport.h"
#include "render/OutputNaming.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        const QString FarmFolderName = u".atelier-farm"_s;
        const QString ManifestName = u"manifest.json"_s;
        /// A manifest of a million items is some 300 MB; anything larger is not one of ours.
        constexpr qint64 MaxManifestBytes = 512LL * 1024 * 1024;

        QString settingsLine(const RenderSettings& settings)
        {
            return QString::fromUtf8(toPromptFile({settings}).trimmed());
        }
    } // namespace

    QString parseShard(QStringView text, int* index, int* count)
    {
        static const QRegularExpression form(u"^\\s*(\\d{1,9})\\s*/\\s*(\\d{1,9})\\s*$"_s);
        const QRegularExpressionMatch match = form.match(text);
        if (!match.hasMatch()) {
            return u"--shard must be K/N (the K-th of N shards, K from 0), not \"%1\""_s.arg(excerpt(text.toString()));
        }
        const int k = match.captured(1).toInt();
        const int n = match.captured(2).toInt();
        if (n < 1) {
            return u"--shard %1: there must be at least one shard"_s.arg(text.trimmed());
        }
        if (k >= n) {
            return u"--shard %1: K counts from 0, so it must be less than N (%2); with a SLURM job array use "
                   u"--array=0-%3"_s.arg(text.trimmed())
                       .arg(n)
                       .arg(n - 1);
        }
        *index = k;
        *count = n;
        return {};
    }

    FarmFolder::FarmFolder(QString outputDirectory)
        : m_output(QDir(outputDirectory).absolutePath())
    { }

    QString FarmFolder::runDirectory(const QString& run) const
    {
        return QDir(m_output).filePath(FarmFolderName + u'/' + run);
    }

    FarmManifest FarmFolder::plan(const QString& run, const QString& file, const QList<RenderSettings>& jobs,
                                  qint64 firstNumber, const QString& namingPattern, const QString& modelName,
                                  const RenderSettings& defaults)
    {
        FarmManifest manifest;
        manifest.run = run;
        manifest.file = file;
        manifest.created = QDateTime::currentDateTimeUtc();
        const QString pattern = namingPattern.isEmpty() ? DefaultNamingPattern.toString() : namingPattern;
        for (qsizetype i = 0; i < jobs.size(); ++i) {
            FarmItem item;
            item.index = i;
            item.settings = jobs.at(i).withDefaults(defaults);
            if (!item.settings.seed) {
                // The same draw a local run makes at dispatch; here once, so that every node agrees.
                item.settings.seed = quint64(QRandomGenerator::system()->generate());
            }
            item.imageName = imageFileName(
                firstNumber + i, imageNameValues(item.settings, modelName, i, manifest.created.toLocalTime()), pattern);
            manifest.items.append(item);
        }
        return manifest;
    }

    QString FarmFolder::runIdFor(const QList<RenderSettings>& jobs, const QString& modelPath,
                                 const RenderSettings& defaults)
    {
        QCryptographicHash hash(QCryptographicHash::Sha256);
        // The embedded model is "" on every node; a path is the same file wherever the folder is shared.
        hash.addData((modelPath.isEmpty() ? QString() : QFileInfo(modelPath).absoluteFilePath()).toUtf8() + '\n');
        hash.addData(settingsLine(defaults).toUtf8() + '\n');
        for (const RenderSettings& job : jobs) {
            hash.addData(settingsLine(job).toUtf8() + '\n');
        }
        return QString::fromLatin1(hash.result().toHex().left(16));
    }

    QString FarmFolder::publish(FarmManifest& manifest, bool* created) const
    {
        if (created) {
            *created = false;
        }
        const QString folder = runDirectory(manifest.run);
        if (!QDir().mkpath(folder)) {
            return u"cannot create %1"_s.arg(folder);
        }
        QJsonArray items;
        for (const FarmItem& item : std::as_const(manifest.items)) {
            items.append(QJsonObject{{u"image"_s, item.imageName}, {u"settings"_s, settingsLine(item.settings)}});
        }
        const QJsonObject json{{u"version"_s, FarmManifest::Version},
                               {u"run"_s, manifest.run},
                               {u"file"_s, manifest.file},
                               {u"created"_s, manifest.created.toString(Qt::ISODateWithMs)},
                               {u"model"_s, manifest.model},
                               {u"lora_folders"_s, QJsonArray::fromStringList(manifest.loraFolders)},
                               {u"embedding_folders"_s, QJsonArray::fromStringList(manifest.embeddingFolders)},
                               {u"vae_folders"_s, QJsonArray::fromStringList(manifest.vaeFolders)},
                               {u"items"_s, items}};
        const QString path = QDir(folder).filePath(ManifestName);
        // Written whole and synced under a temporary name, then linked to its name: link() fails if a manifest is
        // there, so of shards planning at once the first wins and the others read its plan.
        QTemporaryFile temporary(QDir(folder).filePath(u".manifest.XXXXXX"_s));
        if (!temporary.open()) {
            return u"cannot write in %1: %2"_s.arg(folder, temporary.errorString());
        }
        const QByteArray bytes = QJsonDocument(json).toJson(QJsonDocument::Indented);
        if (temporary.write(bytes) != bytes.size() || !temporary.flush() || ::fsync(temporary.handle()) != 0) {
            return u"cannot write %1: %2"_s.arg(temporary.fileName(), temporary.errorString());
        }
        // Readable as the images are (QTemporaryFile makes it private): the user's umask decides.
        const mode_t mask = ::umask(0);
        ::umask(mask);
        ::fchmod(temporary.handle(), 0666 & ~mask);
        if (::link(QFile::encodeName(temporary.fileName()).constData(), QFile::encodeName(path).constData()) == 0) {
            if (created) {
                *created = true;
            }
        } else if (errno != EEXIST) {
            return u"cannot write %1: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        }
        return load(manifest.run, &manifest);
    }

    QString FarmFolder::load(const QString& run, FarmManifest* manifest) const
    {
        const QString path = QDir(runDirectory(run)).filePath(ManifestName);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            return u"cannot read %1: %2"_s.arg(path, file.errorString());
        }
        if (file.size() > MaxManifestBytes) {
            return u"%1 is too large for a farm manifest (%2 bytes)"_s.arg(path).arg(file.size());
        }
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
        if (error.error != QJsonParseError::NoError || !document.isObject()) {
            return u"%1 is not a farm manifest: %2"_s.arg(path, error.errorString());
        }
        const QJsonObject json = document.object();
        if (json.value(u"version"_s).toInt() != FarmManifest::Version) {
            return u"%1: version %2 is not one this Atelier reads (%3)"_s.arg(path)
                .arg(json.value(u"version"_s).toInt())
                .arg(FarmManifest::Version);
        }
        if (json.value(u"run"_s).toString() != run) {
            return u"%1: it names run \"%2\", not %3"_s.arg(path, json.value(u"run"_s).toString(), run);
        }
        FarmManifest read;
        read.run = run;
        read.file = json.value(u"file"_s).toString();
        read.created = QDateTime::fromString(json.value(u"created"_s).toString(), Qt::ISODateWithMs);
        read.model = json.value(u"model"_s).toString();
        const auto strings = [&](const QString& key) {
            QStringList list;
            for (const QJsonValue& value : json.value(key).toArray()) {
                list.append(value.toString());
            }
            return list;
        };
        read.loraFolders = strings(u"lora_folders"_s);
        read.embeddingFolders = strings(u"embedding_folders"_s);
        read.vaeFolders = strings(u"vae_folders"_s);
        const QJsonArray items = json.value(u"items"_s).toArray();
        for (qsizetype i = 0; i < items.size(); ++i) {
            const QJsonObject entry = items.at(i).toObject();
            FarmItem item;
            item.index = i;
            item.imageName = entry.value(u"image"_s).toString();
            if (item.imageName.isEmpty() || item.imageName.contains(u'/') || item.imageName.startsWith(u'.')
                || !item.imageName.endsWith(u".png"_s)) {
                return u"%1: item %2: \"%3\" is not an image name"_s.arg(path).arg(i).arg(excerpt(item.imageName));
            }
            // The importer's own checks read the settings back, as the durable queue does.
            const ImportResult parsed
                = importPromptData(entry.value(u"settings"_s).toString().toUtf8(), u"jsonl"_s, path);
            if (parsed.jobs.size() != 1 || !parsed.issues.isEmpty()) {
                return u"%1: item %2: %3"_s.arg(path).arg(i).arg(
                    parsed.issues.isEmpty() ? u"no settings"_s : parsed.issues.first().message);
            }
            item.settings = parsed.jobs.first();
            read.items.append(item);
        }
        *manifest = read;
        return {};
    }

    QString FarmFolder::imagePath(const FarmItem& item) const
    {
        return QDir(m_output).filePath(item.imageName);
    }

    bool FarmFolder::isCommitted(const FarmItem& item) const
    {
        return isCompleteImage(imagePath(item));
    }

    QList<qint64> FarmFolder::missing(const FarmManifest& manifest, int shard, int shards) const
    {
        QList<qint64> left;
        for (const FarmItem& item : manifest.items) {
            if ((shards <= 0 || inShard(item.index, shard, shards)) && !isCommitted(item)) {
                left.append(item.index);
            }
        }
        return left;
    }

    int FarmFolder::removeLeftovers(const FarmManifest& manifest) const
    {
        int removed = removeStaleTemporaryImages(m_output);
        QDir dir(m_output);
        const QStringList temporaries = dir.entryList({u".*.part"_s}, QDir::Files | QDir::Hidden | QDir::System);
        if (temporaries.isEmpty()) {
            return removed;
        }
        QHash<QString, const FarmItem*> byName;
        for (const FarmItem& item : manifest.items) {
            byName.insert(item.imageName, &item);
        }
        for (const QString& name : temporaries) {
            // `.NAME.PID@HOST.XXXXXX.part`: NAME ends in ".png".
            const qsizetype end = name.indexOf(u".png."_s);
            const FarmItem* item = end > 1 ? byName.value(name.mid(1, end + 3)) : nullptr;
            if (item && isCommitted(*item) && dir.remove(name)) {
                ++removed;
            }
        }
        return removed;
    }

    namespace
    {
        const QString TokenName = u"token"_s;
        const QString AddressName = u"address"_s;
        const QString CurrentName = u"current"_s;

        /// Reads a small text file whole (at most 4 KiB: these are one line).
        QString readSmall(const QString& path, QByteArray* bytes)
        {
            QFile file(path);
            if (!file.open(QIODevice::ReadOnly)) {
                return u"cannot read %1: %2"_s.arg(path, file.errorString());
            }
            *bytes = file.read(4096).trimmed();
            return {};
        }

        QString writeSmall(const QString& path, const QByteArray& bytes)
        {
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || file.write(bytes + '\n') != bytes.size() + 1 || !file.commit()) {
                return u"cannot write %1: %2"_s.arg(path, file.errorString());
            }
            return {};
        }
    } // namespace

    QString FarmFolder::ensureToken(const QString& run, QByteArray* token) const
    {
        const QString folder = runDirectory(run);
        if (!QDir().mkpath(folder)) {
            return u"cannot create %1"_s.arg(folder);
        }
        const QString path = QDir(folder).filePath(TokenName);
        const QByteArray encoded = QFile::encodeName(path);
        // Created exclusively and private from the first byte; a second coordinator of the run reads the first's.
        const int fd = ::open(encoded.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            QByteArray secret(32, '\0');
            QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(secret.data()), secret.size() / 4);
            const QByteArray hex = secret.toHex() + '\n';
            const bool written = ::write(fd, hex.constData(), hex.size()) == hex.size() && ::fsync(fd) == 0;
            ::close(fd);
            if (!written) {
                ::unlink(encoded.constData());
                return u"cannot write %1"_s.arg(path);
            }
        } else if (errno != EEXIST) {
            return u"cannot create %1: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        }
        return readToken(run, token);
    }

    QString FarmFolder::readToken(const QString& run, QByteArray* token) const
    {
        const QString path = QDir(runDirectory(run)).filePath(TokenName);
        QByteArray bytes;
        if (QString problem = readSmall(path, &bytes); !problem.isEmpty()) {
            return problem;
        }
        if (bytes.size() != 64 || QByteArray::fromHex(bytes).toHex() != bytes) {
            return u"%1 does not hold a farm token"_s.arg(path);
        }
        *token = bytes;
        return {};
    }

    QString FarmFolder::joinProof(const QByteArray& token, const QString& worker)
    {
        return QString::fromLatin1(
            QMessageAuthenticationCode::hash(worker.toUtf8(), token, QCryptographicHash::Sha256).toHex());
    }

    QString FarmFolder::writeAddress(const QString& run, const QString& address) const
    {
        return writeSmall(QDir(runDirectory(run)).filePath(AddressName), address.toUtf8());
    }

    QString FarmFolder::readAddress(const QString& run, QString* address) const
    {
        QByteArray bytes;
        if (QString problem = readSmall(QDir(runDirectory(run)).filePath(AddressName), &bytes); !problem.isEmpty()) {
            return problem;
        }
        *address = QString::fromUtf8(bytes);
        return {};
    }

    QString FarmFolder::setCurrentRun(const QString& run) const
    {
        return writeSmall(QDir(m_output).filePath(FarmFolderName + u'/' + CurrentName), run.toUtf8());
    }

    QString FarmFolder::currentRun(QString* run) const
    {
        const QString path = QDir(m_output).filePath(FarmFolderName + u'/' + CurrentName);
        QByteArray bytes;
        if (QString problem = readSmall(path, &bytes); !problem.isEmpty()) {
            return problem + u" (has a farm coordinator served this folder?)"_s;
        }
        static const QRegularExpression id(u"^[0-9a-f]{16}$"_s);
        if (!id.match(QString::fromLatin1(bytes)).hasMatch()) {
            return u"%1 does not name a farm run"_s.arg(path);
        }
        *run = QString::fromLatin1(bytes);
        return {};
    }
} // namespace Atelier
