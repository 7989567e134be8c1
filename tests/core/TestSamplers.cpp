// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTest>

#include "render/Samplers.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

class TestSamplers final : public QObject
{
    Q_OBJECT

private slots:
    void canonicalNamesInWindowOrder();
    void a1111NamesRoundTrip_data();
    void a1111NamesRoundTrip();
    void names_data();
    void names();
    void unknownSamplerMessageListsEveryName();
};

void TestSamplers::canonicalNamesInWindowOrder()
{
    QCOMPARE(
        samplerNames(),
        (QStringList{u"pndm"_s, u"ddim"_s, u"euler"_s, u"euler_a"_s, u"dpmpp_2m"_s, u"dpmpp_2m_karras"_s, u"lms"_s}));
}

void TestSamplers::a1111NamesRoundTrip_data()
{
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("a1111");
    QTest::newRow("pndm") << u"pndm"_s << u"PLMS"_s;
    QTest::newRow("ddim") << u"ddim"_s << u"DDIM"_s;
    QTest::newRow("euler") << u"euler"_s << u"Euler"_s;
    QTest::newRow("euler_a") << u"euler_a"_s << u"Euler a"_s;
    QTest::newRow("dpmpp_2m") << u"dpmpp_2m"_s << u"DPM++ 2M"_s;
    QTest::newRow("dpmpp_2m_karras") << u"dpmpp_2m_karras"_s << u"DPM++ 2M Karras"_s;
    QTest::newRow("lms") << u"lms"_s << u"LMS"_s;
}

// What the worker writes into an image must read back as the same sampler when the image's parameters are pasted into
// a prompt file or read from the PNG.
void TestSamplers::a1111NamesRoundTrip()
{
    QFETCH(QString, sampler);
    QFETCH(QString, a1111);
    QVERIFY(samplerNames().contains(sampler));
    QCOMPARE(a1111SamplerName(sampler), a1111);
    QCOMPARE(samplerFromName(a1111), sampler);
    QCOMPARE(samplerFromName(sampler), sampler);
    QCOMPARE(samplerFromName(a1111.toUpper()), sampler);
    QCOMPARE(samplerFromName(a1111.toLower()), sampler);
    QCOMPARE(samplerFromName(u"  "_s + a1111 + u"\t"_s), sampler);
    QCOMPARE(samplerFromName(sampler.toUpper()), sampler);
}

void TestSamplers::names_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("sampler"); // empty: unknown
    // A1111's old aliases (modules/sd_samplers_kdiffusion.py) still appear in prompt files.
    QTest::newRow("k_euler_a") << u"k_euler_a"_s << u"euler_a"_s;
    QTest::newRow("k_euler_ancestral") << u"k_euler_ancestral"_s << u"euler_a"_s;
    QTest::newRow("k_euler") << u"k_euler"_s << u"euler"_s;
    QTest::newRow("k_lms") << u"k_lms"_s << u"lms"_s;
    QTest::newRow("k_dpmpp_2m") << u"k_dpmpp_2m"_s << u"dpmpp_2m"_s;
    QTest::newRow("k_dpmpp_2m_ka") << u"k_dpmpp_2m_ka"_s << u"dpmpp_2m_karras"_s;
    QTest::newRow("K_EULER_A") << u"K_EULER_A"_s << u"euler_a"_s;
    QTest::newRow("UniPC") << u"UniPC"_s << QString();
    QTest::newRow("LMS Karras") << u"LMS Karras"_s << QString();
    QTest::newRow("DPM++ SDE") << u"DPM++ SDE"_s << QString();
    QTest::newRow("heun") << u"heun"_s << QString();
    QTest::newRow("inner space") << u"Euler  a"_s << QString();
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("blank") << u"   "_s << QString();
}

void TestSamplers::names()
{
    QFETCH(QString, name);
    QFETCH(QString, sampler);
    QCOMPARE(samplerFromName(name), sampler);
    if (sampler.isEmpty()) {
        // An unknown name is written as it is, so an infotext never loses what it was given.
        QCOMPARE(a1111SamplerName(name), name);
    }
}

void TestSamplers::unknownSamplerMessageListsEveryName()
{
    const QString message = unknownSamplerMessage(u"heun", u"--scheduler");
    QCOMPARE(message,
             u"unknown sampler \"heun\" in --scheduler (known: Euler a, Euler, LMS, DDIM, PLMS, DPM++ 2M, "
             "DPM++ 2M Karras, or pndm, ddim, euler, euler_a, dpmpp_2m, dpmpp_2m_karras, lms)"_s);
    for (const QString& name : samplerNames()) {
        QVERIFY2(message.contains(a1111SamplerName(name)), qPrintable(name));
    }
    // Whatever was typed, the message stays short.
    const QString huge = unknownSamplerMessage(QString(100000, u'z'), u"sampler_name");
    QVERIFY2(huge.size() < 400, qPrintable(QString::number(huge.size())));
    QVERIFY(huge.contains(u"in sampler_name"_s));
}

QTEST_GUILESS_MAIN(TestSamplers)
#include "TestSamplers.moc"
