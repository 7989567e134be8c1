// SPDX-License-Identifier: GPL-3.0-or-later
#include "GuiTestSupport.h"

#include <QImage>
#include <QJsonDocument>

#include "render/ImageMetadata.h"

using namespace Qt::StringLiterals;

namespace Atelier::Test
{
    bool writeRenderedPng(const QString& path, const std::optional<RenderSettings>& rendered, const QString& model,
                          qint64 queueItemId, QSize size)
    {
        QImage image(size, QImage::Format_RGB888);
        image.fill(Qt::darkYellow);
        if (rendered) {
            image.setText(u"parameters"_s, Infotext{*rendered, u"0123456789"_s, model}.toString());
            Provenance provenance;
            provenance.queueItemId = queueItemId;
            provenance.settings = *rendered;
            provenance.model = model;
            provenance.modelHash = u"0123456789"_s;
            provenance.device = u"cuda:1"_s;
            provenance.precision = u"fp16"_s;
            image.setText(u"atelier"_s,
                          QString::fromUtf8(QJsonDocument(provenance.toJson()).toJson(QJsonDocument::Compact)));
        }
        return image.save(path, "PNG");
    }
} // namespace Atelier::Test
