// SPDX-License-Identifier: GPL-3.0-or-later
// Precompiled header shared by the engine's tests: Qt Test plus the LibTorch headers they all include. Each
// test would otherwise parse LibTorch's headers on its own, which dominates a cold build on two cores.
#pragma once

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <c10/core/InferenceMode.h>
