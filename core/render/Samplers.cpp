// SPDX-License-Identifier: GPL-3.0-or-later
#include "Samplers.h"

#include "render/RenderSettings.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        /// Atelier's sampler names, in the order the window lists them.
        constexpr QStringView canonicalNames[]
            = {u"pndm", u"ddim", u"euler", u"euler_a", u"dpmpp_2m", u"dpmpp_2m_karras", u"lms"};

        struct SamplerAlias
        {
            QStringView name;
            QStringView sampler;
        };
        // A1111's sampler names and aliases (modules/sd_samplers_*.py). The first entry of each sampler is the name
        // A1111 writes into its images.
        constexpr SamplerAlias a1111Aliases[] = {
            {u"Euler a", u"euler_a"},
            {u"k_euler_a", u"euler_a"},
            {u"k_euler_ancestral", u"euler_a"},
            {u"Euler", u"euler"},
            {u"k_euler", u"euler"},
            {u"LMS", u"lms"},
            {u"k_lms", u"lms"},
            {u"DDIM", u"ddim"},
            {u"PLMS", u"pndm"},
            {u"DPM++ 2M", u"dpmpp_2m"},
            {u"k_dpmpp_2m", u"dpmpp_2m"},
            {u"DPM++ 2M Karras", u"dpmpp_2m_karras"},
            {u"k_dpmpp_2m_ka", u"dpmpp_2m_karras"},
        };

    } // namespace

    QString samplerFromName(QStringView name)
    {
        name = name.trimmed();
        for (const QStringView canonical : canonicalNames) {
            if (name.compare(canonical, Qt::CaseInsensitive) == 0) {
                return canonical.toString();
            }
        }
        for (const SamplerAlias& alias : a1111Aliases) {
            if (name.compare(alias.name, Qt::CaseInsensitive) == 0) {
                return alias.sampler.toString();
            }
        }
        return {};
    }

    QString a1111SamplerName(QStringView sampler)
    {
        for (const SamplerAlias& alias : a1111Aliases) {
            if (alias.sampler == sampler) {
                return alias.name.toString();
            }
        }
        return sampler.toString();
    }

    QStringList samplerNames()
    {
        QStringList names;
        for (const QStringView canonical : canonicalNames) {
            names.append(canonical.toString());
        }
        return names;
    }

    QString unknownSamplerMessage(QStringView given, QStringView field)
    {
        QStringList a1111;
        for (const SamplerAlias& alias : a1111Aliases) {
            // Only the names A1111 writes, not the old aliases: the list is there to help, not to be complete.
            if (a1111SamplerName(alias.sampler) == alias.name) {
                a1111.append(alias.name.toString());
            }
        }
        return u"unknown sampler \"%1\" in %2 (known: %3, or %4)"_s.arg(
            excerpt(given), field.toString(), a1111.join(u", "_s), samplerNames().join(u", "_s));
    }
} // namespace Atelier
