// SPDX-License-Identifier: GPL-3.0-or-later
#include "BenchSupport.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>

#include <algorithm>
#include <cstdio>

#include "render/ImageMetadata.h"
#include "render/OutputNaming.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier::Bench
{
    const QStringList Words = [] {
        return u"lighthouse cliff dusk oil painting portrait cat fox wolf forest mountain river city street night "
               "rain snow winter summer autumn spring flower garden castle dragon knight robot spaceship planet "
               "galaxy nebula ocean wave beach sunset sunrise desert dune cactus village cottage bridge tower "
               "cathedral market harbor boat ship sail storm thunder lightning cloud sky star moon sun shadow light "
               "golden silver crystal glass marble stone wooden ancient futuristic cyberpunk steampunk fantasy "
               "surreal abstract minimal detailed intricate cinematic dramatic moody vibrant pastel watercolor "
               "charcoal sketch ink engraving photograph macro aerial panorama closeup bokeh volumetric fog mist "
               "smoke fire ember lantern candle library study workshop kitchen tavern throne crown sword shield "
               "armor cloak hood mask feather wing owl eagle raven horse deer bear tiger lion elephant whale "
               "octopus jellyfish coral reef jungle temple ruins statue fountain canal gondola train station "
               "airship balloon windmill lighthouse meadow orchard vineyard glacier volcano canyon waterfall"_s.split(
                   u' ');
    }();
    const QStringList Models{u"v1-5-pruned-emaonly"_s, u"dreamshaper_8"_s, u"realisticVision"_s, u"anything-v5"_s,
                             u"atelier-tiny"_s};

    double millisecondsSince(const QElapsedTimer& timer)
    {
        return double(timer.nsecsElapsed()) / 1e6;
    }

    double timed(const std::function<void()>& work)
    {
        QElapsedTimer timer;
        timer.start();
        work();
        return millisecondsSince(timer);
    }

    double median(QList<double> values)
    {
        std::sort(values.begin(), values.end());
        return values.isEmpty() ? 0 : values.at(values.size() / 2);
    }

    void print(const char* name, double value, const char* unit)
    {
        std::printf("%s: %.3f %s\n", name, value, unit);
        std::fflush(stdout);
    }

    /// A /proc/self/status field in kB ("VmHWM": the peak resident set).
    qint64 statusKilobytes(const QByteArray& field)
    {
        QFile status(u"/proc/self/status"_s);
        if (!status.open(QIODevice::ReadOnly)) {
            return -1;
        }
        for (const QByteArray& line : status.readAll().split('\n')) {
            if (line.startsWith(field + ':')) {
                return line.mid(field.size() + 1).trimmed().split(' ').value(0).toLongLong();
            }
        }
        return -1;
    }

    QString randomPrompt(QRandomGenerator& random, int minWords, int maxWords)
    {
        QStringList words;
        const int count = int(random.bounded(minWords, maxWords + 1));
        for (int i = 0; i < count; ++i) {
            words.append(Words.at(int(random.bounded(Words.size()))));
        }
        return words.join(u", "_s);
    }

    /// Writes @p count images as a worker would, with creation times spread over the last year.
    bool writeImages(const QString& folder, int count, QRandomGenerator& random)
    {
        const QStringList samplers = samplerNames();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int i = 0; i < count; ++i) {
            RenderSettings settings;
            settings.prompt = randomPrompt(random, 6, 16);
            settings.negativePrompt = randomPrompt(random, 0, 4);
            settings.seed = random.generate64();
            settings.steps = int(random.bounded(10, 51));
            settings.cfgScale = double(random.bounded(10, 121)) / 10;
            settings.width = 512;
            settings.height = 512;
            settings.scheduler = samplers.at(int(random.bounded(samplers.size())));
            const QString model = Models.at(int(random.bounded(Models.size())));
            Provenance provenance;
            provenance.queueItemId = i + 1;
            provenance.settings = settings;
            provenance.model = model;
            provenance.modelHash = u"0123456789"_s;
            provenance.device = u"cuda:%1"_s.arg(i % 2);
            provenance.precision = u"fp16"_s;

            QImage image(64, 64, QImage::Format_RGB888);
            for (int y = 0; y < 64; ++y) {
                uchar* line = image.scanLine(y);
                for (int x = 0; x < 64 * 3; ++x) {
                    line[x] = uchar(random.bounded(256));
                }
            }
            image.setText(u"parameters"_s, Infotext{settings, u"0123456789"_s, model}.toString());
            image.setText(u"atelier"_s,
                          QString::fromUtf8(QJsonDocument(provenance.toJson()).toJson(QJsonDocument::Compact)));
            const QString path = QDir(folder).filePath(imageFileName(i, *settings.seed, settings.prompt));
            if (!image.save(path, "PNG")) {
                return false;
            }
            QFile file(path);
            if (!file.open(QIODevice::ReadWrite)
                || !file.setFileTime(now.addSecs(-qint64(random.bounded(365 * 24 * 3600))),
                                     QFileDevice::FileModificationTime)) {
                return false;
            }
        }
        return true;
    }

    bool resetPeakMemory()
    {
        // Writing 5 to clear_refs resets VmHWM (Linux 4.0 and later).
        QFile clear(u"/proc/self/clear_refs"_s);
        return clear.open(QIODevice::WriteOnly) && clear.write("5") == 1;
    }
} // namespace Atelier::Bench
