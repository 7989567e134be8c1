// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>

#include <sys/stat.h>
#include <unistd.h>

#include "TestSupport.h"
#include "render/ModelDiscovery.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    bool writeFile(const QString& path, const QByteArray& bytes)
    {
        if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
            return false;
        }
        QFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
    }

    /// A file checkModelPath() accepts: an 8-byte little-endian header length, a JSON header, data.
    QByteArray safetensors(int dataBytes = 64)
    {
        const QByteArray header = R"({"__metadata__":{"format":"pt"}})";
        QByteArray bytes(8, '\0');
        for (int i = 0; i < 8; ++i) {
            bytes[i] = char((quint64(header.size()) >> (8 * i)) & 0xff);
        }
        return bytes + header + QByteArray(dataBytes, '\0');
    }

    QByteArray modelIndex(const QByteArray& pipeline = "StableDiffusionPipeline")
    {
        return R"({"_class_name": ")" + pipeline + R"(", "unet": ["diffusers", "UNet2DConditionModel"]})";
    }

    bool link(const QString& target, const QString& path)
    {
        QDir().mkpath(QFileInfo(path).absolutePath());
        return QFile::link(target, path);
    }

    /// Sets a folder's modification time @p age before now.
    bool age(const QString& path, std::chrono::hours age)
    {
        std::error_code error;
        const std::filesystem::path p(QFile::encodeName(path).toStdString());
        std::filesystem::last_write_time(p, std::filesystem::file_time_type::clock::now() - age, error);
        return !error;
    }

    const DiscoveredModel* findByName(const QList<DiscoveredModel>& models, const QString& name)
    {
        for (const DiscoveredModel& model : models) {
            if (model.name == name) {
                return &model;
            }
        }
        return nullptr;
    }
} // namespace

class TestModelDiscovery final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void findsEachModel_data();
    void findsEachModel();
    void leavesOut_data();
    void leavesOut();
    void namesWhatItSkipped_data();
    void namesWhatItSkipped();
    void sortedByNameAndEachOnce();
    void aWebuiModelsFolderGivenDirectly();
    void missingLocationsAreQuiet();
    void findsTheFixtureModels();
    void canBeCanceled();
    void defaultHuggingFaceCache_data();
    void defaultHuggingFaceCache();
    void fromEnvironmentFindsDefaultInstalls();
    void supportFoldersOfEveryKnownInstall();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    ModelLocations m_locations;
    ModelDiscoveryResult m_result;
    bool m_canLock = false; ///< false as root, who reads any folder
    qint64 m_blobSize = 0;
};

