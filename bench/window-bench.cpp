// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-window-bench: how the window behaves with a large image library, and while workers render.
//
//   atelier-window-bench [--images N] [--searches S] [--render K] [--size PX] [--steps N] [--keep]
//
// Writes N synthetic PNGs as workers write them (bench/BenchSupport), indexes them into a fresh library and makes
// every thumbnail, so that the window starts as it does on an artist's machine the day after. Then, in the main
// window (Qt's offscreen platform unless QT_QPA_PLATFORM says otherwise):
// - window_first_paint_ms: from constructing the window to the gallery's first paint; window_gallery_filled_ms:
//   until every visible tile shows its thumbnail;
// - scroll_max_stall_ms: the gallery scrolled from the top to the last image, half a page every 16 ms, while a
//   5 ms timer measures how late the UI thread serves it (its worst lateness is the longest stall);
// - rss_mb / peak_rss_mb: resident memory after the scroll, and its peak since the window opened;
// - search_median_ms / search_max_ms: S prompt searches typed into the gallery (filter, model reset, relayout);
// - with --render K: K prompts (PX × PX, N steps, the built-in model) rendered by two CPU workers from the window,
//   and the UI thread's longest stall meanwhile (run_max_stall_ms).
// Prints one "name: value unit" line per measurement and nothing else on stdout. Not a test: nothing is checked.

#include <QAbstractItemView>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QListView>
#include <QScrollBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "BenchSupport.h"
#include "DeviceBoardModel.h"
#include "GalleryPanel.h"
#include "LibraryModel.h"
#include "MainWindow.h"
#include "QueueTableModel.h"
#include "ThumbnailCache.h"
#include "library/ImageLibrary.h"
#include "queue/QueueStore.h"

using namespace Atelier;
using namespace Atelier::Bench;
using namespace Qt::StringLiterals;

namespace
{
    /// Measures how late the event loop serves a fast timer: the longest and the 99th-percentile lateness are how
    /// long the UI thread was busy with something else (a stall the artist feels as a frozen window).
    class StallProbe final : public QObject
    {
    public:
        static constexpr int IntervalMs = 5;

        StallProbe()
        {
            m_timer.setTimerType(Qt::PreciseTimer);
            m_timer.setInterval(IntervalMs);
            connect(&m_timer, &QTimer::timeout, this, [this] {
                const double now = millisecondsSince(m_clock);
                m_lateness.append(std::max(0.0, now - m_last - IntervalMs));
                m_last = now;
            });
        }

        void start()
        {
            m_lateness.clear();
            m_clock.start();
            m_last = 0;
            m_timer.start();
        }
        void stop() { m_timer.stop(); }
        double worst() const
        {
            return m_lateness.isEmpty() ? 0 : *std::max_element(m_lateness.begin(), m_lateness.end());
        }
        double percentile99() const
        {
            QList<double> sorted = m_lateness;
            std::sort(sorted.begin(), sorted.end());
            return sorted.isEmpty() ? 0 : sorted.at(qsizetype(double(sorted.size() - 1) * 0.99));
        }

    private:
        QTimer m_timer;
        QElapsedTimer m_clock;
        double m_last = 0;
        QList<double> m_lateness;
    };

    /// The application, timing each event it delivers, so that a stall can be traced to what caused it.
    class TimingApplication final : public QApplication
    {
    public:
        using QApplication::QApplication;

        struct Slowest
        {
            double ms = 0;
            QString what;
        };

        bool notify(QObject* receiver, QEvent* event) override
        {
            // Only the UI thread's events stall the window (the library's writer thread delivers its own), and only
            // the outermost delivery counts (a nested event loop's events are inside it).
            if (QThread::currentThread() != thread() || m_depth > 0) {
                return QApplication::notify(receiver, event);
            }
            ++m_depth;
            // Named before it is delivered: a receiver may delete itself on its event (DeferredDelete).
            QString what = u"%1 to %2 \"%3\""_s.arg(int(event->type()))
                               .arg(QString::fromLatin1(receiver->metaObject()->className()), receiver->objectName());
            if (const QObject* parent = receiver->parent()) {
                what += u" of %1"_s.arg(QString::fromLatin1(parent->metaObject()->className()));
            }
            QElapsedTimer timer;
            timer.start();
            const bool handled = QApplication::notify(receiver, event);
            const double ms = millisecondsSince(timer);
            --m_depth;
            if (ms > m_slowest.ms) {
                m_slowest = {ms, what};
            }
            return handled;
        }
        /// The slowest event delivered since the last call, and what it was (event type, receiver).
        Slowest takeSlowest() { return std::exchange(m_slowest, {}); }

