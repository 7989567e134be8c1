// SPDX-License-Identifier: GPL-3.0-or-later
#include "Precision.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    std::optional<Precision> parsePrecision(QStringView name)
    {
        for (const Precision precision : {Precision::Auto, Precision::Fp32, Precision::Fp16, Precision::Bf16}) {
            if (name.compare(precisionName(precision), Qt::CaseInsensitive) == 0) {
                return precision;
            }
        }
        return std::nullopt;
    }

    QString precisionName(Precision precision)
    {
        switch (precision) {
        case Precision::Auto:
            return u"auto"_s;
        case Precision::Fp32:
            return u"fp32"_s;
        case Precision::Fp16:
            return u"fp16"_s;
        case Precision::Bf16:
            return u"bf16"_s;
        }
        return u"auto"_s;
    }

    std::optional<Precision> resolvePrecision(Precision requested, QStringView device, QString* error)
    {
        const bool cpu = device == u"cpu";
        const bool cuda = device == u"cuda" || device.startsWith(u"cuda:");
        if (!cpu && !cuda) {
            if (error) {
                *error = u"unknown device \"%1\"; use cpu or cuda:N"_s.arg(device);
            }
            return std::nullopt;
        }
        if (requested == Precision::Auto) {
            // Half precision is what makes a GPU fast and what SD 1.x was trained for; the CPU has no fast fp16.
            return cuda ? Precision::Fp16 : Precision::Fp32;
        }
        if (cpu && requested != Precision::Fp32) {
            if (error) {
                *error = u"%1 needs a CUDA device; %2 computes fp32 only"_s.arg(precisionName(requested), device);
            }
            return std::nullopt;
        }
        return requested;
    }
} // namespace Atelier
