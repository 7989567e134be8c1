// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace Atelier::Ipc
{
    /// Outcome of asking a FrameDecoder for its next frame.
    enum class FrameStatus
    {
        Complete, ///< a whole frame was taken; see FrameResult::payload
        Incomplete, ///< more bytes are needed
        Invalid ///< the stream broke a rule; the connection must be dropped (see FrameResult::error)
    };

    struct FrameResult
    {
        FrameStatus status = FrameStatus::Incomplete;
        QByteArray payload;
        QString error;
    };

    /// Size of the length prefix in front of every frame: a big-endian unsigned 32-bit payload length.
    inline constexpr qsizetype FramePrefixSize = 4;

    /// Returns @p payload with its length prefix, ready to write to a socket.
    QByteArray encodeFrame(QByteArrayView payload);

    /// Splits a byte stream into length-prefixed frames.
    ///
    /// The declared length is checked against the cap as soon as the 4-byte prefix has arrived, before any of
    /// the payload is buffered, so a peer cannot make us allocate more than maxFrameSize + 4 bytes. Empty
    /// frames are invalid: every message carries at least its type. Once invalid, the decoder stays invalid.
    ///
    /// Example:
    /// @code
    /// FrameDecoder decoder(64 * 1024);
    /// decoder.feed(socket.readAll());
    /// for (auto r = decoder.next(); r.status == FrameStatus::Complete; r = decoder.next())
    ///     handle(r.payload);
    /// @endcode
    class FrameDecoder
    {
    public:
        explicit FrameDecoder(quint32 maxFrameSize);

        /// Appends received bytes. Bytes fed after the stream turned invalid are dropped.
        void feed(QByteArrayView bytes);
        /// Takes the next complete frame, or says that more bytes are needed or that the stream is invalid.
        FrameResult next();

        /// Bytes held but not yet returned as a frame.
        qsizetype bufferedBytes() const;
        /// Removes and returns the bytes held but not yet returned as a frame, so another decoder can carry on
        /// where this one stopped (the handshake hands the rest of the stream to the connection's own decoder).
        QByteArray takeBuffered();
        quint32 maxFrameSize() const;
        bool isInvalid() const;

    private:
        void checkPendingPrefix();
        FrameResult fail(const QString& error);

        QByteArray m_buffer;
        qsizetype m_readPos = 0;
        quint32 m_maxFrameSize;
        QString m_error;
    };
} // namespace Atelier::Ipc
