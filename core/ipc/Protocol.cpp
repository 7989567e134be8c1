// SPDX-License-Identifier: GPL-3.0-or-later
#include "Protocol.h"

#include <QCborArray>
#include <QCborStreamReader>
#include <QCborValue>
#include <QtEndian>

#include <cmath>

#include "render/RenderSettings.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier::Ipc
{
    namespace
    {
        template <class... Ts> struct Overloaded : Ts...
        {
            using Ts::operator()...;
        };
        // C++20 deduces this for aggregates by itself, but clang before 17 does not (the fuzz build uses clang).
        template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

        // CBOR integers in QCborValue stop at INT64_MAX, but seeds use all 64 bits: send them as 8 big-endian bytes.
        QByteArray seedBytes(quint64 seed)
        {
            QByteArray bytes(8, Qt::Uninitialized);
            qToBigEndian(seed, bytes.data());
            return bytes;
        }

        /// Reads typed fields out of a message map, remembering the first problem.
        class Fields
        {
        public:
            explicit Fields(const QCborMap& map)
                : m_map(map)
            { }

            qint64 integer(const QString& key, qint64 minimum, qint64 maximum)
            {
                const QCborValue v = m_map.value(key);
                if (!v.isInteger()) {
                    fail(key, u"must be an integer"_s);
                    return minimum;
                }
                if (v.toInteger() < minimum || v.toInteger() > maximum) {
                    fail(key, u"is out of range (%1 to %2)"_s.arg(minimum).arg(maximum));
                    return minimum;
                }
                return v.toInteger();
            }

            double number(const QString& key, double minimum, double maximum)
            {
                const QCborValue v = m_map.value(key);
                const double d = v.isInteger() ? static_cast<double>(v.toInteger()) : v.toDouble();
                if (!(v.isInteger() || v.isDouble()) || !std::isfinite(d) || d < minimum || d > maximum) {
                    fail(key, u"must be a number from %1 to %2"_s.arg(minimum).arg(maximum));
                    return minimum;
                }
                return d;
            }

            QString text(const QString& key, qsizetype maxLength)
            {
                const QCborValue v = m_map.value(key);
                if (!v.isString()) {
                    fail(key, u"must be a text string"_s);
                    return {};
                }
                if (v.toString().size() > maxLength) {
                    fail(key, u"is longer than %1 characters"_s.arg(maxLength));
                    return {};
                }
                return v.toString();
            }

            /// Limits as every other entry point has them: RenderLimits::MaxPromptBytes of UTF-8.
            QString prompt(const QString& key)
            {
                const QString value = text(key, RenderLimits::MaxPromptBytes);
                if (value.toUtf8().size() > RenderLimits::MaxPromptBytes) {
                    fail(key, u"is longer than %1 bytes of UTF-8"_s.arg(RenderLimits::MaxPromptBytes));
                    return {};
                }
                return value;
            }

            qint64 side(const QString& key)
            {
                const qint64 value = integer(key, RenderLimits::MinSide, RenderLimits::MaxSide);
                if (value % RenderLimits::SideMultiple != 0) {
                    fail(key, u"is not a multiple of %1"_s.arg(RenderLimits::SideMultiple));
                }
                return value;
            }

            QByteArray bytes(const QString& key, qsizetype maxSize)
            {
                const QCborValue v = m_map.value(key);
                if (!v.isByteArray() || v.toByteArray().size() > maxSize) {
                    fail(key, u"must be a byte string of at most %1 bytes"_s.arg(maxSize));
                    return {};
                }
                return v.toByteArray();
            }

            quint64 seed(const QString& key)
            {
                const QByteArray b = bytes(key, 8);
                if (m_error.isEmpty() && b.size() != 8) {
                    fail(key, u"must be 8 bytes"_s);
                }
                return b.size() == 8 ? qFromBigEndian<quint64>(b.constData()) : 0;
            }

            QStringList texts(const QString& key, qsizetype maxCount)
            {
                const QCborValue v = m_map.value(key);
                QStringList list;
                if (!v.isArray() || v.toArray().size() > maxCount) {
                    fail(key, u"must be a list of at most %1 text strings"_s.arg(maxCount));
                    return list;
                }
                for (const QCborValue& item : v.toArray()) {
                    if (!item.isString()) {
                        fail(key, u"must be a list of text strings"_s);
                        return {};
                    }
                    list.append(item.toString());
                }
                return list;
            }

            QCborMap map(const QString& key)
            {
                const QCborValue v = m_map.value(key);
                if (!v.isMap()) {
                    fail(key, u"must be a map"_s);
                    return {};
                }
                return v.toMap();
            }

            const QString& error() const { return m_error; }

        private:
            void fail(const QString& key, const QString& problem)
            {
                if (m_error.isEmpty()) {
                    m_error = u"field \"%1\" %2"_s.arg(key, problem);
                }
            }

            const QCborMap& m_map;
            QString m_error;
        };

        constexpr qint64 MaxId = std::numeric_limits<qint64>::max();
        constexpr qsizetype MaxPathLength = 4096;
    } // namespace

    bool canShareBatch(const Job& a, const Job& b)
    {
        return a.steps == b.steps && a.cfgScale == b.cfgScale && a.width == b.width && a.height == b.height
            && a.scheduler == b.scheduler && a.clipSkip == b.clipSkip && a.initImage.isEmpty() == b.initImage.isEmpty()
            && a.denoisingStrength == b.denoisingStrength && a.hiresScale == b.hiresScale
            && a.hiresSteps == b.hiresSteps && a.hiresUpscaler == b.hiresUpscaler && a.vae == b.vae;
    }

    QString messageType(const Message& message)
    {
        return std::visit(Overloaded{
                              [](const Hello&) { return u"hello"_s; },
                              [](const Job&) { return u"job"_s; },
                              [](const Progress&) { return u"progress"_s; },
                              [](const Preview&) { return u"preview"_s; },
                              [](const Result&) { return u"result"_s; },
                              [](const Error&) { return u"error"_s; },
                              [](const Cancel&) { return u"cancel"_s; },
                              [](const Shutdown&) { return u"shutdown"_s; },
                              [](const Ready&) { return u"ready"_s; },
                              [](const Heartbeat&) { return u"heartbeat"_s; },
                          },
                          message);
    }

    QByteArray encodeMessage(const Message& message)
    {
        QCborMap map;
        map.insert(u"type"_s, messageType(message));
        std::visit(Overloaded{
                       [&](const Hello& m) {
                           map.insert(u"version"_s, m.protocolVersion);
                           map.insert(u"token"_s, m.token);
                           map.insert(u"rank"_s, m.rank);
                           map.insert(u"device"_s, m.device);
                           map.insert(u"deviceName"_s, m.deviceName);
                           map.insert(u"pid"_s, m.pid);
                           map.insert(u"capabilities"_s, QCborArray::fromStringList(m.capabilities));
                       },
                       [&](const Job& m) {
                           map.insert(u"job"_s, m.jobId);
                           map.insert(u"item"_s, m.itemId);
                           map.insert(u"attempt"_s, m.attempt);
                           map.insert(u"prompt"_s, m.prompt);
                           map.insert(u"negative"_s, m.negativePrompt);
                           map.insert(u"seed"_s, seedBytes(m.seed));
                           map.insert(u"steps"_s, m.steps);
                           map.insert(u"cfg"_s, m.cfgScale);
                           map.insert(u"width"_s, m.width);
                           map.insert(u"height"_s, m.height);
                           map.insert(u"scheduler"_s, m.scheduler);
                           map.insert(u"clipSkip"_s, m.clipSkip);
                           map.insert(u"init"_s, m.initImage);
                           map.insert(u"strength"_s, m.denoisingStrength);
                           map.insert(u"hiresScale"_s, m.hiresScale);
                           map.insert(u"hiresSteps"_s, m.hiresSteps);
                           map.insert(u"hiresUpscaler"_s, m.hiresUpscaler);
                           map.insert(u"vae"_s, m.vae);
                           map.insert(u"out"_s, m.outputPath);
                           map.insert(u"batchIndex"_s, m.batchIndex);
                           map.insert(u"batchCount"_s, m.batchCount);
                       },
                       [&](const Progress& m) {
                           map.insert(u"job"_s, m.jobId);
                           map.insert(u"step"_s, m.step);
                           map.insert(u"total"_s, m.total);
                           map.insert(u"itps"_s, m.iterationsPerSecond);
                       },
                       [&](const Preview& m) {
                           map.insert(u"job"_s, m.jobId);
                           map.insert(u"width"_s, m.width);
                           map.insert(u"height"_s, m.height);
                           map.insert(u"rgb"_s, m.rgb);
                       },
                       [&](const Result& m) {
                           map.insert(u"job"_s, m.jobId);
                           map.insert(u"path"_s, m.imagePath);
                           map.insert(u"meta"_s, m.metadata);
                       },
                       [&](const Error& m) {
                           map.insert(u"job"_s, m.jobId);
                           map.insert(u"code"_s, m.code);
                           map.insert(u"message"_s, m.message);
                       },
                       [&](const Cancel& m) { map.insert(u"job"_s, m.jobId); },
                       [&](const Shutdown&) {},
                       [&](const Ready&) {},
                       [&](const Heartbeat& m) {
                           map.insert(u"sent"_s, m.sentAtMs);
                           map.insert(u"mem"_s, m.memoryUsed);
                           map.insert(u"memTotal"_s, m.memoryTotal);
                       },
                   },
                   message);
        return map.toCborValue().toCbor();
    }

    DecodeResult decodeMessage(QByteArrayView payload)
    {
        QCborStreamReader reader(reinterpret_cast<const quint8*>(payload.data()), payload.size());
        const QCborValue value = QCborValue::fromCbor(reader);
        if (reader.lastError() != QCborError::NoError) {
            return {std::nullopt, u"not CBOR: %1"_s.arg(reader.lastError().toString())};
        }
        if (reader.currentOffset() != payload.size()) {
            return {std::nullopt, u"%1 bytes after the message"_s.arg(payload.size() - reader.currentOffset())};
        }
        if (!value.isMap()) {
            return {std::nullopt, u"the message is not a CBOR map"_s};
        }
        const QCborMap map = value.toMap();
        const QString type = map.value(u"type"_s).toString();
        if (type != u"preview"_s && payload.size() > static_cast<qsizetype>(MaxControlFrameSize)) {
            return {std::nullopt,
                    u"a %1 message of %2 bytes exceeds the control limit"_s.arg(type).arg(payload.size())};
        }
        Fields f(map);
        std::optional<Message> message;
        if (type == u"hello"_s) {
            Hello m;
            m.protocolVersion = static_cast<int>(f.integer(u"version"_s, 0, 1 << 20));
            m.token = f.bytes(u"token"_s, TokenSize);
            m.rank = static_cast<int>(f.integer(u"rank"_s, 0, 1 << 16));
            m.device = f.text(u"device"_s, 64);
            m.deviceName = f.text(u"deviceName"_s, 256);
            m.pid = f.integer(u"pid"_s, 1, MaxId);
            m.capabilities = f.texts(u"capabilities"_s, 64);
            message = m;
        } else if (type == u"job"_s) {
            Job m;
            m.jobId = f.integer(u"job"_s, 0, MaxId);
            m.itemId = f.integer(u"item"_s, 0, MaxId);
            m.attempt = static_cast<int>(f.integer(u"attempt"_s, 1, 1000));
            m.prompt = f.prompt(u"prompt"_s);
            m.negativePrompt = f.prompt(u"negative"_s);
            m.seed = f.seed(u"seed"_s);
            m.steps = static_cast<int>(f.integer(u"steps"_s, RenderLimits::MinSteps, RenderLimits::MaxSteps));
            m.cfgScale = f.number(u"cfg"_s, RenderLimits::MinCfgScale, RenderLimits::MaxCfgScale);
            m.width = static_cast<int>(f.side(u"width"_s));
            m.height = static_cast<int>(f.side(u"height"_s));
            m.scheduler = f.text(u"scheduler"_s, 64);
            m.clipSkip
                = static_cast<int>(f.integer(u"clipSkip"_s, RenderLimits::MinClipSkip, RenderLimits::MaxClipSkip));
            m.initImage = f.text(u"init"_s, MaxPathLength);
            m.denoisingStrength = f.number(u"strength"_s, 0, RenderLimits::MaxDenoisingStrength);
            m.hiresScale = f.number(u"hiresScale"_s, RenderLimits::MinHiresScale, RenderLimits::MaxHiresScale);
            m.hiresSteps = static_cast<int>(f.integer(u"hiresSteps"_s, 0, RenderLimits::MaxSteps));
            m.hiresUpscaler = f.text(u"hiresUpscaler"_s, 16);
            m.vae = f.text(u"vae"_s, MaxPathLength);
            if (f.error().isEmpty() && !m.hiresUpscaler.isEmpty()
                && hiresUpscalerFromName(m.hiresUpscaler) != m.hiresUpscaler) {
                return {std::nullopt, u"job message: \"%1\" is not a hires upscaler"_s.arg(m.hiresUpscaler)};
            }
            if (f.error().isEmpty() && !m.scheduler.isEmpty() && samplerFromName(m.scheduler) != m.scheduler) {
                return {std::nullopt, u"job message: \"%1\" is not a sampler's canonical name"_s.arg(m.scheduler)};
            }
            m.outputPath = f.text(u"out"_s, MaxPathLength);
            m.batchCount = static_cast<int>(f.integer(u"batchCount"_s, 1, MaxBatch));
            m.batchIndex = static_cast<int>(f.integer(u"batchIndex"_s, 0, m.batchCount - 1));
            message = m;
        } else if (type == u"progress"_s) {
            Progress m;
            m.jobId = f.integer(u"job"_s, 0, MaxId);
            m.total = static_cast<int>(f.integer(u"total"_s, 1, 100000));
            m.step = static_cast<int>(f.integer(u"step"_s, 0, m.total));
            m.iterationsPerSecond = f.number(u"itps"_s, 0, 1e9);
            message = m;
        } else if (type == u"preview"_s) {
            Preview m;
            m.jobId = f.integer(u"job"_s, 0, MaxId);
            m.width = static_cast<int>(f.integer(u"width"_s, 1, MaxPreviewSide));
            m.height = static_cast<int>(f.integer(u"height"_s, 1, MaxPreviewSide));
            m.rgb = f.bytes(u"rgb"_s, qsizetype{MaxPreviewSide} * MaxPreviewSide * 3);
            if (f.error().isEmpty() && m.rgb.size() != qsizetype{m.width} * m.height * 3) {
                return {std::nullopt,
                        u"preview of %1×%2 carries %3 bytes"_s.arg(m.width).arg(m.height).arg(m.rgb.size())};
            }
            message = m;
        } else if (type == u"result"_s) {
            Result m;
            m.jobId = f.integer(u"job"_s, 0, MaxId);
            m.imagePath = f.text(u"path"_s, MaxPathLength);
            m.metadata = f.map(u"meta"_s);
            message = m;
        } else if (type == u"error"_s) {
            Error m;
            m.jobId = f.integer(u"job"_s, -1, MaxId);
            m.code = f.text(u"code"_s, 64);
            m.message = f.text(u"message"_s, 4096);
            message = m;
        } else if (type == u"cancel"_s) {
            message = Cancel{f.integer(u"job"_s, 0, MaxId)};
        } else if (type == u"shutdown"_s) {
            message = Shutdown{};
        } else if (type == u"ready"_s) {
            message = Ready{};
        } else if (type == u"heartbeat"_s) {
            message = Heartbeat{f.integer(u"sent"_s, 0, MaxId), f.integer(u"mem"_s, 0, MaxId),
                                f.integer(u"memTotal"_s, 0, MaxId)};
        } else {
            return {std::nullopt, u"unknown message type \"%1\""_s.arg(type)};
        }
        if (!f.error().isEmpty()) {
            return {std::nullopt, u"%1 message: %2"_s.arg(type, f.error())};
        }
        return {message, {}};
    }
} // namespace Atelier::Ipc