void TestModelDiscovery::initTestCase()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    const QDir root(m_dir->path());

    // Hugging Face cache. runwayml: refs/main names "bbb" although "aaa" is newer; files are links into blobs/.
    const QString hf = root.filePath(u"hf"_s);
    const QString runway = hf + u"/models--runwayml--stable-diffusion-v1-5"_s;
    const QByteArray index = modelIndex();
    m_blobSize = index.size();
    QVERIFY(writeFile(runway + u"/blobs/0123abcd"_s, index));
    QVERIFY(writeFile(runway + u"/refs/main"_s, "bbb\n"));
    QVERIFY(link(u"../../blobs/0123abcd"_s, runway + u"/snapshots/bbb/model_index.json"_s));
    QVERIFY(writeFile(runway + u"/snapshots/aaa/model_index.json"_s, index));
    QVERIFY(age(runway + u"/snapshots/bbb"_s, std::chrono::hours(48)));
    // No refs/main: the newest snapshot.
    const QString newest = hf + u"/models--org--newest-only"_s;
    QVERIFY(writeFile(newest + u"/snapshots/old/model_index.json"_s, index));
    QVERIFY(writeFile(newest + u"/snapshots/new/model_index.json"_s, index));
    QVERIFY(age(newest + u"/snapshots/old"_s, std::chrono::hours(48)));
    // refs/main names a snapshot that is gone: the newest of the others.
    const QString stale = hf + u"/models--org--stale-ref"_s;
    QVERIFY(writeFile(stale + u"/refs/main"_s, "gone"));
    QVERIFY(writeFile(stale + u"/snapshots/kept/model_index.json"_s, index));
    // Not diffusers models, or not SD 1.x, or a download cut short.
    QVERIFY(writeFile(hf + u"/models--openai--clip-vit/snapshots/x/config.json"_s, "{}"));
    QVERIFY(writeFile(hf + u"/models--stabilityai--sdxl/snapshots/x/model_index.json"_s,
                      modelIndex("StableDiffusionXLPipeline")));
    QVERIFY(link(u"../../blobs/never-downloaded"_s, hf + u"/models--org--partial/snapshots/x/model_index.json"_s));
    QVERIFY(writeFile(hf + u"/datasets--org--data/snapshots/x/model_index.json"_s, index));

    // AUTOMATIC1111 webui.
    const QString a1111 = root.filePath(u"webui/models/Stable-diffusion"_s);
    QVERIFY(writeFile(a1111 + u"/v1-5.safetensors"_s, safetensors(1000)));
    QVERIFY(writeFile(a1111 + u"/Sub/dream.safetensors"_s, safetensors()));
    QVERIFY(writeFile(a1111 + u"/old.ckpt"_s, "PK\x03\x04 not to be opened"));
    QVERIFY(writeFile(a1111 + u"/notes.txt"_s, "hello"));
    QVERIFY(writeFile(a1111 + u"/.hidden.safetensors"_s, safetensors()));
    // Four levels: the folder and three below it.
    QVERIFY(writeFile(a1111 + u"/a/b/c/d/too-deep.safetensors"_s, safetensors()));
    QVERIFY(writeFile(a1111 + u"/a/b/c/deep-enough.safetensors"_s, safetensors()));
    QVERIFY(link(a1111 + u"/missing.safetensors"_s, a1111 + u"/broken.safetensors"_s));
    QVERIFY(::mkfifo(QFile::encodeName(a1111 + u"/fifo.safetensors"_s).constData(), 0600) == 0);

    // ComfyUI.
    const QString comfy = root.filePath(u"ComfyUI"_s);
    QVERIFY(writeFile(comfy + u"/models/checkpoints/comfy.safetensors"_s, safetensors()));
    QVERIFY(writeFile(comfy + u"/models/diffusers/tiny/model_index.json"_s, index));
    QVERIFY(writeFile(comfy + u"/models/diffusers/tiny/unet/diffusion_pytorch_model.safetensors"_s, safetensors()));

    // A folder the artist added.
    const QString added = root.filePath(u"added"_s);
    QVERIFY(writeFile(added + u"/nested/deeper/diffusers-a/model_index.json"_s, index));
    QVERIFY(writeFile(added + u"/nested/deeper/diffusers-a/unet/diffusion_pytorch_model.safetensors"_s, safetensors()));
    QVERIFY(writeFile(added + u"/file.safetensors"_s, safetensors()));
    QVERIFY(writeFile(added + u"/truncated.safetensors"_s, QByteArray("\x10\0\0", 3)));
    QVERIFY(writeFile(added + u"/weights.bin"_s, "pickle"));
    QVERIFY(link(added, added + u"/loop"_s));
    QVERIFY(link(u".."_s, added + u"/nested/up"_s));
    // The same models again, through links: listed once, under the first source.
    QVERIFY(link(a1111 + u"/v1-5.safetensors"_s, added + u"/link-to-v1-5.safetensors"_s));
    QVERIFY(link(comfy + u"/models/diffusers/tiny"_s, added + u"/tiny-again"_s));
    QVERIFY(writeFile(added + u"/locked/secret.safetensors"_s, safetensors()));
    QVERIFY(QFile::setPermissions(added + u"/locked"_s, QFileDevice::Permissions()));
    m_canLock = ::geteuid() != 0;

    m_locations.huggingFaceCaches = {hf};
    m_locations.automatic1111Roots = {root.filePath(u"webui"_s), root.filePath(u"no-such-webui"_s)};
    m_locations.comfyUiRoots = {comfy};
    m_locations.extraFolders = {added, added}; // given twice
    m_result = discoverModels(m_locations);
    QVERIFY(!m_result.canceled);
}