    private:
        int m_depth = 0;
        Slowest m_slowest;
    };

    /// Runs the event loop until @p done, at most @p timeoutMs. Returns whether it came.
    bool waitFor(const std::function<bool()>& done, int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (!done()) {
            if (timer.elapsed() > timeoutMs) {
                return false;
            }
            QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        }
        return true;
    }

    /// Notes when a widget is first painted, and when it is first painted in full (@p filled holds just before).
    class PaintWatch final : public QObject
    {
    public:
        PaintWatch(const QElapsedTimer& clock, std::function<bool()> filled)
            : m_clock(clock)
            , m_filled(std::move(filled))
        { }

        double firstPaintMs = -1;
        double filledPaintMs = -1;

    protected:
        bool eventFilter(QObject* watched, QEvent* event) override
        {
            if (event->type() == QEvent::Paint) {
                if (firstPaintMs < 0) {
                    firstPaintMs = millisecondsSince(m_clock);
                }
                if (filledPaintMs < 0 && m_filled()) {
                    filledPaintMs = millisecondsSince(m_clock);
                }
            }
            return QObject::eventFilter(watched, event);
        }

    private:
        const QElapsedTimer& m_clock;
        std::function<bool()> m_filled;
    };

    /// Whether every tile the gallery shows has its thumbnail.
    bool visibleTilesReady(QListView* view, LibraryModel* model, ThumbnailCache& cache)
    {
        const QRect area = view->viewport()->rect();
        for (int row = 0; row < model->rowCount(); ++row) {
            const QRect tile = view->visualRect(model->index(row));
            if (tile.top() > area.bottom()) {
                break;
            }
            if (tile.intersects(area) && cache.state(model->imageAt(row).path) != ThumbnailCache::State::Ready) {
                return false;
            }
        }
        return true;
    }
} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    // The window's settings and data go to a test location, never the user's.
    QStandardPaths::setTestModeEnabled(true);
    TimingApplication app(argc, argv);
    QCoreApplication::setOrganizationName(u"AtelierBench"_s);
    QCoreApplication::setApplicationName(u"WindowBench"_s);
    int images = 10000;
    int searchCount = 50;
    int renders = 0;
    int size = 128;
    int steps = 20;
    bool keep = false;
    const QStringList arguments = app.arguments();
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString& argument = arguments.at(i);
        auto number = [&](int& target) {
            bool ok = false;
            target = arguments.value(++i).toInt(&ok);
            return ok && target >= 0;
        };
        if (!((argument == u"--images"_s && number(images)) || (argument == u"--searches"_s && number(searchCount))
              || (argument == u"--render"_s && number(renders)) || (argument == u"--size"_s && number(size))
              || (argument == u"--steps"_s && number(steps)) || (argument == u"--keep"_s && (keep = true)))) {
            std::fprintf(stderr,
                         "usage: atelier-window-bench [--images N] [--searches S] [--render K] [--size PX] "
                         "[--steps N] [--keep]\n");
            return 2;
        }
    }

    QTemporaryDir work;
    work.setAutoRemove(!keep);
    if (keep) {
        std::fprintf(stderr, "keeping %s\n", qPrintable(work.path()));
    }
    const QString folder = work.filePath(u"out"_s);
    const QString libraryPath = work.filePath(u"library.sqlite"_s);
    const QString thumbnailFolder = work.filePath(u"thumbnails"_s);
    QDir().mkpath(folder);
    QRandomGenerator random(20240501);
    std::printf("images: %d\ncores: %d\n", images, QThread::idealThreadCount());
    if (!writeImages(folder, images, random)) {
        std::fprintf(stderr, "cannot write the images into %s\n", qPrintable(folder));
        return 1;
    }
    {
        ImageLibrary library;
        if (const QString error = library.open(libraryPath); !error.isEmpty() || !library.scanFolder(folder)) {
            std::fprintf(stderr, "cannot index %s: %s\n", qPrintable(folder), qPrintable(library.error()));
            return 1;
        }
        ThumbnailCache cache(thumbnailFolder);
        cache.setMaxWaiting(images);
        for (const LibraryImage& image : library.query({}, 0, images)) {
            cache.request(image.path);
        }
        waitFor([&] { return cache.pendingCount() == 0; }, 600000);
    }

    QSettings settings;
    settings.clear();
    settings.setValue(u"render/output"_s, folder);
    settings.setValue(u"render/width"_s, size);
    settings.setValue(u"render/height"_s, size);
    settings.setValue(u"render/steps"_s, steps);
    settings.setValue(u"workers/cpuWorkers"_s, 2);
    settings.setValue(u"render/devices"_s, QStringList{u"cpu"_s, u"cpu#2"_s});
    settings.sync();

    resetPeakMemory();
    QueueStore store;
    store.open(u":memory:"_s);
    ThumbnailCache thumbnails(thumbnailFolder);
    QueueTableModel queue(&store, &thumbnails);
    QElapsedTimer clock;
    clock.start();
    MainWindow window(&queue, &thumbnails, libraryPath);
    QListView* view = window.gallery()->view();
    LibraryModel* model = window.gallery()->model();
    PaintWatch watch(clock, [&] { return model->rowCount() > 0 && visibleTilesReady(view, model, thumbnails); });
    view->viewport()->installEventFilter(&watch);
    window.show();
    if (!waitFor([&] { return watch.filledPaintMs >= 0; }, 30000)) {
        std::fprintf(stderr, "the gallery was never painted in full\n");
        return 1;
    }
    print("window_first_paint_ms", watch.firstPaintMs, "ms");
    print("window_gallery_filled_ms", watch.filledPaintMs, "ms");

    StallProbe probe;
    QScrollBar* bar = view->verticalScrollBar();
    QTimer scroller;
    scroller.setInterval(16);
    QObject::connect(&scroller, &QTimer::timeout, [&] { bar->setValue(bar->value() + bar->pageStep() / 2); });
    probe.start();
    app.takeSlowest();
    scroller.start();
    const double scrolled
        = timed([&] { waitFor([&] { return bar->value() >= bar->maximum() && !model->canFetchMore({}); }, 600000); });
    scroller.stop();
    probe.stop();
    print("scroll_seconds", scrolled / 1000, "s");
    print("scroll_rows_loaded", double(model->rowCount()), "rows");
    print("scroll_max_stall_ms", probe.worst(), "ms");
    print("scroll_p99_stall_ms", probe.percentile99(), "ms");
    const TimingApplication::Slowest slowestScroll = app.takeSlowest();
    std::printf("scroll_slowest_event: %.3f ms (%s)\n", slowestScroll.ms, qPrintable(slowestScroll.what));
    print("rss_mb", double(statusKilobytes("VmRSS")) / 1024, "MB");
    print("peak_rss_mb", double(statusKilobytes("VmHWM")) / 1024, "MB");

    QList<double> searchTimes;
    for (int i = 0; i < searchCount; ++i) {
        QStringList words;
        for (int w = 0, n = int(random.bounded(1, 4)); w < n; ++w) {
            const QString word = Words.at(int(random.bounded(Words.size())));
            words.append(random.bounded(2) ? word : word.left(int(random.bounded(2, 6))));
        }
        searchTimes.append(timed([&] {
            window.gallery()->setSearch(words.join(u' '));
            QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
        }));
    }
    window.gallery()->setSearch({});
    print("search_median_ms", median(searchTimes), "ms");
    print("search_max_ms", searchTimes.isEmpty() ? 0 : *std::max_element(searchTimes.begin(), searchTimes.end()), "ms");

    if (renders > 0) {
        QList<RenderSettings> prompts;
        for (int i = 0; i < renders; ++i) {
            RenderSettings prompt;
            prompt.prompt = randomPrompt(random, 4, 10);
            prompt.seed = random.generate();
            prompts.append(prompt);
        }
        queue.add(prompts);
        probe.start();
        app.takeSlowest();
        window.startRenderingWhenReady();
        const double rendered = timed([&] {
            waitFor(
                [&] {
                    return window.isRendering() && queue.waitingCount() == 0 && queue.countIn(ItemState::Running) == 0;
                },
                3600000);
        });
        probe.stop();
        std::printf("run_workers: %lld\n", qlonglong(window.deviceBoard()->devicesInUse().size()));
        print("run_images", double(queue.countIn(ItemState::Done)), "images");
        print("run_seconds", rendered / 1000, "s");
        print("run_max_stall_ms", probe.worst(), "ms");
        print("run_p99_stall_ms", probe.percentile99(), "ms");
        const TimingApplication::Slowest slowest = app.takeSlowest();
        std::printf("run_slowest_event: %.3f ms (%s)\n", slowest.ms, qPrintable(slowest.what));
        window.stopRendering();
        waitFor([&] { return !window.isRendering(); }, 60000);
    }
    return 0;
}
