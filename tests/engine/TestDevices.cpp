// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTest>

#include "TestConfig.h"
#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/FusedKernels.h"
#include "engine/Pipeline.h"
#include "engine/RuntimeInfo.h"

#include <ATen/Context.h>
#include <ATen/SDPBackend.h>

#include <algorithm>

using namespace Atelier::Engine;

Q_DECLARE_METATYPE(std::optional<DeviceSpec>)

class TestDevices final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseDevice_data();
    void parseDevice();
    void listsTheCpuFirst();
    void runsTheLibTorchWeBuiltAgainst();
    void cudaMathFollowsThePrecision_data();
    void cudaMathFollowsThePrecision();
    void attentionPreferenceGoesFirst_data();
    void attentionPreferenceGoesFirst();
    void fusedKernelSetsParse_data();
    void fusedKernelSetsParse();
    void vaeLayoutFollowsTheGroupNormKernel();
};

void TestDevices::parseDevice_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<std::optional<DeviceSpec>>("expected");
    QTest::addColumn<QString>("errorFragment");
    using K = DeviceSpec::Kind;
    QTest::newRow("cpu") << QStringLiteral("cpu") << std::optional(DeviceSpec{K::Cpu, 0}) << QString();
    QTest::newRow("cuda") << QStringLiteral("cuda") << std::optional(DeviceSpec{K::Cuda, 0}) << QString();
    QTest::newRow("cuda:0") << QStringLiteral("cuda:0") << std::optional(DeviceSpec{K::Cuda, 0}) << QString();
    QTest::newRow("cuda:13") << QStringLiteral("cuda:13") << std::optional(DeviceSpec{K::Cuda, 13}) << QString();
    QTest::newRow("gpu") << QStringLiteral("gpu") << std::optional<DeviceSpec>() << QStringLiteral("unknown device");
    QTest::newRow("CPU upper case") << QStringLiteral("CPU") << std::optional<DeviceSpec>()
                                    << QStringLiteral("unknown device");
    QTest::newRow("cuda: empty") << QStringLiteral("cuda:") << std::optional<DeviceSpec>()
                                 << QStringLiteral("bad CUDA device index");
    QTest::newRow("cuda:-1") << QStringLiteral("cuda:-1") << std::optional<DeviceSpec>()
                             << QStringLiteral("bad CUDA device index");
    QTest::newRow("cuda:1x") << QStringLiteral("cuda:1x") << std::optional<DeviceSpec>()
                             << QStringLiteral("bad CUDA device index");
    QTest::newRow("cuda:overflow") << QStringLiteral("cuda:99999999999999") << std::optional<DeviceSpec>()
                                   << QStringLiteral("bad CUDA device index");
}

void TestDevices::parseDevice()
{
    QFETCH(QString, text);
    QFETCH(std::optional<DeviceSpec>, expected);
    QFETCH(QString, errorFragment);
    std::string error;
    const auto parsed = Atelier::Engine::parseDevice(text.toStdString(), &error);
    QCOMPARE(parsed.has_value(), expected.has_value());
    if (expected) {
        QVERIFY(*parsed == *expected);
        QCOMPARE(QString::fromStdString(parsed->toString()),
                 text == QLatin1String("cuda") ? QStringLiteral("cuda:0") : text);
    } else {
        QVERIFY2(QString::fromStdString(error).contains(errorFragment), error.c_str());
        QVERIFY2(QString::fromStdString(error).contains(text), error.c_str());
    }
}

void TestDevices::listsTheCpuFirst()
{
    const auto devices = listDevices();
    QVERIFY(!devices.empty());
    QVERIFY(devices.front().spec == (DeviceSpec{DeviceSpec::Kind::Cpu, 0}));
    QVERIFY(!devices.front().name.empty());
    // The CPU's memory is the machine's RAM; any machine that builds Atelier has more than 256 MiB.
    QVERIFY(devices.front().totalMemory > 256ull * 1024 * 1024);
    QCOMPARE(static_cast<int>(devices.size()), 1 + cudaDeviceCount());
    for (std::size_t i = 1; i < devices.size(); ++i) {
        QVERIFY(devices[i].spec == (DeviceSpec{DeviceSpec::Kind::Cuda, static_cast<int>(i - 1)}));
        QVERIFY(devices[i].totalMemory > 0);
    }
}

void TestDevices::runsTheLibTorchWeBuiltAgainst()
{
    QCOMPARE(QString::fromStdString(torchVersion()), QStringLiteral(ATELIER_PIN_TORCH));
    QVERIFY(cpuThreads() >= 1);
}

void TestDevices::cudaMathFollowsThePrecision_data()
{
    QTest::addColumn<int>("dtype");
    QTest::addColumn<bool>("tune");
    QTest::addColumn<bool>("tf32Convolutions");
    // An artist who picks fp32 gets fp32 arithmetic: TF32 convolutions missed diffusers' goldens by up to 0.1.
    QTest::newRow("fp32, queue") << int(at::kFloat) << true << false;
    QTest::newRow("fp32, one image") << int(at::kFloat) << false << false;
    // In half-precision runs only float32 VAE decodes see TF32, and their output is rounded to 8 bits.
    QTest::newRow("fp16") << int(at::kHalf) << true << true;
    QTest::newRow("bf16") << int(at::kBFloat16) << true << true;
}

