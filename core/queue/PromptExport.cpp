// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptExport.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace Atelier
{
    QByteArray toPromptFile(const QList<RenderSettings>& jobs)
    {
        QByteArray out;
        for (const RenderSettings& job : jobs) {
            QJsonObject object{{u"prompt"_s, job.prompt}};
            if (!job.negativePrompt.isEmpty()) {
                object.insert(u"negative_prompt"_s, job.negativePrompt);
            }
            if (job.steps) {
                object.insert(u"steps"_s, *job.steps);
            }
            if (job.cfgScale) {
                object.insert(u"cfg_scale"_s, *job.cfgScale);
            }
            if (job.width) {
                object.insert(u"width"_s, *job.width);
            }
            if (job.height) {
                object.insert(u"height"_s, *job.height);
            }
            if (job.scheduler) {
                object.insert(u"sampler_name"_s, *job.scheduler);
            }
            if (job.clipSkip) {
                object.insert(u"clip_skip"_s, *job.clipSkip);
            }
            if (job.initImage) {
                object.insert(u"init_image"_s, *job.initImage);
            }
            if (job.denoisingStrength) {
                object.insert(u"denoising_strength"_s, *job.denoisingStrength);
            }
            if (job.hiresScale) {
                object.insert(u"hr_scale"_s, *job.hiresScale); // 1: off, even where the run turns the fix on
            }
            if (job.hiresSteps) {
                object.insert(u"hr_second_pass_steps"_s, *job.hiresSteps);
            }
            if (job.hiresUpscaler) {
                object.insert(u"hr_upscaler"_s, *job.hiresUpscaler);
            }
            if (job.vae) {
                object.insert(u"sd_vae"_s, *job.vae);
            }
            QByteArray line = QJsonDocument(object).toJson(QJsonDocument::Compact);
            if (job.seed) {
                // JSON numbers go through doubles in QJsonValue, which keep only 53 bits; the seed is written as
                // its exact digits (the importer reads them as such).
                line.insert(1, "\"seed\":" + QByteArray::number(*job.seed) + ',');
            }
            out += line + '\n';
        }
        return out;
    }

    QString savePromptFile(const QList<RenderSettings>& jobs, const QString& path)
    {
        if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
            return u"cannot create the folder of %1"_s.arg(path);
        }
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly)) {
            return u"cannot write %1: %2"_s.arg(path, file.errorString());
        }
        file.write(toPromptFile(jobs));
        if (!file.commit()) {
            return u"cannot write %1: %2"_s.arg(path, file.errorString());
        }
        return {};
    }
} // namespace Atelier
