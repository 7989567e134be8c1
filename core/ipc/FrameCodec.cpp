// SPDX-License-Identifier: GPL-3.0-or-later
#include "FrameCodec.h"

#include <QtEndian>

#include <algorithm>
#include <limits>

using namespace Qt::StringLiterals;

namespace Atelier::Ipc
{
    QByteArray encodeFrame(QByteArrayView payload)
    {
        Q_ASSERT(payload.size() <= std::numeric_limits<quint32>::max());
        QByteArray frame(FramePrefixSize + payload.size(), Qt::Uninitialized);
        qToBigEndian<quint32>(static_cast<quint32>(payload.size()), frame.data());
        std::copy(payload.begin(), payload.end(), frame.begin() + FramePrefixSize);
        return frame;
    }

    FrameDecoder::FrameDecoder(quint32 maxFrameSize)
        : m_maxFrameSize(maxFrameSize)
    { }

    void FrameDecoder::feed(QByteArrayView bytes)
    {
        if (isInvalid()) {
            return;
        }
        // Compact lazily so that many small frames in one read do not cost a memmove each.
        if (m_readPos > 0 && m_readPos >= m_buffer.size() / 2) {
            m_buffer.remove(0, m_readPos);
            m_readPos = 0;
        }
        m_buffer.append(bytes);
        // Judge the pending prefix now rather than in next(), so an oversized declaration is refused (and its
        // bytes released) before the caller reads another chunk of that frame into memory.
        checkPendingPrefix();
    }

    void FrameDecoder::checkPendingPrefix()
    {
        if (m_buffer.size() - m_readPos < FramePrefixSize) {
            return;
        }
        const auto length = qFromBigEndian<quint32>(m_buffer.constData() + m_readPos);
        if (length == 0) {
            fail(u"empty frame"_s);
        } else if (length > m_maxFrameSize) {
            fail(u"frame of %1 bytes exceeds the limit of %2 bytes"_s.arg(length).arg(m_maxFrameSize));
        }
    }

    FrameResult FrameDecoder::next()
    {
        if (isInvalid()) {
            return {FrameStatus::Invalid, {}, m_error};
        }
        const qsizetype available = m_buffer.size() - m_readPos;
        if (available < FramePrefixSize) {
            return {};
        }
        const auto length = qFromBigEndian<quint32>(m_buffer.constData() + m_readPos);
        if (available - FramePrefixSize < static_cast<qsizetype>(length)) {
            return {};
        }
        FrameResult result;
        result.status = FrameStatus::Complete;
        result.payload = m_buffer.mid(m_readPos + FramePrefixSize, length);
        m_readPos += FramePrefixSize + length;
        if (m_readPos == m_buffer.size()) {
            m_buffer.clear();
            m_readPos = 0;
        }
        checkPendingPrefix();
        return result;
    }

    qsizetype FrameDecoder::bufferedBytes() const
    {
        return m_buffer.size() - m_readPos;
    }

    QByteArray FrameDecoder::takeBuffered()
    {
        QByteArray rest = m_buffer.mid(m_readPos);
        m_buffer.clear();
        m_readPos = 0;
        return rest;
    }

    quint32 FrameDecoder::maxFrameSize() const
    {
        return m_maxFrameSize;
    }

    bool FrameDecoder::isInvalid() const
    {
        return !m_error.isEmpty();
    }

    FrameResult FrameDecoder::fail(const QString& error)
    {
        m_error = error;
        m_buffer.clear();
        m_buffer.squeeze();
        m_readPos = 0;
        return {FrameStatus::Invalid, {}, m_error};
    }
} // namespace Atelier::Ipc
