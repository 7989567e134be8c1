// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-library-bench: times the image library behind the gallery on a folder of synthetic images.
//
//   atelier-library-bench [--images N] [--thumbnails M] [--searches S] [--keep]
//
// Writes N small PNGs (64×64, random colours) carrying an AUTOMATIC1111 infotext and Atelier's provenance, as a
// worker writes them, into a temporary folder, then measures: the first scanFolder() and a rescan; counting and
// reading the first page of the gallery (all, one model, starred); S prompt searches as the gallery runs them
// (count and first page), with FTS5 and with the LIKE fallback; the LibraryModel's first page and every page to the
// end; M thumbnails made, then read back from the cache folder; and the peak resident memory. It prints what it
// measured, one "name: value unit" line each, and nothing else on stdout. Not a test: nothing is checked.

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QTimeZone>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

#include "BenchSupport.h"
#include "LibraryModel.h"
#include "ThumbnailCache.h"
#include "library/ImageLibrary.h"

using namespace Atelier;
using namespace Atelier::Bench;
using namespace Qt::StringLiterals;

namespace
{
    /// The searches an artist types: one to three words, each whole or its first two to five letters.
    QStringList searches(int count, QRandomGenerator& random)
    {
        QStringList list;
        for (int i = 0; i < count; ++i) {
            QStringList words;
            const int n = int(random.bounded(1, 4));
            for (int w = 0; w < n; ++w) {
                const QString word = Words.at(int(random.bounded(Words.size())));
                words.append(random.bounded(2) ? word : word.left(int(random.bounded(2, 6))));
            }
            list.append(words.join(u' '));
        }
        return list;
    }

    /// Median and worst time of running @p searches as the gallery does: count, then the first page.
    std::pair<double, double> searchLatency(ImageLibrary& library, const QStringList& searches)
    {
        QList<double> times;
        for (const QString& search : searches) {
            LibraryFilter filter;
            filter.search = search;
            times.append(timed([&] {
                library.count(filter);
                library.query(filter, 0, LibraryModel::PageSize);
            }));
        }
        return {median(times), *std::max_element(times.begin(), times.end())};
    }

