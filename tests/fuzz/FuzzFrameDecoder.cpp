// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes Ipc::FrameDecoder, the first code that touches a peer's bytes. Input: one byte choosing the frame cap, one
// seeding the chunk sizes, then the stream. The decoder, fed the stream in those chunks, must agree with a plain
// reference reading of the same stream, and never hold more than the cap allows.

#include <QByteArray>
#include <QList>
#include <QtEndian>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "FuzzCheck.h"
#include "ipc/FrameCodec.h"
#include "ipc/Protocol.h"

using namespace Atelier::Ipc;

namespace
{
    /// The stream read whole, by the format's definition: frames until an empty or oversized declaration (the
    /// stream is invalid from there) or until the bytes run out (the rest is an incomplete frame).
    struct Reference
    {
        QList<QByteArray> frames;
        bool invalid = false;
        QByteArray rest; ///< bytes after the last whole frame, when valid
    };

    Reference readReference(QByteArrayView stream, quint32 cap)
    {
        Reference reference;
        qsizetype pos = 0;
        while (stream.size() - pos >= FramePrefixSize) {
            const auto length = qFromBigEndian<quint32>(stream.data() + pos);
            if (length == 0 || length > cap) {
                reference.invalid = true;
                return reference;
            }
            if (stream.size() - pos - FramePrefixSize < static_cast<qsizetype>(length)) {
                break;
            }
            reference.frames.append(stream.sliced(pos + FramePrefixSize, length).toByteArray());
            pos += FramePrefixSize + length;
        }
        reference.rest = stream.sliced(pos).toByteArray();
        return reference;
    }

    quint32 capFor(std::uint8_t selector)
    {
        // Small caps make oversized declarations easy to reach; the protocol's own caps keep them honest.
        if (selector == 0xFF) {
            return MaxFrameSize;
        }
        if (selector == 0xFE) {
            return MaxControlFrameSize;
        }
        return selector % 64 + 1;
    }
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) {
        return 0;
    }
    const quint32 cap = capFor(data[0]);
    quint32 chunkState = data[1] * 2654435761U + 1;
    const QByteArrayView stream(reinterpret_cast<const char*>(data + 2), static_cast<qsizetype>(size - 2));
    const Reference reference = readReference(stream, cap);

    FrameDecoder decoder(cap);
    ATELIER_FUZZ_CHECK(decoder.maxFrameSize() == cap, std::string());
    QList<QByteArray> frames;
    bool sawInvalid = false;
    qsizetype pos = 0;
    while (pos < stream.size()) {
        // Chunks of 1 to 16 bytes from a tiny LCG: every split of a prefix and a payload gets tried.
        chunkState = chunkState * 1103515245U + 12345U;
        const qsizetype chunk = std::min<qsizetype>(1 + (chunkState >> 16) % 16, stream.size() - pos);
        decoder.feed(stream.sliced(pos, chunk));
        pos += chunk;
        for (;;) {
            const FrameResult result = decoder.next();
            if (result.status == FrameStatus::Complete) {
                ATELIER_FUZZ_CHECK(!sawInvalid, "a frame came after the stream turned invalid");
                ATELIER_FUZZ_CHECK(!result.payload.isEmpty() && result.payload.size() <= qsizetype{cap},
                                   "frame of " + std::to_string(result.payload.size()) + " bytes, cap "
                                       + std::to_string(cap));
                frames.append(result.payload);
                continue;
            }
            if (result.status == FrameStatus::Invalid) {
                ATELIER_FUZZ_CHECK(!result.error.isEmpty(), "an invalid stream without a reason");
                ATELIER_FUZZ_CHECK(decoder.isInvalid() && decoder.bufferedBytes() == 0,
                                   "an invalid decoder still holds bytes");
                sawInvalid = true;
            }
            break;
        }
        // The promise in FrameCodec.h: what is held after taking every whole frame is at most one frame.
        ATELIER_FUZZ_CHECK(decoder.bufferedBytes() <= qsizetype{cap} + FramePrefixSize - 1,
                           std::to_string(decoder.bufferedBytes()) + " bytes held with a cap of "
                               + std::to_string(cap));
    }

    ATELIER_FUZZ_CHECK(frames.size() <= reference.frames.size(), "more frames than the stream holds");
    for (qsizetype i = 0; i < frames.size(); ++i) {
        ATELIER_FUZZ_CHECK(frames[i] == reference.frames[i], "frame " + std::to_string(i) + " differs");
        // Encoding what was decoded gives back the bytes it came from.
        ATELIER_FUZZ_CHECK(encodeFrame(frames[i]).sliced(FramePrefixSize) == frames[i], "encodeFrame lost bytes");
    }
    if (reference.invalid) {
        // The decoder may stop at the bad prefix only once it has seen it, which it has: every byte was fed.
        ATELIER_FUZZ_CHECK(decoder.isInvalid(), "an empty or oversized declaration was accepted");
        ATELIER_FUZZ_CHECK(frames.size() == reference.frames.size(), "frames before the bad prefix were lost");
    } else {
        ATELIER_FUZZ_CHECK(!decoder.isInvalid(), "a valid stream was refused");
        ATELIER_FUZZ_CHECK(frames.size() == reference.frames.size(), "a whole frame was not returned");
        ATELIER_FUZZ_CHECK(decoder.bufferedBytes() == reference.rest.size(), "the held bytes are not the rest");
        // What takeBuffered() hands on is exactly the incomplete rest, and the decoder is empty afterwards.
        ATELIER_FUZZ_CHECK(decoder.takeBuffered() == reference.rest, "takeBuffered() is not the rest");
        ATELIER_FUZZ_CHECK(decoder.bufferedBytes() == 0 && decoder.next().status == FrameStatus::Incomplete,
                           "the decoder kept bytes after takeBuffered()");
    }
    return 0;
}
