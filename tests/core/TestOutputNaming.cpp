// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <limits>

#include "render/OutputNaming.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

class TestOutputNaming final : public QObject
{
    Q_OBJECT

private slots:
    void imageFileName_data();
    void imageFileName();
    void nextImageNumber_data();
    void nextImageNumber();
    void nextImageNumberOfAMissingFolder();
    void aSecondRunContinues();
};

void TestOutputNaming::imageFileName_data()
{
    QTest::addColumn<qint64>("number");
    QTest::addColumn<quint64>("seed");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("name");
    QTest::newRow("plain") << qint64(12) << quint64(42) << u"A lighthouse at dusk"_s
                           << u"00012-42-a-lighthouse-at-dusk.png"_s;
    QTest::newRow("zero") << qint64(0) << quint64(0) << u"x"_s << u"00000-0-x.png"_s;
    QTest::newRow("five digits") << qint64(99999) << quint64(1) << u"x"_s << u"99999-1-x.png"_s;
    QTest::newRow("more than five digits") << qint64(123456) << quint64(1) << u"x"_s << u"123456-1-x.png"_s;
    QTest::newRow("largest seed") << qint64(3) << std::numeric_limits<quint64>::max() << u"x"_s
                                  << u"00003-18446744073709551615-x.png"_s;
    QTest::newRow("accents fold") << qint64(1) << quint64(7) << u"Café crème"_s << u"00001-7-cafe-creme.png"_s;
    QTest::newRow("no Latin letters") << qint64(1) << quint64(7) << u"山水画"_s << u"00001-7-image.png"_s;
    QTest::newRow("empty prompt") << qint64(1) << quint64(7) << QString() << u"00001-7-image.png"_s;
    QTest::newRow("path traversal") << qint64(1) << quint64(7) << u"../../etc/passwd"_s << u"00001-7-etc-passwd.png"_s;
    QTest::newRow("punctuation runs") << qint64(1) << quint64(7) << u"  (masterpiece:1.2), best -- quality!  "_s
                                      << u"00001-7-masterpiece-1-2-best-quality.png"_s;
    QTest::newRow("NUL and newlines") << qint64(1) << quint64(7) << u"a\nb\u0000c"_s << u"00001-7-a-b-c.png"_s;
    QTest::newRow("200 x") << qint64(1) << quint64(7) << QString(200, u'x')
                           << u"00001-7-%1.png"_s.arg(QString(48, u'x'));
    // Cut at 48 characters, then the dangling '-' goes too.
    QTest::newRow("cut before a dash") << qint64(1) << quint64(7) << QString(47, u'y') + u" tail"_s
                                       << u"00001-7-%1.png"_s.arg(QString(47, u'y'));
}

void TestOutputNaming::imageFileName()
{
    QFETCH(qint64, number);
    QFETCH(quint64, seed);
    QFETCH(QString, prompt);
    QFETCH(QString, name);
    QCOMPARE(Atelier::imageFileName(number, seed, prompt), name);
}

void TestOutputNaming::nextImageNumber_data()
{
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<qint64>("next");
    QTest::newRow("empty folder") << QStringList{} << qint64(0);
    QTest::newRow("one padded") << QStringList{u"00003-42-a-fox.png"_s} << qint64(4);
    QTest::newRow("highest wins") << QStringList{u"00003-42-a.png"_s, u"00012-1-b.png"_s, u"00004-1-c.png"_s}
                                  << qint64(13);
    QTest::newRow("old unpadded names count") << QStringList{u"7-1-x.png"_s, u"00002-1-y.png"_s} << qint64(8);
    QTest::newRow("other files ignored") << QStringList{u"notes.txt"_s, u"a-00099.png"_s, u"-5-x.png"_s,
                                                        u"123.png"_s,   u"12x-3.png"_s,   u"00001-5-x.png"_s}
                                         << qint64(2);
    QTest::newRow("only non-matching names") << QStringList{u"cover.png"_s, u".hidden"_s} << qint64(0);
    QTest::newRow("temporary files count") << QStringList{u"00020-1-x.png.tmp"_s, u"00005-1-y.png"_s} << qint64(21);
    QTest::newRow("folders count") << QStringList{u"00030-batch/"_s} << qint64(31);
    // Beyond qint64 the number cannot be followed; the names given out instead never collide with it.
    QTest::newRow("huge number") << QStringList{u"99999999999999999999999-1-x.png"_s, u"00006-1-x.png"_s} << qint64(7);
    QTest::newRow("largest qint64") << QStringList{u"9223372036854775807-1-x.png"_s} << qint64(0);
    QTest::newRow("just below the largest")
        << QStringList{u"9223372036854775806-1-x.png"_s} << std::numeric_limits<qint64>::max();
}

void TestOutputNaming::nextImageNumber()
{
    QFETCH(QStringList, files);
    QFETCH(qint64, next);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const QString& name : files) {
        if (name.endsWith(u'/')) {
            QVERIFY(QDir(dir.path()).mkdir(name.chopped(1)));
            continue;
        }
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
    }
    QCOMPARE(Atelier::nextImageNumber(dir.path()), next);
}

void TestOutputNaming::nextImageNumberOfAMissingFolder()
{
    QTemporaryDir dir;
    QCOMPARE(Atelier::nextImageNumber(dir.filePath(u"not-made-yet"_s)), qint64(0));
    QCOMPARE(Atelier::nextImageNumber(QString()), qint64(0));
}

// Names made from nextImageNumber, written, then asked again: the numbers continue and no name repeats.
void TestOutputNaming::aSecondRunContinues()
{
    QTemporaryDir dir;
    QStringList written;
    for (int run = 0; run < 2; ++run) {
        qint64 number = Atelier::nextImageNumber(dir.path());
        QCOMPARE(number, qint64(run * 3));
        for (int i = 0; i < 3; ++i) {
            const QString name = Atelier::imageFileName(number++, 42, u"same prompt, same seed"_s);
            QVERIFY(!written.contains(name));
            QFile file(dir.filePath(name));
            QVERIFY(file.open(QIODevice::NewOnly));
            written.append(name);
        }
    }
    QCOMPARE(written.last(), u"00005-42-same-prompt-same-seed.png"_s);
}

QTEST_GUILESS_MAIN(TestOutputNaming)
#include "TestOutputNaming.moc"