    /// Runs the event loop until @p cache has nothing left to make.
    void waitForThumbnails(ThumbnailCache& cache)
    {
        while (cache.pendingCount() > 0) {
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
        }
    }
} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QGuiApplication app(argc, argv);
    int images = 10000;
    int thumbnails = 1000;
    int searchCount = 50;
    bool keep = false;
    const QStringList arguments = app.arguments();
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString& argument = arguments.at(i);
        auto number = [&](int& target) {
            bool ok = false;
            target = arguments.value(++i).toInt(&ok);
            return ok && target > 0;
        };
        if (!((argument == u"--images"_s && number(images)) || (argument == u"--thumbnails"_s && number(thumbnails))
              || (argument == u"--searches"_s && number(searchCount)) || (argument == u"--keep"_s && (keep = true)))) {
            std::fprintf(stderr,
                         "usage: atelier-library-bench [--images N] [--thumbnails M] [--searches S] [--keep]\n");
            return 2;
        }
    }
    thumbnails = std::min(thumbnails, images);

    QTemporaryDir work;
    work.setAutoRemove(!keep);
    const QString folder = work.filePath(u"out"_s);
    QDir().mkpath(folder);
    if (keep) {
        std::fprintf(stderr, "keeping %s\n", qPrintable(work.path()));
    }
    QRandomGenerator random(20240501);
    std::printf("images: %d\ncores: %d\n", images, QThread::idealThreadCount());
    bool written = false;
    print("write_images", timed([&] { written = writeImages(folder, images, random); }) / 1000, "s");
    if (!written) {
        std::fprintf(stderr, "cannot write the images into %s\n", qPrintable(folder));
        return 1;
    }

    ImageLibrary library;
    if (const QString error = library.open(work.filePath(u"library.sqlite"_s)); !error.isEmpty()) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    std::optional<LibraryScan> scan;
    print("scan_first_ms", timed([&] { scan = library.scanFolder(folder); }), "ms");
    if (!scan || scan->added != images) {
        std::fprintf(stderr, "the scan indexed %d of %d: %s\n", scan ? scan->added : 0, images,
                     qPrintable(library.error()));
        return 1;
    }
    print("scan_again_ms", timed([&] { scan = library.scanFolder(folder); }), "ms");
    // With its write-ahead log, which holds the newest pages until SQLite checkpoints it.
    print("library_file_mb",
          double(QFileInfo(work.filePath(u"library.sqlite"_s)).size()
                 + QFileInfo(work.filePath(u"library.sqlite-wal"_s)).size())
              / 1e6,
          "MB");

    // Star one in ten, so that the starred filter has something to find.
    QList<qint64> starred;
    for (const LibraryImage& image : library.query({}, 0, images)) {
        if (image.id % 10 == 0) {
            starred.append(image.id);
        }
    }
    library.setStarred(starred, true);

    auto firstPage = [&](const LibraryFilter& filter) {
        QList<double> times;
        for (int i = 0; i < 20; ++i) {
            times.append(timed([&] {
                library.count(filter);
                library.query(filter, 0, LibraryModel::PageSize);
            }));
        }
        return median(times);
    };
    print("count_and_first_page_all_ms", firstPage({}), "ms");
    LibraryFilter byModel;
    byModel.modelName = Models.first();
    print("count_and_first_page_model_ms", firstPage(byModel), "ms");
    LibraryFilter onlyStarred;
    onlyStarred.starredOnly = true;
    print("count_and_first_page_starred_ms", firstPage(onlyStarred), "ms");
    LibraryFilter lastMonth;
    lastMonth.createdFrom = QDateTime::currentDateTimeUtc().addDays(-30);
    print("count_and_first_page_last_30_days_ms", firstPage(lastMonth), "ms");

    const QStringList typed = searches(searchCount, random);
    const auto [ftsMedian, ftsMax] = searchLatency(library, typed);
    print("search_fts5_median_ms", ftsMedian, "ms");
    print("search_fts5_max_ms", ftsMax, "ms");
    // One letter, the first key typed: it matches nearly every image, the most a search has to count and sort.
    print("search_fts5_one_letter_ms", searchLatency(library, {u"s"_s}).second, "ms");
    {
        ImageLibrary plain;
        plain.open(work.filePath(u"library.sqlite"_s), /*fullTextSearch=*/false);
        const auto [likeMedian, likeMax] = searchLatency(plain, typed);
        print("search_like_median_ms", likeMedian, "ms");
        print("search_like_max_ms", likeMax, "ms");
        print("search_like_one_letter_ms", searchLatency(plain, {u"s"_s}).second, "ms");
    }

    ThumbnailCache cache(work.filePath(u"thumbnails"_s));
    {
        std::unique_ptr<LibraryModel> model;
        print("model_first_page_ms", timed([&] {
                  model = std::make_unique<LibraryModel>(library, cache);
                  model->fetchMore({});
                  for (int row = 0; row < model->rowCount(); ++row) {
                      model->index(row).data(Qt::DisplayRole);
                  }
              }),
              "ms");
        QList<double> pages;
        while (model->canFetchMore({})) {
            pages.append(timed([&] { model->fetchMore({}); }));
        }
        print("model_next_page_median_ms", median(pages), "ms");
        print("model_next_page_max_ms", pages.isEmpty() ? 0 : *std::max_element(pages.begin(), pages.end()), "ms");
        print("rss_with_every_row_loaded_mb", double(statusKilobytes("VmRSS")) / 1024, "MB");
        LibraryFilter filter;
        filter.search = typed.first();
        print("model_search_reset_and_first_page_ms", timed([&] {
                  model->setFilter(filter);
                  model->fetchMore({});
              }),
              "ms");
    }

    QStringList paths;
    for (const LibraryImage& image : library.query({}, 0, thumbnails)) {
        paths.append(image.path);
    }
    cache.setMaxWaiting(thumbnails);
    std::printf("thumbnail_jobs: %d\n", cache.maxConcurrentJobs());
    const double made = timed([&] {
        for (const QString& path : paths) {
            cache.request(path);
        }
        waitForThumbnails(cache);
    });
    print("thumbnails_made_per_s", cache.stats().generated / (made / 1000), "1/s");
    ThumbnailCache again(cache.folder());
    again.setMaxWaiting(thumbnails);
    const double loaded = timed([&] {
        for (const QString& path : paths) {
            again.request(path);
        }
        waitForThumbnails(again);
    });
    print("thumbnails_from_disk_per_s", again.stats().loadedFromDisk / (loaded / 1000), "1/s");

    print("peak_rss_mb", double(statusKilobytes("VmHWM")) / 1024, "MB");
    return 0;
}