void TestDevices::cudaMathFollowsThePrecision()
{
    QFETCH(int, dtype);
    QFETCH(bool, tune);
    QFETCH(bool, tf32Convolutions);
    // The switches live in LibTorch's global context, which builds without CUDA have too.
    at::Context& context = at::globalContext();
    context.setAllowTF32CuDNN(!tf32Convolutions);
    context.setAllowTF32CuBLAS(true);
    context.setBenchmarkCuDNN(!tune);
    configureCudaMath(static_cast<at::ScalarType>(dtype), tune);
    QCOMPARE(context.allowTF32CuDNN(), tf32Convolutions);
    QCOMPARE(context.allowTF32CuBLAS(), false);
    QCOMPARE(context.benchmarkCuDNN(), tune);
    context.setBenchmarkCuDNN(false);
}

void TestDevices::attentionPreferenceGoesFirst_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("first"); ///< the SDP backend tried first; -1: LibTorch's own order
    QTest::newRow("cudnn") << QStringLiteral("cudnn") << int(at::SDPBackend::cudnn_attention);
    QTest::newRow("flash") << QStringLiteral("flash") << int(at::SDPBackend::flash_attention);
    QTest::newRow("efficient") << QStringLiteral("efficient") << int(at::SDPBackend::efficient_attention);
    QTest::newRow("math") << QStringLiteral("math") << int(at::SDPBackend::math);
    QTest::newRow("default restores LibTorch's order") << QStringLiteral("default") << -1;
    QTest::newRow("unknown name") << QStringLiteral("fa3") << -2;
}

void TestDevices::attentionPreferenceGoesFirst()
{
    QFETCH(QString, name);
    QFETCH(int, first);
    const std::optional<AttentionKernel> kernel = parseAttentionKernel(name.toStdString());
    if (first == -2) {
        QVERIFY(!kernel);
        return;
    }
    QVERIFY(kernel);
    QCOMPARE(QString::fromStdString(attentionKernelName(*kernel)), name);
    at::Context& context = at::globalContext();
    const auto original = context.sDPPriorityOrder();
    preferAttentionKernel(*kernel);
    const auto order = context.sDPPriorityOrder();
    preferAttentionKernel(AttentionKernel::Default);
    QVERIFY(context.sDPPriorityOrder() == original);
    if (first == -1) {
        QVERIFY(order == original);
        return;
    }
    QCOMPARE(int(order.front()), first);
    // Every other kernel stays behind it, in LibTorch's order, for calls the preferred one cannot take.
    for (const at::SDPBackend backend : original) {
        QVERIFY(std::count(order.begin(), order.end(), backend) == 1);
    }
}

void TestDevices::fusedKernelSetsParse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("set"); ///< -1: refused
    QTest::addColumn<QString>("name"); ///< fusedKernelsName() of the set
    QTest::newRow("all") << QStringLiteral("all") << int(AllFusedKernels)
                         << QStringLiteral("groupnorm,geglu,normoffset,biasresidual,layernorm");
    QTest::newRow("on means all") << QStringLiteral("on") << int(AllFusedKernels)
                                  << QStringLiteral("groupnorm,geglu,normoffset,biasresidual,layernorm");
    QTest::newRow("none") << QStringLiteral("none") << 0 << QStringLiteral("none");
    QTest::newRow("0 means none") << QStringLiteral("0") << 0 << QStringLiteral("none");
    QTest::newRow("one kernel") << QStringLiteral("layernorm") << int(FusedKernel::LayerNorm)
                                << QStringLiteral("layernorm");
    QTest::newRow("a list, in any order")
        << QStringLiteral("geglu,groupnorm") << int(unsigned(FusedKernel::GroupNorm) | unsigned(FusedKernel::Geglu))
        << QStringLiteral("groupnorm,geglu");
    QTest::newRow("unknown kernel") << QStringLiteral("groupnorm,flash") << -1 << QString();
    QTest::newRow("empty name in the list") << QStringLiteral("groupnorm,") << -1 << QString();
    QTest::newRow("case matters") << QStringLiteral("GroupNorm") << -1 << QString();
}

void TestDevices::fusedKernelSetsParse()
{
    QFETCH(QString, text);
    QFETCH(int, set);
    QFETCH(QString, name);
    const std::optional<FusedKernelSet> parsed = parseFusedKernels(text.toStdString());
    if (set < 0) {
        QVERIFY(!parsed);
        return;
    }
    QVERIFY(parsed);
    QCOMPARE(int(*parsed), set);
    QCOMPARE(QString::fromStdString(fusedKernelsName(*parsed)), name);
    // And back: the name parses to the same set, as gpu-check relies on when it passes a set along.
    QCOMPARE(parseFusedKernels(fusedKernelsName(*parsed)).value_or(AllFusedKernels + 1), *parsed);
}

void TestDevices::vaeLayoutFollowsTheGroupNormKernel()
{
    // The CPU never lays the VAE out channels-last, kernels or not: oneDNN's GroupNorm wants NCHW.
    const FusedKernelSet before = fusedKernels();
    setFusedKernels(AllFusedKernels);
    QVERIFY(!ModelPlacement::forDevice(at::Device(at::kCPU), at::kFloat).vaeChannelsLast);
    QVERIFY(!ModelPlacement::forDevice(at::Device(at::kCPU), at::kHalf).vaeChannelsLast);
    setFusedKernels(before);
}

QTEST_GUILESS_MAIN(TestDevices)
#include "TestDevices.moc"
