// SPDX-License-Identifier: GPL-3.0-or-later
#include "ImageViewer.h"

#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QImageReader>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPaintEvent>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPromise>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyle>
#include <QToolBar>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <memory>

#include "ActionText.h"
#include "LibraryModel.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    /// Paints one image at a zoom, sized to it, inside the viewer's scroll area.
    class ImageCanvas final : public QWidget
    {
    public:
        explicit ImageCanvas(QWidget* parent = nullptr)
            : QWidget(parent)
        { }

        /// Shows @p image as an image of @p pixels pixels: itself, or a preview (a thumbnail) stretched to the size
        /// of the image it stands for, so that the layout and zoom do not jump when that image arrives.
        void setImage(const QImage& image, QSize pixels, bool preview)
        {
            m_image = image;
            m_pixels = pixels;
            m_preview = preview;
            m_scaled = {};
            resizeToZoom();
            update();
        }
        void clear() { setImage({}, {}, false); }
        const QImage& image() const { return m_image; }
        bool isPreview() const { return m_preview; }
        QSize pixels() const { return m_pixels; }

        /// @p zoom device pixels per image pixel.
        void setZoom(double zoom)
        {
            m_zoom = zoom;
            resizeToZoom();
        }

    protected:
        void paintEvent(QPaintEvent* event) override
        {
            if (m_image.isNull() || m_pixels.isEmpty()) {
                return;
            }
            QPainter painter(this);
            if (m_preview) {
                painter.setRenderHint(QPainter::SmoothPixmapTransform);
                painter.drawImage(rect(), m_image);
                return;
            }
            const double ratio = devicePixelRatioF();
            if (m_zoom < 1) {
                // QPainter's smooth transform samples 2×2 pixels whatever the scale, which aliases a downscale;
                // scaled() averages every pixel. Made once per size, not per paint.
                const QSize device(qRound(width() * ratio), qRound(height() * ratio));
                if (m_scaled.size() != device) {
                    m_scaled = m_image.scaled(device, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
                    m_scaled.setDevicePixelRatio(ratio);
                }
                painter.drawImage(QPoint(0, 0), m_scaled);
                return;
            }
            // At 100 % and above each image pixel is a square of whole screen pixels (no smoothing: the artist
            // inspects pixels), and only the exposed ones are drawn: at 3200 % the whole image is gigapixels.
            const double scale = m_zoom / ratio;
            const QRect exposed = event->rect();
            const int left = std::max(0, int(std::floor(exposed.left() / scale)));
            const int top = std::max(0, int(std::floor(exposed.top() / scale)));
            const int right = std::min(m_image.width(), int(std::ceil((exposed.right() + 1) / scale)));
            const int bottom = std::min(m_image.height(), int(std::ceil((exposed.bottom() + 1) / scale)));
            if (right <= left || bottom <= top) {
                return;
            }
            const QRect source(left, top, right - left, bottom - top);
            painter.drawImage(QRectF(left * scale, top * scale, source.width() * scale, source.height() * scale),
                              m_image, source);
        }

    private:
        void resizeToZoom()
        {
            if (m_pixels.isEmpty()) {
                resize(0, 0);
                return;
            }
            // Rounded down, so that a fitted image never spills into scroll bars.
            const double scale = m_zoom / devicePixelRatioF();
            resize(std::max(1, int(std::floor(m_pixels.width() * scale + 1e-6))),
                   std::max(1, int(std::floor(m_pixels.height() * scale + 1e-6))));
        }

        QImage m_image;
        QSize m_pixels;
        bool m_preview = false;
        double m_zoom = 1;
        QImage m_scaled; ///< m_image smoothly scaled to the canvas, below 100 %
    };

    namespace
    {
        /// Whether @p a and @p b are the same file, unchanged.
        bool sameFile(const LibraryImage& a, const LibraryImage& b)
        {
            return a.id == b.id && a.path == b.path && a.fileSize == b.fileSize && a.fileModified == b.fileModified
                && a.missing == b.missing;
        }

        QString percent(double zoom)
        {
            const double value = zoom * 100;
            QLocale locale;
            locale.setNumberOptions(QLocale::OmitGroupSeparator);
            // Whole percents, but a tiny window's fit still reads as more than nothing.
            return value < 1 ? locale.toString(value, 'f', 1) : locale.toString(qRound(value));
        }

        QString sizeText(QSize size)
        {
            return u"%1×%2"_s.arg(size.width()).arg(size.height());
        }
    } // namespace

    ImageViewer::ImageViewer(LibraryModel* model, QWidget* parent)
        : QWidget(parent, Qt::Window)
        , m_model(model)
    {
        setObjectName(u"imageViewer"_s);
        // A second window: closing it must never quit the application (the main window may be in the tray).
        setAttribute(Qt::WA_QuitOnClose, false);
        // Two, so that the image asked for last starts while one stepped past finishes.
        m_pool.setMaxThreadCount(2);
        connect(&m_watcher, &QFutureWatcherBase::finished, this, &ImageViewer::decoded);

        m_toolBar = new QToolBar(this);
        m_toolBar->setObjectName(u"viewerToolBar"_s);

        m_canvas = new ImageCanvas;
        m_canvas->setObjectName(u"imageCanvas"_s);
        m_scroll = new QScrollArea;
        m_scroll->setObjectName(u"imageScrollArea"_s);
        m_scroll->setWidget(m_canvas);
        m_scroll->setAlignment(Qt::AlignCenter);
        m_scroll->setFrameShape(QFrame::NoFrame);
        m_scroll->setBackgroundRole(QPalette::Dark);
        m_scroll->viewport()->installEventFilter(this);

        m_message = new QLabel;
        m_message->setObjectName(u"imageMessage"_s);
        m_message->setAlignment(Qt::AlignCenter);
        m_message->setWordWrap(true);
        m_message->setTextFormat(Qt::PlainText);
        m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_message->setMargin(24);

        m_stack = new QStackedWidget;
        m_stack->addWidget(m_scroll);
        m_stack->addWidget(m_message);

        auto* fields = new QWidget;
        // A grid, not a QFormLayout: with Qt 6.4.2, QFormLayout::setRowVisible() on these rows of word-wrapped
        // labels wrote past a buffer in QFormLayout::setGeometry() (valgrind) and crashed.
        m_fields = new QGridLayout(fields);
        m_fields->setColumnStretch(1, 1);
        m_fields->setRowStretch(FieldCount, 1);
        static constexpr std::array<const char16_t*, FieldCount> names = {
            u"promptValue", u"negativePromptValue", u"seedValue",   u"stepsValue",   u"cfgScaleValue", u"samplerValue",
            u"sizeValue",   u"modelValue",          u"deviceValue", u"createdValue", u"pathValue"};
        for (int field = 0; field < FieldCount; ++field) {
            m_names[field] = new QLabel;
            auto* value = new QLabel;
            value->setObjectName(QString::fromUtf16(names[field]));
            // Prompts hold <lora:…> and other text a label would take for markup.
            value->setTextFormat(Qt::PlainText);
            value->setWordWrap(true);
            value->setTextInteractionFlags(Qt::TextSelectableByMouse);
            // A long path or word is cut at the panel's edge (its tool tip has it whole) rather than widening it.
            QSizePolicy policy = value->sizePolicy();
            policy.setHorizontalPolicy(QSizePolicy::Ignored);
            value->setSizePolicy(policy);
            m_values[field] = value;
            m_fields->addWidget(m_names[field], field, 0, Qt::AlignLeft | Qt::AlignTop);
            m_fields->addWidget(value, field, 1);
        }
        auto* fieldScroll = new QScrollArea;
        fieldScroll->setWidget(fields);
        fieldScroll->setWidgetResizable(true);
        fieldScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        fieldScroll->setFrameShape(QFrame::NoFrame);

        auto* infotextBox = new QWidget;
        auto* infotextLayout = new QVBoxLayout(infotextBox);
        m_infotextLabel = new QLabel;
        m_infotext = new QPlainTextEdit;
        m_infotext->setObjectName(u"infotextView"_s);
        m_infotext->setReadOnly(true);
        m_infotextLabel->setBuddy(m_infotext);
        infotextLayout->addWidget(m_infotextLabel);
        infotextLayout->addWidget(m_infotext);

        auto* panel = new QSplitter(Qt::Vertical);
        panel->setObjectName(u"parametersPanel"_s);
        panel->addWidget(fieldScroll);
        panel->addWidget(infotextBox);
        panel->setStretchFactor(0, 3);
        panel->setStretchFactor(1, 1);

        m_splitter = new QSplitter(Qt::Horizontal);
        m_splitter->setObjectName(u"viewerSplitter"_s);
        m_splitter->addWidget(m_stack);
        m_splitter->addWidget(panel);
        m_splitter->setStretchFactor(0, 1);
        m_splitter->setStretchFactor(1, 0);
        m_splitter->setCollapsible(0, false);
        m_splitter->setSizes({760, 340});

        auto* layout = new QVBoxLayout(this);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->setSpacing(0);
        layout->addWidget(m_toolBar);
        layout->addWidget(m_splitter, 1);

        buildActions();

        connect(m_model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex& parent) {
            if (!parent.isValid()) {
                followCurrent(m_row);
            }
        });
        connect(m_model, &QAbstractItemModel::rowsRemoved, this, [this](const QModelIndex& parent, int first) {
            if (!parent.isValid()) {
                followCurrent(first);
            }
        });
        connect(m_model, &QAbstractItemModel::rowsMoved, this, [this] { followCurrent(m_row); });
        connect(m_model, &QAbstractItemModel::layoutChanged, this, [this] { followCurrent(m_row); });
        connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
            if (isVisible() && m_image.id >= 0) {
                // The model pages its rows in again from the event loop, not inside its reset.
                resyncLater(m_row);
            }
        });
        connect(m_model, &QAbstractItemModel::dataChanged, this, &ImageViewer::dataChanged);

        retranslate();
        resize(1100, 760);
    }

    ImageViewer::~ImageViewer()
    {
        cancelLoad();
    }

    void ImageViewer::buildActions()
    {
        auto action = [this](const char* name, const QList<QKeySequence>& shortcuts, const QString& iconName,
                             QStyle::StandardPixmap fallback = QStyle::SP_CustomBase) {
            auto* a = new QAction(this);
            a->setObjectName(QLatin1StringView(name));
            a->setShortcuts(shortcuts);
            // Wherever the focus is in the viewer (the parameters' text included).
            a->setShortcutContext(Qt::WindowShortcut);
            a->setIcon(fallback == QStyle::SP_CustomBase ? QIcon::fromTheme(iconName)
                                                         : QIcon::fromTheme(iconName, style()->standardIcon(fallback)));
            addAction(a);
            return a;
        };
        m_previousAction
            = action("previousAction", {Qt::Key_Left, Qt::Key_PageUp}, u"go-previous"_s, QStyle::SP_ArrowBack);
        m_nextAction = action("nextAction", {Qt::Key_Right, Qt::Key_PageDown}, u"go-next"_s, QStyle::SP_ArrowForward);
        m_firstAction = action("firstAction", {Qt::Key_Home}, u"go-first"_s);
        m_lastAction = action("lastAction", {Qt::Key_End}, u"go-last"_s);
        m_fitAction = action("fitAction", {Qt::Key_F}, u"zoom-fit-best"_s);
        m_actualSizeAction = action("actualSizeAction", {Qt::Key_1, Qt::CTRL | Qt::Key_0}, u"zoom-original"_s);
        m_zoomInAction = action(
            "zoomInAction", {Qt::Key_Plus, Qt::Key_Equal, QKeySequence(QKeySequence::ZoomIn), Qt::CTRL | Qt::Key_Equal},
            u"zoom-in"_s);
        m_zoomOutAction = action("zoomOutAction", {Qt::Key_Minus, QKeySequence(QKeySequence::ZoomOut)}, u"zoom-out"_s);
        m_closeAction = action("closeAction", {Qt::Key_Escape, QKeySequence(QKeySequence::Close)}, u"window-close"_s);

        connect(m_previousAction, &QAction::triggered, this, &ImageViewer::showPrevious);
        connect(m_nextAction, &QAction::triggered, this, &ImageViewer::showNext);
        connect(m_firstAction, &QAction::triggered, this, &ImageViewer::showFirst);
        connect(m_lastAction, &QAction::triggered, this, &ImageViewer::showLast);
        connect(m_fitAction, &QAction::triggered, this, &ImageViewer::fitToWindow);
        connect(m_actualSizeAction, &QAction::triggered, this, [this] { setZoomFactor(1); });
        connect(m_zoomInAction, &QAction::triggered, this, &ImageViewer::zoomIn);
        connect(m_zoomOutAction, &QAction::triggered, this, &ImageViewer::zoomOut);
        connect(m_closeAction, &QAction::triggered, this, &QWidget::close);

        m_toolBar->addAction(m_previousAction);
        m_toolBar->addAction(m_nextAction);
        m_toolBar->addSeparator();
        m_toolBar->addAction(m_fitAction);
        m_toolBar->addAction(m_actualSizeAction);
        m_toolBar->addAction(m_zoomOutAction);
        m_zoomLabel = new QLabel;
        m_zoomLabel->setObjectName(u"zoomLabel"_s);
        m_zoomLabel->setAlignment(Qt::AlignCenter);
        m_zoomLabel->setMinimumWidth(fontMetrics().horizontalAdvance(u"Fit (100 %)"_s) + 12);
        m_toolBar->addWidget(m_zoomLabel);
        m_toolBar->addAction(m_zoomInAction);
        m_imageActionsSeparator = m_toolBar->addSeparator();
        m_imageActionsSeparator->setVisible(false);
    }

    void ImageViewer::addImageActions(const QList<QAction*>& actions)
    {
        m_imageActions.append(actions);
        for (QAction* action : actions) {
            connect(action, &QObject::destroyed, this, [this, action] { m_imageActions.removeAll(action); });
        }
        m_toolBar->addActions(actions);
        // Their shortcuts work in this window too, whatever their context.
        addActions(actions);
        m_imageActionsSeparator->setVisible(!m_imageActions.isEmpty());
    }

    void ImageViewer::retranslate()
    {
        const auto texts = [](QAction* action, const QString& text, const QString& toolTip) {
            action->setText(text);
            action->setToolTip(withShortcut(toolTip, action));
        };
        texts(m_previousAction, tr("Previous"), tr("Show the previous image"));
        texts(m_nextAction, tr("Next"), tr("Show the next image"));
        texts(m_firstAction, tr("First"), tr("Show the first image"));
        texts(m_lastAction, tr("Last"), tr("Show the last image"));
        texts(m_fitAction, tr("Fit"), tr("Fit the whole image in the window"));
        texts(m_actualSizeAction, tr("100 %"), tr("Show the image's actual pixels"));
        texts(m_zoomInAction, tr("Zoom In"), tr("Zoom in"));
        texts(m_zoomOutAction, tr("Zoom Out"), tr("Zoom out"));
        texts(m_closeAction, tr("Close"), tr("Close the viewer"));

        const std::array<QString, FieldCount> names
            = {tr("Prompt:"), tr("Negative prompt:"), tr("Seed:"),   tr("Steps:"),   tr("CFG scale:"), tr("Sampler:"),
               tr("Size:"),   tr("Model:"),           tr("Device:"), tr("Created:"), tr("File:")};
        for (int field = 0; field < FieldCount; ++field) {
            m_names[field]->setText(names[field]);
        }
        m_infotextLabel->setText(tr("&Parameters (infotext):"));
        m_infotext->setPlaceholderText(tr("This image carries no generation parameters."));

        updateTitle();
        updatePanel();
        updateZoomLabel();
        if (m_stack->currentWidget() == m_message) {
            showMessage();
        }
    }

    void ImageViewer::changeEvent(QEvent* event)
    {
        if (event->type() == QEvent::LanguageChange) {
            retranslate();
        }
        QWidget::changeEvent(event);
    }

    void ImageViewer::showRow(int row)
    {
        if (row < 0 || row >= m_model->rowCount()) {
            return;
        }
        const LibraryImage image = m_model->imageAt(row);
        const bool changed = row != m_row || image.id != m_image.id;
        // The same file, read (or being read) and shown: no need to read it again.
        const bool reload
            = image.id != m_loadedId || !sameFile(image, m_image) || m_stack->currentWidget() == m_message;
        m_pending = false;
        m_row = row;
        m_image = image;
        updateTitle();
        updatePanel();
        if (reload) {
            load();
        }
        if (changed) {
            emit currentRowChanged(row);
        }
    }

    void ImageViewer::showPrevious()
    {
        if (m_row > 0) {
            showRow(m_row - 1);
        }
    }

    void ImageViewer::showNext()
    {
        if (m_row < 0) {
            return;
        }
        if (m_row + 1 >= m_model->rowCount() && m_model->canFetchMore({})) {
            m_model->fetchMore({});
        }
        if (m_row + 1 < m_model->rowCount()) {
            showRow(m_row + 1);
        }
    }

    void ImageViewer::showFirst()
    {
        showRow(0);
    }

    void ImageViewer::showLast()
    {
        // Each page is one indexed query: some fifty for ten thousand images.
        while (m_model->canFetchMore({})) {
            const int before = m_model->rowCount();
            m_model->fetchMore({});
            if (m_model->rowCount() == before) {
                break; // a failed query, or one the model runs later
            }
        }
        showRow(m_model->rowCount() - 1);
    }

    void ImageViewer::updateTitle()
    {
        const int rows = m_model->rowCount();
        m_previousAction->setEnabled(m_row > 0);
        m_nextAction->setEnabled(m_row >= 0 && (m_row + 1 < rows || m_model->canFetchMore({})));
        m_firstAction->setEnabled(m_row != 0 && rows > 0);
        m_lastAction->setEnabled(m_row >= 0 && (m_row + 1 < rows || m_model->canFetchMore({})));
        if (m_image.id < 0) {
            setWindowTitle(tr("Image Viewer"));
            return;
        }
        const QString name = QFileInfo(m_image.path).fileName();
        if (m_row < 0) {
            setWindowTitle(name);
            return;
        }
        const QLocale locale;
        setWindowTitle(tr("%1 – %2 of %3")
                           .arg(name, locale.toString(m_row + 1), locale.toString(qlonglong(m_model->totalCount()))));
    }

    void ImageViewer::updatePanel()
    {
        const RenderSettings& settings = m_image.settings;
        std::array<QString, FieldCount> values;
        values[PromptField] = settings.prompt;
        values[NegativePromptField] = settings.negativePrompt;
        // Numbers as infotexts write them, whatever the locale: artists copy them into other tools.
        if (settings.seed) {
            values[SeedField] = QString::number(*settings.seed);
        }
        if (settings.steps) {
            values[StepsField] = QString::number(*settings.steps);
        }
        if (settings.cfgScale) {
            values[CfgScaleField] = QString::number(*settings.cfgScale);
        }
        if (settings.scheduler && !settings.scheduler->isEmpty()) {
            values[SamplerField] = a1111SamplerName(*settings.scheduler);
        }
        const QSize rendered = settings.width && settings.height ? QSize(*settings.width, *settings.height) : QSize();
        const QSize file(m_image.pixelWidth, m_image.pixelHeight);
        if (!rendered.isEmpty()) {
            // An upscaled image says both.
            values[SizeField] = file.isEmpty() || file == rendered
                ? sizeText(rendered)
                : tr("%1 (file: %2)").arg(sizeText(rendered), sizeText(file));
        } else if (!file.isEmpty()) {
            values[SizeField] = sizeText(file);
        }
        values[ModelField] = m_image.modelName.isEmpty() ? m_image.modelHash : m_image.modelName;
        values[DeviceField] = m_image.device;
        if (m_image.id >= 0 && m_image.created > 0) {
            values[CreatedField]
                = QLocale().toString(QDateTime::fromMSecsSinceEpoch(m_image.created), QLocale::ShortFormat);
        }
        const QString path = QDir::toNativeSeparators(m_image.path);
        values[PathField] = m_image.missing ? tr("%1 (missing)").arg(path) : path;
        for (int field = 0; field < FieldCount; ++field) {
            m_values[field]->setText(values[field]);
            // Unset, a setting is left out rather than shown empty.
            m_names[field]->setVisible(!values[field].isEmpty());
            m_values[field]->setVisible(!values[field].isEmpty());
        }
        m_values[PathField]->setToolTip(path);
        m_values[ModelField]->setToolTip(m_image.modelHash.isEmpty() ? QString()
                                                                     : tr("Model hash: %1").arg(m_image.modelHash));
        const QString infotext = m_image.id >= 0 ? m_image.infotext() : QString();
        // Left alone when it is the same, so that a selection in it survives a star toggled.
        if (m_infotext->toPlainText() != infotext) {
            m_infotext->setPlainText(infotext);
        }
    }

    void ImageViewer::updateZoomLabel()
    {
        m_zoomLabel->setText(m_fit ? tr("Fit (%1 %)").arg(percent(m_zoom)) : tr("%1 %").arg(percent(m_zoom)));
    }

    void ImageViewer::updateCursor()
    {
        QWidget* viewport = m_scroll->viewport();
        if (m_panning) {
            viewport->setCursor(Qt::ClosedHandCursor);
        } else if (m_canvas->width() > viewport->width() || m_canvas->height() > viewport->height()) {
            viewport->setCursor(Qt::OpenHandCursor);
        } else {
            viewport->unsetCursor();
        }
    }

    QSize ImageViewer::imageSize() const
    {
        return m_loading || m_canvas->isPreview() || m_canvas->image().isNull() ? QSize() : m_canvas->image().size();
    }

    QString ImageViewer::errorMessage() const
    {
        return m_stack->currentWidget() == m_message ? m_message->text() : QString();
    }

    ImageViewer::Decoded ImageViewer::decode(const QString& path, quint64 generation)
    {
        Decoded result;
        result.generation = generation;
        QImageReader reader(path);
        reader.setAutoTransform(true);
        if (!reader.read(&result.image)) {
            result.image = {};
            result.error = reader.errorString();
            result.missing = !QFileInfo::exists(path);
            return result;
        }
        // What QPainter draws fastest; a 16-bit PNG is shown at 8 bits per channel, as screens show it anyway.
        result.image.convertTo(result.image.hasAlphaChannel() ? QImage::Format_ARGB32_Premultiplied
                                                              : QImage::Format_RGB32);
        return result;
    }

    void ImageViewer::load()
    {
        cancelLoad();
        m_loadedId = m_image.id;
        m_failure = {};
        m_loading = true;
        const quint64 generation = ++m_generation;

        // The thumbnail, stretched to the image's size, holds its place (and the zoom) until the file is read.
        const QImage preview = m_model->index(m_row).data(Qt::DecorationRole).value<QImage>();
        QSize pixels(m_image.pixelWidth, m_image.pixelHeight);
        if (pixels.isEmpty()) {
            pixels = preview.size();
        }
        m_canvas->setImage(preview, pixels, true);
        m_stack->setCurrentWidget(m_scroll);
        if (m_fit) {
            applyFit();
        }

        auto promise = std::make_shared<QPromise<Decoded>>();
        m_watcher.setFuture(promise->future());
        m_pool.start([promise, path = m_image.path, generation] {
            promise->start();
            // Stepping fast through images cancels the reads of those stepped past before they start.
            if (!promise->isCanceled()) {
                promise->addResult(decode(path, generation));
            }
            promise->finish();
        });
    }

    void ImageViewer::cancelLoad()
    {
        m_watcher.cancel();
        // Reads that wait never start; their promises, dropped, finish cancelled.
        m_pool.clear();
        m_loading = false;
    }

    void ImageViewer::decoded()
    {
        const QFuture<Decoded> future = m_watcher.future();
        if (future.resultCount() < 1) {
            return;
        }
        const Decoded result = future.result();
        if (result.generation != m_generation || !m_loading) {
            return; // an image stepped past
        }
        m_loading = false;
        if (result.image.isNull()) {
            m_failure = result;
            m_canvas->clear();
            showMessage();
            return;
        }
        m_canvas->setImage(result.image, result.image.size(), false);
        if (m_fit) {
            applyFit();
        }
        updateCursor();
    }

    void ImageViewer::showMessage()
    {
        const QString path = QDir::toNativeSeparators(m_image.path);
        m_message->setText(m_failure.missing ? tr("%1 is not there: it was moved, renamed or deleted.").arg(path)
                                             : tr("%1 cannot be shown: %2").arg(path, m_failure.error));
        m_stack->setCurrentWidget(m_message);
    }

    double ImageViewer::fitFactor() const
    {
        const QSize pixels = m_canvas->pixels();
        if (pixels.isEmpty()) {
            return 1;
        }
        // The viewport without scroll bars: a fitted image needs none.
        const QSizeF available = QSizeF(m_scroll->maximumViewportSize()) * m_canvas->devicePixelRatioF();
        const double factor = std::min({1.0, available.width() / pixels.width(), available.height() / pixels.height()});
        // Below MinZoom when the window is tiny: it still fits.
        return std::max(factor, 0.001);
    }

    void ImageViewer::applyFit()
    {
        m_zoom = fitFactor();
        m_canvas->setZoom(m_zoom);
        updateZoomLabel();
        updateCursor();
    }

    void ImageViewer::fitToWindow()
    {
        m_fit = true;
        applyFit();
    }

    void ImageViewer::setZoomFactor(double factor)
    {
        zoomAt(factor, m_scroll->viewport()->rect().center());
    }

    void ImageViewer::zoomIn()
    {
        setZoomFactor(m_zoom * ZoomStep);
    }

    void ImageViewer::zoomOut()
    {
        setZoomFactor(m_zoom / ZoomStep);
    }

    void ImageViewer::zoomAt(double factor, QPoint anchor)
    {
        factor = std::clamp(factor, MinZoom, MaxZoom);
        const double ratio = m_canvas->devicePixelRatioF();
        // The image point under the anchor (in image pixels), which stays under it.
        const QPoint onCanvas = m_canvas->mapFrom(m_scroll->viewport(), anchor);
        const QPointF imagePoint(std::clamp(onCanvas.x(), 0, m_canvas->width()) * ratio / m_zoom,
                                 std::clamp(onCanvas.y(), 0, m_canvas->height()) * ratio / m_zoom);
        m_fit = false;
        m_zoom = factor;
        // The scroll area takes the canvas's new size at once (it watches its resize events) while it is shown.
        m_canvas->setZoom(factor);
        m_scroll->horizontalScrollBar()->setValue(qRound(imagePoint.x() * factor / ratio - anchor.x()));
        m_scroll->verticalScrollBar()->setValue(qRound(imagePoint.y() * factor / ratio - anchor.y()));
        updateZoomLabel();
        updateCursor();
    }

    bool ImageViewer::eventFilter(QObject* watched, QEvent* event)
    {
        if (watched != m_scroll->viewport()) {
            return QWidget::eventFilter(watched, event);
        }
        QWidget* viewport = m_scroll->viewport();
        // The canvas leaves mouse events to its parent, the viewport, so that they are seen here wherever they are.
        switch (event->type()) {
        case QEvent::Resize:
            if (m_fit) {
                applyFit();
            } else {
                updateCursor();
            }
            break;
        case QEvent::Wheel: {
            auto* wheel = static_cast<QWheelEvent*>(event);
            if (!(wheel->modifiers() & Qt::ControlModifier)) {
                break;
            }
            // 120 is one notch of a wheel; touchpads send fractions of it.
            const double steps = wheel->angleDelta().y() / 120.0;
            if (steps != 0) {
                zoomAt(m_zoom * std::pow(ZoomStep, steps), wheel->position().toPoint());
            }
            return true;
        }
        case QEvent::MouseButtonPress: {
            auto* mouse = static_cast<QMouseEvent*>(event);
            if (mouse->button() != Qt::LeftButton
                || (m_canvas->width() <= viewport->width() && m_canvas->height() <= viewport->height())) {
                break;
            }
            m_panning = true;
            m_panFrom = mouse->globalPosition().toPoint();
            updateCursor();
            return true;
        }
        case QEvent::MouseMove: {
            if (!m_panning) {
                break;
            }
            auto* mouse = static_cast<QMouseEvent*>(event);
            const QPoint at = mouse->globalPosition().toPoint();
            const QPoint moved = at - m_panFrom;
            m_panFrom = at;
            m_scroll->horizontalScrollBar()->setValue(m_scroll->horizontalScrollBar()->value() - moved.x());
            m_scroll->verticalScrollBar()->setValue(m_scroll->verticalScrollBar()->value() - moved.y());
            return true;
        }
        case QEvent::MouseButtonRelease:
            if (m_panning && static_cast<QMouseEvent*>(event)->button() == Qt::LeftButton) {
                m_panning = false;
                updateCursor();
                return true;
            }
            break;
        case QEvent::MouseButtonDblClick: {
            auto* mouse = static_cast<QMouseEvent*>(event);
            if (mouse->button() != Qt::LeftButton) {
                break;
            }
            // The usual toggle: actual pixels where the artist clicked, and back.
            if (m_fit) {
                zoomAt(1, mouse->position().toPoint());
            } else {
                fitToWindow();
            }
            return true;
        }
        case QEvent::ContextMenu:
            contextMenu(static_cast<QContextMenuEvent*>(event)->globalPos());
            return true;
        default:
            break;
        }
        return QWidget::eventFilter(watched, event);
    }

    void ImageViewer::contextMenu(const QPoint& globalPos)
    {
        QMenu menu(this);
        if (!m_imageActions.isEmpty()) {
            menu.addActions(m_imageActions);
            menu.addSeparator();
        }
        menu.addActions({m_previousAction, m_nextAction});
        menu.addSeparator();
        menu.addActions({m_fitAction, m_actualSizeAction, m_zoomInAction, m_zoomOutAction});
        menu.exec(globalPos);
    }

    void ImageViewer::showEvent(QShowEvent* event)
    {
        QWidget::showEvent(event);
        if (event->spontaneous() || m_loadedId >= 0 || m_image.id < 0) {
            return;
        }
        // Shown again after it was closed (when it does not follow the model) without showRow(): find its image.
        const int row = m_model->rowOf(m_image.id);
        if (row >= 0) {
            m_row = row;
            updateTitle();
            updatePanel();
            load();
        } else if (m_model->rowCount() > 0) {
            showRow(std::clamp(m_row, 0, m_model->rowCount() - 1));
        }
    }

    void ImageViewer::closeEvent(QCloseEvent* event)
    {
        // A closed viewer holds no image (some are hundreds of megabytes) and reads none.
        cancelLoad();
        m_canvas->clear();
        m_loadedId = -1;
        m_pending = false;
        m_panning = false;
        QWidget::closeEvent(event);
    }

    void ImageViewer::followCurrent(int place)
    {
        if (!isVisible() || m_pending || m_image.id < 0) {
            return;
        }
        const int row = m_model->rowOf(m_image.id);
        if (row < 0) {
            settleAt(place);
            return;
        }
        const bool moved = row != m_row;
        m_row = row;
        updateTitle();
        if (moved) {
            emit currentRowChanged(row);
        }
    }

    void ImageViewer::settleAt(int row)
    {
        const int rows = m_model->rowCount();
        if (row >= rows && m_model->canFetchMore({})) {
            // Its place is in a page not loaded yet, which the model cannot page in during its own change.
            resyncLater(row);
            return;
        }
        if (rows == 0) {
            close();
            return;
        }
        showRow(std::clamp(row, 0, rows - 1));
    }

    void ImageViewer::resyncLater(int place)
    {
        if (!m_pending) {
            m_pending = true;
            m_pendingPlace = place;
            QMetaObject::invokeMethod(this, &ImageViewer::resync, Qt::QueuedConnection);
        }
        m_row = -1;
        updateTitle();
    }

    void ImageViewer::resync()
    {
        if (!m_pending || !isVisible()) {
            return; // showRow() or close() came first
        }
        const int place = m_pendingPlace;
        // Still pending while pages come, so that their insertions leave the row alone. The image, if the model
        // still has it, is near its old row (a narrower filter only moves it up): a page past that is far enough.
        while (m_model->rowOf(m_image.id) < 0 && m_model->rowCount() <= place + LibraryModel::PageSize
               && m_model->canFetchMore({})) {
            const int before = m_model->rowCount();
            m_model->fetchMore({});
            if (m_model->rowCount() == before) {
                break;
            }
        }
        m_pending = false;
        if (const int row = m_model->rowOf(m_image.id); row >= 0) {
            showRow(row);
            return;
        }
        const int rows = m_model->rowCount();
        if (rows == 0) {
            close();
            return;
        }
        showRow(std::clamp(place, 0, rows - 1));
    }

    void ImageViewer::dataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight, const QList<int>& roles)
    {
        if (!isVisible() || m_pending || m_row < topLeft.row() || m_row > bottomRight.row()) {
            return;
        }
        if (roles == QList<int>{Qt::DecorationRole}) {
            // The thumbnail is ready: a better preview while the file is read.
            if (m_loading && m_canvas->isPreview()) {
                m_canvas->setImage(m_model->index(m_row).data(Qt::DecorationRole).value<QImage>(), m_canvas->pixels(),
                                   true);
            }
            return;
        }
        const LibraryImage image = m_model->imageAt(m_row);
        if (image.id != m_image.id) {
            return;
        }
        const bool changed = !sameFile(image, m_image);
        m_image = image;
        updatePanel();
        updateTitle();
        if (changed) {
            load();
        }
    }
} // namespace Atelier
