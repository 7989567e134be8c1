// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <ATen/core/Tensor.h>

namespace Atelier::Engine
{
    class UNet;
}

namespace Atelier::Test
{
    /// The cases of one section ("unet", "vae", "pipeline_cases", "seed_cases", …) of a fixture's goldens.
    QJsonArray goldenCases(const QString& fixture, const QString& section);

    /// One golden case and the tensors it names: each tensor field of index.json carries its own file and key.
    class GoldenCase
    {
    public:
        GoldenCase(const QString& fixture, const QString& section, int index);

        const QJsonObject& json() const { return m_json; }
        /// The tensor that field @p field names (e.g. "sample", "image_uint8").
        at::Tensor tensor(const char* field) const;

    private:
        QString m_fixture;
        QJsonObject m_json;
    };

    /// max |a − b| over all elements, as a double.
    double maxAbsDifference(const at::Tensor& a, const at::Tensor& b);

    /// Runs @p unet on golden UNet case @p index of @p fixture and returns its max abs error against the golden
    /// output (a negative value when the shapes differ).
    double unetGoldenError(const Engine::UNet& unet, const QString& fixture, int index);
} // namespace Atelier::Test
