// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes Ipc::decodeMessage, which reads every frame a worker (or a stranger on the socket) sends. Input: one frame's
// payload. Whatever decodes must be within the protocol's limits, and must survive encodeMessage and decodeMessage
// again unchanged: the coordinator and the worker both rely on the two being inverses.

#include <QByteArray>
#include <QCborMap>
#include <QCborValue>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <variant>

#include "FuzzCheck.h"
#include "ipc/Protocol.h"
#include "render/RenderSettings.h"

using namespace Atelier;
using namespace Atelier::Ipc;
using namespace Qt::StringLiterals;

namespace
{
    /// The limits each message type promises once decoded (Protocol.h), beyond "it decoded".
    void checkLimits(const Message& message)
    {
        std::visit(
            [](const auto& m) {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, Hello>) {
                    ATELIER_FUZZ_CHECK(m.token.size() <= TokenSize && m.pid >= 1, std::string());
                } else if constexpr (std::is_same_v<T, Job>) {
                    // A decoded job must be renderable: the same limits every other entry point applies.
                    RenderSettings settings;
                    settings.prompt = m.prompt;
                    settings.negativePrompt = m.negativePrompt;
                    settings.seed = m.seed;
                    settings.steps = m.steps;
                    settings.cfgScale = m.cfgScale;
                    settings.width = m.width;
                    settings.height = m.height;
                    settings.scheduler = m.scheduler;
                    const QList<SettingProblem> problems = settings.problems();
                    ATELIER_FUZZ_CHECK(problems.isEmpty(), problems.value(0).message.toStdString());
                    ATELIER_FUZZ_CHECK(m.batchCount >= 1 && m.batchCount <= MaxBatch && m.batchIndex >= 0
                                           && m.batchIndex < m.batchCount && m.attempt >= 1,
                                       std::string());
                } else if constexpr (std::is_same_v<T, Progress>) {
                    ATELIER_FUZZ_CHECK(m.step >= 0 && m.step <= m.total && m.iterationsPerSecond >= 0, std::string());
                } else if constexpr (std::is_same_v<T, Preview>) {
                    ATELIER_FUZZ_CHECK(m.width >= 1 && m.width <= MaxPreviewSide && m.height >= 1
                                           && m.height <= MaxPreviewSide
                                           && m.rgb.size() == qsizetype{m.width} * m.height * 3,
                                       std::string());
                }
            },
            message);
    }

    /// Equality, except that a result's metadata is compared by its CBOR bytes: it may hold NaN, which the protocol
    /// carries faithfully but which is never equal to itself.
    bool sameMessage(const Message& a, const Message& b)
    {
        const auto* resultA = std::get_if<Result>(&a);
        const auto* resultB = std::get_if<Result>(&b);
        if (resultA && resultB) {
            return resultA->jobId == resultB->jobId && resultA->imagePath == resultB->imagePath
                && resultA->metadata.toCborValue().toCbor() == resultB->metadata.toCborValue().toCbor();
        }
        return a == b;
    }
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QByteArrayView payload(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const DecodeResult decoded = decodeMessage(payload);
    ATELIER_FUZZ_CHECK(decoded.message.has_value() != !decoded.error.isEmpty(),
                       "a result must carry a message or an error, not both or neither");
    if (!decoded.message) {
        return 0;
    }
    const Message& message = *decoded.message;
    checkLimits(message);
    const QString type = QCborValue::fromCbor(payload.toByteArray()).toMap().value(u"type"_s).toString();
    ATELIER_FUZZ_CHECK(messageType(message) == type, type.toStdString());

    const QByteArray again = encodeMessage(message);
    // A control message may have arrived in a smaller encoding (half floats in a result's metadata, say) than
    // encodeMessage writes; grown past the control limit it is refused again, which is the limit working.
    if (std::holds_alternative<Preview>(message) || again.size() <= static_cast<qsizetype>(MaxControlFrameSize)) {
        const DecodeResult redecoded = decodeMessage(again);
        ATELIER_FUZZ_CHECK(redecoded.message.has_value(),
                           "re-encoded " + type.toStdString() + " message refused: " + redecoded.error.toStdString());
        ATELIER_FUZZ_CHECK(sameMessage(*redecoded.message, message),
                           "re-encoded " + type.toStdString() + " message differs");
        // Encoding is deterministic, so a third pass writes the same bytes.
        ATELIER_FUZZ_CHECK(encodeMessage(*redecoded.message) == again, "encoding is not stable");
    }
    return 0;
}
