// SPDX-License-Identifier: GPL-3.0-or-later
#include "EngineTestSupport.h"

#include <ATen/TensorOperators.h>

#include <c10/core/InferenceMode.h>

#include "TestSupport.h"
#include "engine/Safetensors.h"
#include "engine/UNet.h"

namespace Atelier::Test
{
    QJsonArray goldenCases(const QString& fixture, const QString& section)
    {
        return goldenIndex(fixture)[section][QStringLiteral("cases")].toArray();
    }

    GoldenCase::GoldenCase(const QString& fixture, const QString& section, int index)
        : m_fixture(fixture)
        , m_json(goldenCases(fixture, section)[index].toObject())
    { }

    at::Tensor GoldenCase::tensor(const char* field) const
    {
        const QJsonObject ref = m_json[QLatin1String(field)].toObject();
        const QString file
            = fixturePath(m_fixture + QStringLiteral("/goldens/") + ref[QStringLiteral("file")].toString());
        // The mapping is released with the file object, so hand back a copy that owns its memory.
        return Engine::SafetensorsFile::open(file.toStdString())
            .tensor(ref[QStringLiteral("key")].toString().toStdString())
            .clone();
    }

    double maxAbsDifference(const at::Tensor& a, const at::Tensor& b)
    {
        return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
    }

    double unetGoldenError(const Engine::UNet& unet, const QString& fixture, int index)
    {
        c10::InferenceMode guard;
        const GoldenCase golden(fixture, QStringLiteral("unet"), index);
        const at::Tensor out
            = unet.forward(golden.tensor("sample"), golden.tensor("timestep"), golden.tensor("encoder_hidden_states"));
        const at::Tensor expected = golden.tensor("out");
        return out.sizes() == expected.sizes() ? maxAbsDifference(out, expected) : -1.0;
    }
} // namespace Atelier::Test
