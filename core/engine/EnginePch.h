// SPDX-License-Identifier: GPL-3.0-or-later
// Precompiled header for atelier_engine: the LibTorch headers most engine files need. Parsing them takes
// most of a LibTorch file's compile time, so they are parsed once per build instead of once per file.
#pragma once

#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