void TestModelDiscovery::cleanupTestCase()
{
    if (m_dir) {
        QFile::setPermissions(m_dir->filePath(u"added/locked"_s),
                              QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
}

void TestModelDiscovery::findsEachModel_data()
{
    using Kind = DiscoveredModel::Kind;
    using Source = DiscoveredModel::Source;
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("pathEnd");
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<Source>("source");
    QTest::addColumn<QString>("problem"); ///< part of it; empty: usable
    QTest::newRow("HF: refs/main wins over the newest")
        << u"runwayml/stable-diffusion-v1-5"_s << u"hf/models--runwayml--stable-diffusion-v1-5/snapshots/bbb"_s
        << Kind::DiffusersFolder << Source::HuggingFaceCache << QString();
    QTest::newRow("HF: newest snapshot") << u"org/newest-only"_s << u"/snapshots/new"_s << Kind::DiffusersFolder
                                         << Source::HuggingFaceCache << QString();
    QTest::newRow("HF: refs/main gone") << u"org/stale-ref"_s << u"/snapshots/kept"_s << Kind::DiffusersFolder
                                        << Source::HuggingFaceCache << QString();
    QTest::newRow("HF: not SD 1.x") << u"stabilityai/sdxl"_s << u"/snapshots/x"_s << Kind::DiffusersFolder
                                    << Source::HuggingFaceCache << u"StableDiffusionXLPipeline"_s;
    QTest::newRow("A1111") << u"v1-5"_s << u"webui/models/Stable-diffusion/v1-5.safetensors"_s << Kind::SingleFile
                           << Source::Automatic1111 << QString();
    QTest::newRow("A1111 subfolder") << u"Sub/dream"_s << u"Stable-diffusion/Sub/dream.safetensors"_s
                                     << Kind::SingleFile << Source::Automatic1111 << QString();
    QTest::newRow("A1111 fourth level") << u"a/b/c/deep-enough"_s << u"/a/b/c/deep-enough.safetensors"_s
                                        << Kind::SingleFile << Source::Automatic1111 << QString();
    QTest::newRow("pickle listed, never loaded")
        << u"old"_s << u"/old.ckpt"_s << Kind::SingleFile << Source::Automatic1111 << u"pickle checkpoint (.ckpt)"_s;
    QTest::newRow("ComfyUI") << u"comfy"_s << u"ComfyUI/models/checkpoints/comfy.safetensors"_s << Kind::SingleFile
                             << Source::ComfyUi << QString();
    QTest::newRow("ComfyUI diffusers") << u"tiny"_s << u"ComfyUI/models/diffusers/tiny"_s << Kind::DiffusersFolder
                                       << Source::ComfyUi << QString();
    QTest::newRow("added: nested diffusers folder")
        << u"nested/deeper/diffusers-a"_s << u"added/nested/deeper/diffusers-a"_s << Kind::DiffusersFolder
        << Source::AddedFolder << QString();
    QTest::newRow("added: single file") << u"file"_s << u"added/file.safetensors"_s << Kind::SingleFile
                                        << Source::AddedFolder << QString();
    QTest::newRow("added: truncated") << u"truncated"_s << u"added/truncated.safetensors"_s << Kind::SingleFile
                                      << Source::AddedFolder << u"too short (3 bytes)"_s;
    QTest::newRow("added: .bin") << u"weights"_s << u"added/weights.bin"_s << Kind::SingleFile << Source::AddedFolder
                                 << u"convert it to .safetensors"_s;
}

void TestModelDiscovery::findsEachModel()
{
    QFETCH(QString, name);
    QFETCH(QString, pathEnd);
    QFETCH(DiscoveredModel::Kind, kind);
    QFETCH(DiscoveredModel::Source, source);
    QFETCH(QString, problem);
    const DiscoveredModel* model = findByName(m_result.models, name);
    QVERIFY2(model, qPrintable(name));
    QVERIFY2(model->path.endsWith(pathEnd), qPrintable(model->path));
    QVERIFY(QFileInfo(model->path).isAbsolute());
    QCOMPARE(model->kind, kind);
    QCOMPARE(model->source, source);
    if (problem.isEmpty()) {
        QVERIFY2(model->isUsable(), qPrintable(model->problem));
    } else {
        QVERIFY2(model->problem.contains(problem), qPrintable(model->problem));
        QVERIFY2(model->problem.contains(model->path), qPrintable(model->problem));
    }
    QVERIFY(model->size > 0);
}

void TestModelDiscovery::leavesOut_data()
{
    QTest::addColumn<QString>("fragment"); ///< no model's path or name contains it
    QTest::addColumn<bool>("needsNonRoot");
    QTest::newRow("HF repository without model_index.json") << u"clip-vit"_s << false;
    QTest::newRow("HF download cut short") << u"partial"_s << false;
    QTest::newRow("HF datasets") << u"datasets--"_s << false;
    QTest::newRow("HF older snapshot") << u"snapshots/aaa"_s << false;
    QTest::newRow("hidden file") << u".hidden"_s << false;
    QTest::newRow("not a model") << u"notes"_s << false;
    QTest::newRow("too deep") << u"too-deep"_s << false;
    QTest::newRow("broken link") << u"broken"_s << false;
    QTest::newRow("FIFO") << u"fifo"_s << false;
    QTest::newRow("inside a diffusers folder") << u"diffusion_pytorch_model"_s << false;
    QTest::newRow("duplicate file through a link") << u"link-to-v1-5"_s << false;
    QTest::newRow("duplicate folder through a link") << u"tiny-again"_s << false;
    QTest::newRow("through the loop") << u"loop/"_s << false;
    QTest::newRow("through the link up") << u"up/"_s << false;
    QTest::newRow("unreadable folder") << u"secret"_s << true;
}

void TestModelDiscovery::leavesOut()
{
    QFETCH(QString, fragment);
    QFETCH(bool, needsNonRoot);
    if (needsNonRoot && !m_canLock) {
        QSKIP("root reads every folder");
    }
    for (const DiscoveredModel& model : m_result.models) {
        QVERIFY2(!model.path.contains(fragment) && !model.name.contains(fragment), qPrintable(model.path));
    }
}

void TestModelDiscovery::namesWhatItSkipped_data()
{
    QTest::addColumn<QString>("fragment");
    QTest::addColumn<bool>("needsNonRoot");
    QTest::newRow("broken link") << u"broken.safetensors is a symbolic link to"_s << false;
    QTest::newRow("missing webui") << u"the AUTOMATIC1111 folder {webui} does not exist"_s << false;
    QTest::newRow("unreadable folder") << u"cannot read the folder {locked}: Permission denied"_s << true;
}

void TestModelDiscovery::namesWhatItSkipped()
{
    QFETCH(QString, fragment);
    QFETCH(bool, needsNonRoot);
    if (needsNonRoot && !m_canLock) {
        QSKIP("root reads every folder");
    }
    fragment.replace(u"{webui}"_s, m_dir->filePath(u"no-such-webui"_s));
    fragment.replace(u"{locked}"_s, m_dir->filePath(u"added/locked"_s));
    QVERIFY2(!m_result.skipped.filter(fragment).isEmpty(), qPrintable(m_result.skipped.join(u'\n')));
}

void TestModelDiscovery::sortedByNameAndEachOnce()
{
    QSet<QString> canonical;
    for (qsizetype i = 0; i < m_result.models.size(); ++i) {
        const DiscoveredModel& model = m_result.models.at(i);
        if (i > 0) {
            QVERIFY2(m_result.models.at(i - 1).name.compare(model.name, Qt::CaseInsensitive) <= 0,
                     qPrintable(model.name));
        }
        const QString key = QFileInfo(model.path).canonicalFilePath();
        QVERIFY2(!canonical.contains(key), qPrintable(model.path));
        canonical.insert(key);
    }
    QCOMPARE(m_result.models.size(), m_canLock ? 14 : 15);
    // A diffusers folder's size is its files', links followed: here model_index.json, a link into blobs/.
    QCOMPARE(findByName(m_result.models, u"runwayml/stable-diffusion-v1-5"_s)->size, m_blobSize);
    QCOMPARE(findByName(m_result.models, u"v1-5"_s)->size, safetensors(1000).size());
}

void TestModelDiscovery::aWebuiModelsFolderGivenDirectly()
{
    ModelLocations locations;
    locations.automatic1111Roots = {m_dir->filePath(u"webui/models/Stable-diffusion"_s)};
    locations.comfyUiRoots = {m_dir->filePath(u"ComfyUI/models/checkpoints"_s)};
    const ModelDiscoveryResult result = discoverModels(locations);
    QStringList names;
    for (const DiscoveredModel& model : result.models) {
        names.append(model.name);
    }
    QCOMPARE(names, (QStringList{u"a/b/c/deep-enough"_s, u"comfy"_s, u"old"_s, u"Sub/dream"_s, u"v1-5"_s}));
}

void TestModelDiscovery::missingLocationsAreQuiet()
{
    ModelLocations locations;
    locations.huggingFaceCaches = {m_dir->filePath(u"no-cache"_s), QString()};
    const ModelDiscoveryResult result = discoverModels(locations);
    QVERIFY(result.models.isEmpty());
    QVERIFY(result.skipped.isEmpty()); // no Hugging Face cache is the usual case
    QVERIFY(discoverModels({}).models.isEmpty());

    locations.extraFolders = {m_dir->filePath(u"webui/models/Stable-diffusion/v1-5.safetensors"_s)};
    QVERIFY(discoverModels(locations).skipped.constFirst().contains(u"is not a folder"_s));
}

void TestModelDiscovery::findsTheFixtureModels()
{
    const QString fixtures = Test::fixturePath(u"tiny-sd15"_s);
    if (!QFileInfo(fixtures + u"/model_index.json"_s).isFile()) {
        QSKIP("the tiny-sd15 fixture is not there");
    }
    ModelLocations locations;
    locations.extraFolders = {fixtures, fixtures + u"/single-file"_s};
    const ModelDiscoveryResult result = discoverModels(locations);
    // Both are named tiny-sd15; the folder's path sorts first.
    QCOMPARE(result.models.size(), 2);
    const DiscoveredModel& folder = result.models.at(0);
    const DiscoveredModel& file = result.models.at(1);
    QCOMPARE(folder.name, u"tiny-sd15"_s);
    QCOMPARE(folder.kind, DiscoveredModel::Kind::DiffusersFolder);
    QVERIFY2(folder.isUsable(), qPrintable(folder.problem));
    QCOMPARE(file.name, u"tiny-sd15"_s);
    QCOMPARE(file.kind, DiscoveredModel::Kind::SingleFile);
    QVERIFY2(file.isUsable(), qPrintable(file.problem));
    QCOMPARE(file.size, QFileInfo(fixtures + u"/single-file/tiny-sd15.safetensors"_s).size());
    // The same weights in diffusers' files, and the single file inside is counted too.
    QVERIFY(folder.size > file.size);
}

void TestModelDiscovery::canBeCanceled()
{
    const std::atomic_bool cancel{true};
    const ModelDiscoveryResult result = discoverModels(m_locations, &cancel);
    QVERIFY(result.canceled);
    QVERIFY(result.models.size() < m_result.models.size());
}

void TestModelDiscovery::defaultHuggingFaceCache_data()
{
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("cache");
    QTest::newRow("HF_HUB_CACHE first") << QStringList{u"HF_HUB_CACHE=/a"_s, u"HF_HOME=/b"_s, u"HOME=/h"_s} << u"/a"_s;
    QTest::newRow("the older name") << QStringList{u"HUGGINGFACE_HUB_CACHE=/old"_s, u"HF_HOME=/b"_s} << u"/old"_s;
    QTest::newRow("HF_HOME") << QStringList{u"HF_HOME=/b"_s, u"XDG_CACHE_HOME=/x"_s} << u"/b/hub"_s;
    QTest::newRow("XDG_CACHE_HOME") << QStringList{u"XDG_CACHE_HOME=/x"_s, u"HOME=/h"_s} << u"/x/huggingface/hub"_s;
    QTest::newRow("HOME") << QStringList{u"HOME=/h"_s} << u"/h/.cache/huggingface/hub"_s;
    QTest::newRow("empty values are unset")
        << QStringList{u"HF_HUB_CACHE="_s, u"HOME=/h"_s} << u"/h/.cache/huggingface/hub"_s;
}

void TestModelDiscovery::defaultHuggingFaceCache()
{
    QFETCH(QStringList, environment);
    QFETCH(QString, cache);
    QProcessEnvironment env;
    for (const QString& entry : environment) {
        env.insert(entry.section(u'=', 0, 0), entry.section(u'=', 1));
    }
    QCOMPARE(Atelier::defaultHuggingFaceCache(env), cache);
}

void TestModelDiscovery::fromEnvironmentFindsDefaultInstalls()
{
    QTemporaryDir home;
    QProcessEnvironment env;
    env.insert(u"HOME"_s, home.path());
    QCOMPARE(ModelLocations::fromEnvironment(env).automatic1111Roots, QStringList());
    QVERIFY(QDir(home.path()).mkpath(u"stable-diffusion-webui"_s));
    QVERIFY(QDir(home.path()).mkpath(u"ComfyUI"_s));
    const ModelLocations locations = ModelLocations::fromEnvironment(env);
    QCOMPARE(locations.huggingFaceCaches, QStringList{home.filePath(u".cache/huggingface/hub"_s)});
    QCOMPARE(locations.automatic1111Roots, QStringList{home.filePath(u"stable-diffusion-webui"_s)});
    QCOMPARE(locations.comfyUiRoots, QStringList{home.filePath(u"ComfyUI"_s)});
    QVERIFY(locations.extraFolders.isEmpty());
}

// The artist's own LoRA folders first, then Atelier's, then each install's; a root given as its checkpoint folder
// finds its LoRA folder beside it; folders that do not exist are left out.
void TestModelDiscovery::supportFoldersOfEveryKnownInstall()
{
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    const auto make = [&](const QString& relative) {
        QDir(dir.path()).mkpath(relative);
        return QDir::cleanPath(dir.filePath(relative));
    };
    const QString own = make(u"my-loras"_s);
    const QString webui = make(u"webui/models/Lora"_s);
    make(u"webui/models/Stable-diffusion"_s);
    const QString second = make(u"other/models/Lora"_s);
    const QString checkpoints = make(u"other/models/Stable-diffusion"_s);
    const QString comfy = make(u"comfy/models/loras"_s);
    const QString atelier
        = QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(u"loras"_s);
    QVERIFY(QDir().mkpath(atelier));
    ModelLocations locations;
    locations.automatic1111Roots = {dir.filePath(u"webui"_s), checkpoints, dir.filePath(u"absent"_s)};
    locations.comfyUiRoots = {dir.filePath(u"comfy"_s)};
    QCOMPARE(locations.loraFolders({own, dir.filePath(u"not-there"_s)}),
             (QStringList{own, QDir::cleanPath(atelier), webui, second, comfy}));
    QDir(atelier).removeRecursively();
    // Embeddings: the webui's own folder (beside models/), ComfyUI's models/embeddings.
    const QString webuiEmbeddings = make(u"webui/embeddings"_s);
    const QString comfyEmbeddings = make(u"comfy/models/embeddings"_s);
    const QString secondEmbeddings = make(u"other/embeddings"_s);
    QCOMPARE(locations.embeddingFolders(), (QStringList{webuiEmbeddings, secondEmbeddings, comfyEmbeddings}));
}

QTEST_GUILESS_MAIN(TestModelDiscovery)
#include "TestModelDiscovery.moc"
