// SPDX-License-Identifier: GPL-3.0-or-later
#include "Theme.h"

#include <QApplication>
#include <QStyle>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        /// What the application looked like before the first applyTheme().
        struct Startup
        {
            QString style; ///< QStyle::name(): "fusion", "windows", a platform's own
            QPalette palette;
        };

        const Startup& startup()
        {
            static const Startup remembered{QApplication::style() ? QApplication::style()->name() : QString(),
                                            QApplication::palette()};
            return remembered;
        }

        struct Colours
        {
            QColor window, windowText, base, alternateBase, toolTipBase, toolTipText, placeholder, button, buttonText,
                brightText, light, midlight, mid, dark, shadow, highlight, highlightedText, link, linkVisited,
                disabledText, disabledHighlight;
        };

        QPalette paletteOf(const Colours& c)
        {
            QPalette p;
            const auto set = [&p](QPalette::ColorRole role, const QColor& colour) { p.setColor(role, colour); };
            set(QPalette::Window, c.window);
            set(QPalette::WindowText, c.windowText);
            set(QPalette::Base, c.base);
            set(QPalette::AlternateBase, c.alternateBase);
            set(QPalette::ToolTipBase, c.toolTipBase);
            set(QPalette::ToolTipText, c.toolTipText);
            set(QPalette::PlaceholderText, c.placeholder);
            set(QPalette::Text, c.windowText);
            set(QPalette::Button, c.button);
            set(QPalette::ButtonText, c.buttonText);
            set(QPalette::BrightText, c.brightText);
            set(QPalette::Light, c.light);
            set(QPalette::Midlight, c.midlight);
            set(QPalette::Mid, c.mid);
            set(QPalette::Dark, c.dark);
            set(QPalette::Shadow, c.shadow);
            set(QPalette::Highlight, c.highlight);
            set(QPalette::HighlightedText, c.highlightedText);
            set(QPalette::Link, c.link);
            set(QPalette::LinkVisited, c.linkVisited);
            for (const QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
                p.setColor(QPalette::Disabled, role, c.disabledText);
            }
            p.setColor(QPalette::Disabled, QPalette::Highlight, c.disabledHighlight);
            p.setColor(QPalette::Disabled, QPalette::Base, c.window);
            return p;
        }
    } // namespace

    QPalette themePalette(Theme theme)
    {
        switch (theme) {
        case Theme::Light:
            // Fusion's own light colours (its standardPalette() in Qt 6.4), set here so that a later Qt, whose Fusion
            // follows the desktop's scheme, still gives light.
            return paletteOf({.window = QColor(0xef, 0xef, 0xef),
                              .windowText = Qt::black,
                              .base = Qt::white,
                              .alternateBase = QColor(0xf7, 0xf7, 0xf7),
                              .toolTipBase = QColor(0xff, 0xff, 0xdc),
                              .toolTipText = Qt::black,
                              .placeholder = QColor(0x80, 0x80, 0x80),
                              .button = QColor(0xef, 0xef, 0xef),
                              .buttonText = Qt::black,
                              .brightText = Qt::white,
                              .light = Qt::white,
                              .midlight = QColor(0xca, 0xca, 0xca),
                              .mid = QColor(0xb8, 0xb8, 0xb8),
                              .dark = QColor(0x9f, 0x9f, 0x9f),
                              .shadow = QColor(0x76, 0x76, 0x76),
                              .highlight = QColor(0x30, 0x8c, 0xc6),
                              .highlightedText = Qt::white,
                              .link = QColor(0x00, 0x00, 0xff),
                              .linkVisited = QColor(0xff, 0x00, 0xff),
                              .disabledText = QColor(0xbe, 0xbe, 0xbe),
                              .disabledHighlight = QColor(0x91, 0x91, 0x91)});
        case Theme::Dark:
            return paletteOf({.window = QColor(0x35, 0x35, 0x35),
                              .windowText = QColor(0xf0, 0xf0, 0xf0),
                              .base = QColor(0x2a, 0x2a, 0x2a),
                              .alternateBase = QColor(0x42, 0x42, 0x42),
                              .toolTipBase = QColor(0x35, 0x35, 0x35),
                              .toolTipText = QColor(0xf0, 0xf0, 0xf0),
                              .placeholder = QColor(0x8a, 0x8a, 0x8a),
                              .button = QColor(0x35, 0x35, 0x35),
                              .buttonText = QColor(0xf0, 0xf0, 0xf0),
                              .brightText = QColor(0xff, 0x55, 0x55),
                              .light = QColor(0x50, 0x50, 0x50),
                              .midlight = QColor(0x40, 0x40, 0x40),
                              .mid = QColor(0x2c, 0x2c, 0x2c),
                              .dark = QColor(0x20, 0x20, 0x20),
                              .shadow = QColor(0x14, 0x14, 0x14),
                              .highlight = QColor(0x2a, 0x82, 0xda),
                              .highlightedText = Qt::white,
                              .link = QColor(0x5a, 0xa0, 0xff),
                              .linkVisited = QColor(0xb0, 0x8c, 0xff),
                              .disabledText = QColor(0x7f, 0x7f, 0x7f),
                              .disabledHighlight = QColor(0x50, 0x50, 0x50)});
        case Theme::System:
            break;
        }
        return startup().palette;
    }

    void applyTheme(Theme theme)
    {
        const Startup& before = startup();
        const QString style = theme == Theme::System ? before.style : u"fusion"_s;
        // Setting the same style again would rebuild every widget's style for nothing.
        if (!style.isEmpty() && QApplication::style()->name().compare(style, Qt::CaseInsensitive) != 0) {
            QApplication::setStyle(style);
        }
        // After the style: setStyle() gives the application the new style's palette unless one was set.
        QApplication::setPalette(themePalette(theme));
    }
} // namespace Atelier
