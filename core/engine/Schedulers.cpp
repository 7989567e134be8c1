// SPDX-License-Identifier: GPL-3.0-or-later
#include "Schedulers.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/cumprod.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/linspace.h>
#include <ATen/ops/log.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/reciprocal.h>
#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/tensor.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <initializer_list>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>

#include "EngineError.h"
#include "HostTransfer.h"

// Numerical parity with diffusers rests on two habits, kept throughout this file:
//  - Schedules (timesteps, sigmas) are computed the way NumPy computes them: in float64, with NumPy's own
//    linspace/arange/interp formulas and round-half-to-even, then stored as float32 where diffusers stores float32.
//  - Per-step scalars (alpha products, sigmas and the coefficients built from them) are 0-dim float32 tensors
//    combined with the same ATen ops in the same order as diffusers' Python, so every intermediate rounds
//    exactly as it does there; plain C++ float arithmetic could differ (FMA contraction, libm vs. ATen kernels).

namespace Atelier::Engine
{
    namespace
    {
        constexpr std::array<std::string_view, 7> SchedulerNames
            = {"pndm", "ddim", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "lms"};

        // ---- Config resolution -------------------------------------------------------------------------------

        [[noreturn]] void unsupported(std::string_view key, const std::string& value, std::string_view scheduler,
                                      const std::string& supported)
        {
            throw EngineError("The scheduler config's \"" + std::string(key) + "\" is " + value + ", which the "
                              + std::string(scheduler) + " sampler does not support (it supports " + supported + ").");
        }

        /// @p value, or @p fallback when absent; either must be one of @p allowed.
        std::string choose(const std::optional<std::string>& value, std::string_view fallback, std::string_view key,
                           std::string_view scheduler, std::initializer_list<std::string_view> allowed)
        {
            std::string chosen = value ? *value : std::string(fallback);
            if (std::find(allowed.begin(), allowed.end(), chosen) == allowed.end()) {
                std::string list;
                for (std::string_view option : allowed) {
                    list += (list.empty() ? "\"" : ", \"") + std::string(option) + "\"";
                }
                unsupported(key, "\"" + chosen + "\"", scheduler, list);
            }
            return chosen;
        }

        /// Refuses a flag that is set to the value Atelier does not implement.
        void requireFlag(const std::optional<bool>& value, bool fallback, bool supported, std::string_view key,
                         std::string_view scheduler)
        {
            if (value.value_or(fallback) != supported) {
                unsupported(key, supported ? "false" : "true", scheduler, supported ? "true" : "false");
            }
        }

        // ---- NumPy's formulas, in float64 -------------------------------------------------------------------

        /// numpy.linspace(start, stop, num) (endpoint included).
        std::vector<double> npLinspace(double start, double stop, std::int64_t num)
        {
            std::vector<double> values(static_cast<std::size_t>(std::max<std::int64_t>(num, 0)));
            if (num == 1) {
                values[0] = start;
            } else if (num > 1) {
                const auto div = static_cast<double>(num - 1);
                const double delta = stop - start;
                const double step = delta / div;
                for (std::int64_t i = 0; i < num; ++i) {
                    const auto index = static_cast<double>(i);
                    values[static_cast<std::size_t>(i)]
                        = step == 0 ? index / div * delta + start : index * step + start;
                }
                values.back() = stop;
            }
            return values;
        }

        /// numpy.arange(start, stop, step) for floating-point steps: NumPy sets the first two values and then fills
        /// start + i * (second - first), which is not always start + i * step.
        std::vector<double> npArange(double start, double stop, double step)
        {
            const double length = std::ceil((stop - start) / step);
            if (!(length > 0)) {
                return {};
            }
            std::vector<double> values(static_cast<std::size_t>(length));
            values[0] = start;
            if (values.size() > 1) {
                values[1] = start + step;
                const double delta = values[1] - values[0];
                for (std::size_t i = 2; i < values.size(); ++i) {
                    values[i] = start + static_cast<double>(i) * delta;
                }
            }
            return values;
        }

        /// numpy.round: to nearest, ties to even (the default floating-point rounding mode).
        double npRound(double value)
        {
            return std::nearbyint(value);
        }

        /// numpy.interp(x, arange(len(table)), table).
        double npInterp(double x, const std::vector<float>& table)
        {
            const auto last = static_cast<double>(table.size() - 1);
            if (x > last || x == last) {
                return table.back();
            }
            if (x < 0) {
                return table.front();
            }
            const auto j = static_cast<std::size_t>(std::floor(x));
            if (static_cast<double>(j) == x) {
                return table[j];
            }
            const double slope = (static_cast<double>(table[j + 1]) - static_cast<double>(table[j])) / 1.0;
            return slope * (x - static_cast<double>(j)) + static_cast<double>(table[j]);
        }

        /// diffusers' `_sigma_to_t`: the fractional training timestep whose log-sigma is @p sigma's, by linear
        /// interpolation in the float32 table @p logSigmas (ascending with t).
        double sigmaToT(double sigma, const std::vector<float>& logSigmas)
        {
            const double logSigma = std::log(std::max(sigma, 1e-10));
            // argmax of the cumulative count of log_sigmas <= log_sigma: the last such index, or 0 if none.
            std::size_t low = 0;
            std::size_t count = 0;
            std::size_t best = 0;
            for (std::size_t j = 0; j < logSigmas.size(); ++j) {
                if (logSigma - static_cast<double>(logSigmas[j]) >= 0) {
                    ++count;
                    if (count > best) {
                        best = count;
                        low = j;
                    }
                }
            }
            low = std::min(low, logSigmas.size() - 2);
            const std::size_t high = low + 1;
            const float lowValue = logSigmas[low];
            const float highValue = logSigmas[high];
            // NumPy subtracts the two float32 scalars in float32, then divides in float64.
            const float span = lowValue - highValue;
            double w = (static_cast<double>(lowValue) - logSigma) / static_cast<double>(span);
            w = std::clamp(w, 0.0, 1.0);
            return (1 - w) * static_cast<double>(low) + w * static_cast<double>(high);
        }

        /// Karras et al.'s noise levels (rho 7) from @p sigmaMax down to @p sigmaMin, @p count of them.
        std::vector<double> karrasSigmas(double sigmaMin, double sigmaMax, std::int64_t count)
        {
            constexpr double rho = 7.0;
            const std::vector<double> ramp = npLinspace(0, 1, count);
            const double minInvRho = std::pow(sigmaMin, 1 / rho);
            const double maxInvRho = std::pow(sigmaMax, 1 / rho);
            std::vector<double> sigmas;
            sigmas.reserve(ramp.size());
            for (double r : ramp) {
                sigmas.push_back(std::pow(maxInvRho + r * (minInvRho - maxInvRho), rho));
            }
            return sigmas;
        }

        std::vector<float> toFloatVector(const at::Tensor& tensor)
        {
            const at::Tensor contiguous = tensor.to(at::kFloat).contiguous();
            const float* data = contiguous.data_ptr<float>();
            return {data, data + contiguous.numel()};
        }

        at::Tensor scalar(double value)
        {
            return at::scalar_tensor(value, at::TensorOptions().dtype(at::kFloat));
        }

        // ---- The training noise schedule ----------------------------------------------------------------------

        /// What every sampler reads from the config: the training betas and the timestep layout.
        struct Common
        {
            std::int64_t numTrainTimesteps = 1000;
            at::Tensor alphasCumprod; ///< float32, one per training timestep
            std::string predictionType;
            std::string timestepSpacing;
            std::int64_t stepsOffset = 0;
            std::string betaSchedule;
        };

        /// The Glide cosine schedule (`betas_for_alpha_bar`).
        at::Tensor cosineBetas(std::int64_t count)
        {
            auto alphaBar = [](double t) {
                const double c = std::cos((t + 0.008) / 1.008 * std::numbers::pi / 2);
                return c * c;
            };
            std::vector<float> betas;
            for (std::int64_t i = 0; i < count; ++i) {
                const double t1 = static_cast<double>(i) / static_cast<double>(count);
                const double t2 = static_cast<double>(i + 1) / static_cast<double>(count);
                betas.push_back(static_cast<float>(std::min(1 - alphaBar(t2) / alphaBar(t1), 0.999)));
            }
            return at::tensor(betas, at::TensorOptions().dtype(at::kFloat));
        }

        Common resolveCommon(const SchedulerConfig& config, std::string_view scheduler, std::string_view defaultSpacing,
                             std::initializer_list<std::string_view> predictions)
        {
            Common common;
            common.numTrainTimesteps = config.numTrainTimesteps.value_or(1000);
            if (common.numTrainTimesteps < 2 || common.numTrainTimesteps > MaxTrainTimesteps) {
                unsupported("num_train_timesteps", std::to_string(common.numTrainTimesteps), scheduler,
                            "2 to " + std::to_string(MaxTrainTimesteps));
            }
            const double betaStart = config.betaStart.value_or(0.0001);
            const double betaEnd = config.betaEnd.value_or(0.02);
            at::Tensor betas;
            if (config.trainedBetas) {
                if (static_cast<std::int64_t>(config.trainedBetas->size()) != common.numTrainTimesteps) {
                    unsupported("trained_betas", "a list of " + std::to_string(config.trainedBetas->size()) + " values",
                                scheduler, "one value per training timestep");
                }
                // torch.tensor(list, dtype=float32): each float64 rounded to float32.
                std::vector<float> values(config.trainedBetas->begin(), config.trainedBetas->end());
                betas = at::tensor(values, at::TensorOptions().dtype(at::kFloat));
                common.betaSchedule = "trained";
            } else {
                common.betaSchedule = choose(config.betaSchedule, "linear", "beta_schedule", scheduler,
                                             {"linear", "scaled_linear", "squaredcos_cap_v2"});
                const auto options = at::TensorOptions().dtype(at::kFloat);
                if (common.betaSchedule == "linear") {
                    betas = at::linspace(betaStart, betaEnd, common.numTrainTimesteps, options);
                } else if (common.betaSchedule == "scaled_linear") {
                    // Python's `beta_start**0.5` is pow(), not sqrt().
                    betas = at::pow(at::linspace(std::pow(betaStart, 0.5), std::pow(betaEnd, 0.5),
                                                 common.numTrainTimesteps, options),
                                    2);
                } else {
                    betas = cosineBetas(common.numTrainTimesteps);
                }
            }
            common.alphasCumprod = at::cumprod(1.0 - betas, 0);
            common.predictionType = choose(config.predictionType, "epsilon", "prediction_type", scheduler, predictions);
            common.timestepSpacing = choose(config.timestepSpacing, defaultSpacing, "timestep_spacing", scheduler,
                                            {"leading", "trailing", "linspace"});
            common.stepsOffset = config.stepsOffset.value_or(0);
            return common;
        }

        void checkStepCount(int numInferenceSteps, const Common& common, std::string_view scheduler)
        {
            if (numInferenceSteps < 1 || numInferenceSteps > common.numTrainTimesteps) {
                throw EngineError("The " + std::string(scheduler) + " sampler takes 1 to "
                                  + std::to_string(common.numTrainTimesteps) + " steps, not "
                                  + std::to_string(numInferenceSteps) + ".");
            }
        }

        /// The integer timesteps of PNDM and DDIM, descending. PNDM's "linspace" and "trailing" layouts are built
        /// ascending and reversed afterwards, which gives the same values.
        std::vector<std::int64_t> integerTimesteps(const Common& common, std::int64_t count)
        {
            std::vector<std::int64_t> timesteps;
            if (common.timestepSpacing == "linspace") {
                for (double t : npLinspace(0, static_cast<double>(common.numTrainTimesteps - 1), count)) {
                    timesteps.push_back(static_cast<std::int64_t>(npRound(t)));
                }
                std::reverse(timesteps.begin(), timesteps.end());
            } else if (common.timestepSpacing == "leading") {
                const std::int64_t ratio = common.numTrainTimesteps / count;
                for (std::int64_t i = count - 1; i >= 0; --i) {
                    timesteps.push_back(i * ratio + common.stepsOffset);
                }
            } else {
                const double ratio = static_cast<double>(common.numTrainTimesteps) / static_cast<double>(count);
                for (double t : npArange(static_cast<double>(common.numTrainTimesteps), 0, -ratio)) {
                    timesteps.push_back(static_cast<std::int64_t>(npRound(t)) - 1);
                }
            }
            return timesteps;
        }

        /// The float32 timesteps of Euler, Euler ancestral and LMS, descending.
        std::vector<float> floatTimesteps(const Common& common, std::int64_t count)
        {
            std::vector<float> timesteps;
            if (common.timestepSpacing == "linspace") {
                for (double t : npLinspace(0, static_cast<double>(common.numTrainTimesteps - 1), count)) {
                    timesteps.push_back(static_cast<float>(t));
                }
                std::reverse(timesteps.begin(), timesteps.end());
            } else if (common.timestepSpacing == "leading") {
                const std::int64_t ratio = common.numTrainTimesteps / count;
                for (std::int64_t i = count - 1; i >= 0; --i) {
                    timesteps.push_back(static_cast<float>(i * ratio) + static_cast<float>(common.stepsOffset));
                }
            } else {
                const double ratio = static_cast<double>(common.numTrainTimesteps) / static_cast<double>(count);
                for (double t : npArange(static_cast<double>(common.numTrainTimesteps), 0, -ratio)) {
                    timesteps.push_back(static_cast<float>(npRound(t)) - 1.0F);
                }
            }
            return timesteps;
        }

        /// sqrt((1 - alpha_bar) / alpha_bar) per training timestep, computed in float32 as diffusers does.
        std::vector<float> trainingSigmas(const Common& common)
        {
            const at::Tensor& a = common.alphasCumprod;
            return toFloatVector(at::pow((1 - a) / a, 0.5));
        }

        /// diffusers' `final_sigmas_type="sigma_min"` value: the training sigma at t = 0, in float32.
        double sigmaAtZero(const Common& common)
        {
            const at::Tensor a = common.alphasCumprod[0];
            return at::pow((1 - a) / a, 0.5).item<float>();
        }

        /// Rounds @p sigmas to float32, as diffusers holds them: into @p rounded (for sigmas()) and as the tensor
        /// the sampler steps with.
        at::Tensor float32Sigmas(const std::vector<double>& sigmas, std::vector<double>& rounded)
        {
            rounded.clear();
            std::vector<float> sigmas32;
            for (double s : sigmas) {
                sigmas32.push_back(static_cast<float>(s));
                rounded.push_back(sigmas32.back());
            }
            return at::tensor(sigmas32, at::TensorOptions().dtype(at::kFloat));
        }

        double initNoiseSigmaFor(const std::vector<double>& sigmas, const std::string& spacing)
        {
            const double maxSigma = *std::max_element(sigmas.begin(), sigmas.end());
            if (spacing == "linspace" || spacing == "trailing") {
                return maxSigma;
            }
            return at::pow(at::pow(scalar(maxSigma), 2) + 1, 0.5).item<float>();
        }

        at::Tensor drawNoise(const at::Tensor& like, at::Generator* generator)
        {
            // As diffusers' randn_tensor: a CPU generator draws on the CPU and the noise moves to the sample's
            // device, so a seed gives the same noise on every device.
            auto options = like.options();
            if (!generator) {
                return at::randn(like.sizes(), options);
            }
            if (generator->device().is_cpu() && !like.device().is_cpu()) {
                // Drawn on the CPU generator (diffusers' order), then sent without stalling the host between steps.
                return toDevice(at::randn(like.sizes(), *generator, options.device(at::kCPU)), like.device());
            }
            if (generator->device() != like.device()) {
                throw EngineError("Cannot draw sampler noise for a tensor on " + like.device().str()
                                  + " from a generator on " + generator->device().str() + ".");
            }
            return at::randn(like.sizes(), *generator, options);
        }

        /// diffusers' PNDM/DDIM `add_noise`: sqrt(alpha_bar_t) * x + sqrt(1 - alpha_bar_t) * noise, alpha_bar in
        /// float32 at the integer @p timestep.
        at::Tensor addNoiseAtTimestep(const Common& common, double timestep, const at::Tensor& original,
                                      const at::Tensor& noise)
        {
            const at::Tensor alphaProd = common.alphasCumprod[static_cast<std::int64_t>(timestep)];
            return at::pow(alphaProd, 0.5) * original + at::pow(1 - alphaProd, 0.5) * noise;
        }

        // ---- PNDM (PLMS) ----------------------------------------------------------------------------------------

        class PndmScheduler final : public Scheduler
        {
        public:
            explicit PndmScheduler(const SchedulerConfig& config)
                : Scheduler("pndm")
                , m_common(resolveCommon(config, "pndm", "leading", {"epsilon", "v_prediction"}))
            {
                // Without skip_prk_steps diffusers first runs Runge-Kutta steps; Stable Diffusion configs always
                // skip them, and Atelier implements only the linear multistep part.
                requireFlag(config.skipPrkSteps, false, true, "skip_prk_steps", "pndm");
                m_finalAlphaCumprod
                    = config.setAlphaToOne.value_or(false) ? scalar(1.0) : m_common.alphasCumprod[0].clone();
            }

            void setTimesteps(int numInferenceSteps) override
            {
                checkStepCount(numInferenceSteps, m_common, "pndm");
                m_numInferenceSteps = numInferenceSteps;
                std::vector<std::int64_t> ascending = integerTimesteps(m_common, numInferenceSteps);
                std::reverse(ascending.begin(), ascending.end());
                // PLMS repeats the second-to-last training-order timestep: its second model evaluation refines
                // the first step instead of taking a new one.
                std::vector<std::int64_t> plms(ascending.begin(), ascending.end() - 1);
                if (ascending.size() >= 2) {
                    plms.push_back(ascending[ascending.size() - 2]);
                }
                plms.push_back(ascending.back());
                m_timesteps.assign(plms.rbegin(), plms.rend());
                m_ets.clear();
                m_counter = 0;
                m_curSample = at::Tensor();
                restart();
            }

            at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                            at::Generator* /*generator*/) override
            {
                checkStep(stepIndex, true);
                const std::int64_t ratio = m_common.numTrainTimesteps / m_numInferenceSteps;
                auto timestep = static_cast<std::int64_t>(m_timesteps[stepIndex]);
                std::int64_t prevTimestep = timestep - ratio;
                if (m_counter != 1) {
                    while (m_ets.size() > 3) {
                        m_ets.pop_front();
                    }
                    m_ets.push_back(modelOutput);
                } else {
                    prevTimestep = timestep;
                    timestep = timestep + ratio;
                }

                at::Tensor output;
                at::Tensor current = sample;
                const std::size_t n = m_ets.size();
                if (n == 1 && m_counter == 0) {
                    output = modelOutput;
                    m_curSample = sample;
                } else if (n == 1 && m_counter == 1) {
                    output = (modelOutput + m_ets[n - 1]) / 2;
                    current = m_curSample;
                    m_curSample = at::Tensor();
                } else if (n == 2) {
                    output = (m_ets[n - 1] * 3 - m_ets[n - 2]) / 2;
                } else if (n == 3) {
                    output = (m_ets[n - 1] * 23 - m_ets[n - 2] * 16 + m_ets[n - 3] * 5) / 12;
                } else {
                    output
                        = (m_ets[n - 1] * 55 - m_ets[n - 2] * 59 + m_ets[n - 3] * 37 - m_ets[n - 4] * 9) * (1.0 / 24);
                }

                at::Tensor prevSample = previousSample(current, timestep, prevTimestep, output);
                ++m_counter;
                ++m_nextStep;
                return prevSample;
            }

            at::Tensor addNoise(const at::Tensor& original, const at::Tensor& noise) const override
            {
                checkStep(m_beginIndex, false);
                return addNoiseAtTimestep(m_common, m_timesteps[m_beginIndex], original, noise);
            }

        private:
            // Formula (9) of the PNDM paper, as diffusers' `_get_prev_sample`.
            at::Tensor previousSample(const at::Tensor& sample, std::int64_t timestep, std::int64_t prevTimestep,
                                      at::Tensor modelOutput) const
            {
                const at::Tensor alphaProd = m_common.alphasCumprod[timestep];
                const at::Tensor alphaProdPrev
                    = prevTimestep >= 0 ? m_common.alphasCumprod[prevTimestep] : m_finalAlphaCumprod;
                const at::Tensor betaProd = 1 - alphaProd;
                const at::Tensor betaProdPrev = 1 - alphaProdPrev;
                if (m_common.predictionType == "v_prediction") {
                    modelOutput = at::pow(alphaProd, 0.5) * modelOutput + at::pow(betaProd, 0.5) * sample;
                }
                const at::Tensor sampleCoeff = at::pow(alphaProdPrev / alphaProd, 0.5);
                const at::Tensor denominator
                    = alphaProd * at::pow(betaProdPrev, 0.5) + at::pow(alphaProd * betaProd * alphaProdPrev, 0.5);
                return sampleCoeff * sample - (alphaProdPrev - alphaProd) * modelOutput / denominator;
            }

            Common m_common;
            at::Tensor m_finalAlphaCumprod;
            std::int64_t m_numInferenceSteps = 1;
            std::deque<at::Tensor> m_ets;
            int m_counter = 0;
            at::Tensor m_curSample;
        };

        // ---- DDIM (eta 0) ---------------------------------------------------------------------------------------

        class DdimScheduler final : public Scheduler
        {
        public:
            explicit DdimScheduler(const SchedulerConfig& config)
                : Scheduler("ddim")
                , m_common(resolveCommon(config, "ddim", "leading", {"epsilon", "sample", "v_prediction"}))
            {
                requireFlag(config.thresholding, false, false, "thresholding", "ddim");
                requireFlag(config.rescaleBetasZeroSnr, false, false, "rescale_betas_zero_snr", "ddim");
                m_clipSample = config.clipSample.value_or(true);
                m_clipSampleRange = config.clipSampleRange.value_or(1.0);
                m_finalAlphaCumprod
                    = config.setAlphaToOne.value_or(true) ? scalar(1.0) : m_common.alphasCumprod[0].clone();
            }

            void setTimesteps(int numInferenceSteps) override
            {
                checkStepCount(numInferenceSteps, m_common, "ddim");
                m_numInferenceSteps = numInferenceSteps;
                const std::vector<std::int64_t> timesteps = integerTimesteps(m_common, numInferenceSteps);
                m_timesteps.assign(timesteps.begin(), timesteps.end());
                restart();
            }

            at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                            at::Generator* /*generator*/) override
            {
                checkStep(stepIndex, false);
                const auto timestep = static_cast<std::int64_t>(m_timesteps[stepIndex]);
                // diffusers steps back by num_train_timesteps // steps whatever the spacing.
                const std::int64_t prevTimestep = timestep - m_common.numTrainTimesteps / m_numInferenceSteps;
                const at::Tensor alphaProd = m_common.alphasCumprod[timestep];
                const at::Tensor alphaProdPrev
                    = prevTimestep >= 0 ? m_common.alphasCumprod[prevTimestep] : m_finalAlphaCumprod;
                const at::Tensor betaProd = 1 - alphaProd;

                at::Tensor predOriginal;
                at::Tensor predEpsilon;
                if (m_common.predictionType == "epsilon") {
                    predOriginal = (sample - at::pow(betaProd, 0.5) * modelOutput) / at::pow(alphaProd, 0.5);
                    predEpsilon = modelOutput;
                } else if (m_common.predictionType == "sample") {
                    predOriginal = modelOutput;
                    predEpsilon = (sample - at::pow(alphaProd, 0.5) * predOriginal) / at::pow(betaProd, 0.5);
                } else {
                    predOriginal = at::pow(alphaProd, 0.5) * sample - at::pow(betaProd, 0.5) * modelOutput;
                    predEpsilon = at::pow(alphaProd, 0.5) * modelOutput + at::pow(betaProd, 0.5) * sample;
                }
                if (m_clipSample) {
                    predOriginal = predOriginal.clamp(-m_clipSampleRange, m_clipSampleRange);
                }

                // eta = 0: no noise, but diffusers still folds the (zero) standard deviation into the direction
                // term; kept so the arithmetic is the same.
                const at::Tensor betaProdPrev = 1 - alphaProdPrev;
                const at::Tensor variance = (betaProdPrev / betaProd) * (1 - alphaProd / alphaProdPrev);
                const at::Tensor stdDev = at::pow(variance, 0.5) * 0.0;
                const at::Tensor direction = at::pow(1 - alphaProdPrev - at::pow(stdDev, 2), 0.5) * predEpsilon;
                ++m_nextStep;
                return at::pow(alphaProdPrev, 0.5) * predOriginal + direction;
            }

            at::Tensor addNoise(const at::Tensor& original, const at::Tensor& noise) const override
            {
                checkStep(m_beginIndex, false);
                return addNoiseAtTimestep(m_common, m_timesteps[m_beginIndex], original, noise);
            }

        private:
            Common m_common;
            at::Tensor m_finalAlphaCumprod;
            bool m_clipSample = true;
            double m_clipSampleRange = 1.0;
            std::int64_t m_numInferenceSteps = 1;
        };

        // ---- Sigma-based samplers (Euler, Euler ancestral, LMS) ---------------------------------------------------

        /// Shared by the samplers that work in sigma space and scale the UNet input by 1 / sqrt(sigma² + 1).
        class SigmaScheduler : public Scheduler
        {
        public:
            at::Tensor scaleModelInput(const at::Tensor& sample, std::size_t stepIndex) const override
            {
                checkStep(stepIndex, false);
                const at::Tensor sigma = m_sigmaTensor[static_cast<std::int64_t>(stepIndex)];
                return sample / at::pow(at::pow(sigma, 2) + 1, 0.5);
            }

            at::Tensor addNoise(const at::Tensor& original, const at::Tensor& noise) const override
            {
                checkStep(m_beginIndex, false);
                return original + noise * m_sigmaTensor[static_cast<std::int64_t>(m_beginIndex)];
            }

        protected:
            SigmaScheduler(std::string_view name, Common common)
                : Scheduler(name)
                , m_common(std::move(common))
            { }

            /// Lays out timesteps and sigmas as Euler, Euler ancestral and LMS do. @p karras replaces the
            /// interpolated sigmas by Karras sigmas between @p sigmaMin and @p sigmaMax (when given) or the ends
            /// of the interpolated ones; @p finalSigma ends the list.
            void layOut(int numInferenceSteps, bool karras, std::optional<double> sigmaMin,
                        std::optional<double> sigmaMax, double finalSigma)
            {
                checkStepCount(numInferenceSteps, m_common, m_name);
                const std::vector<float> timesteps = floatTimesteps(m_common, numInferenceSteps);
                const std::vector<float> train = trainingSigmas(m_common);
                std::vector<double> sigmas;
                sigmas.reserve(timesteps.size() + 1);
                for (float t : timesteps) {
                    sigmas.push_back(npInterp(t, train));
                }
                m_timesteps.assign(timesteps.begin(), timesteps.end());
                if (karras) {
                    sigmas = karrasSigmas(sigmaMin.value_or(sigmas.back()), sigmaMax.value_or(sigmas.front()),
                                          numInferenceSteps);
                    std::vector<float> logSigmas;
                    for (float s : train) {
                        logSigmas.push_back(std::log(s));
                    }
                    m_timesteps.clear();
                    for (double s : sigmas) {
                        m_timesteps.push_back(static_cast<float>(sigmaToT(s, logSigmas)));
                    }
                }
                sigmas.push_back(finalSigma);
                m_sigmaTensor = float32Sigmas(sigmas, m_sigmas);
                m_initNoiseSigma = initNoiseSigmaFor(m_sigmas, m_common.timestepSpacing);
                restart();
            }

            /// The denoised sample the model output implies at noise level @p sigma.
            at::Tensor predictOriginal(const at::Tensor& modelOutput, const at::Tensor& sample,
                                       const at::Tensor& sigma) const
            {
                if (m_common.predictionType == "epsilon") {
                    return sample - sigma * modelOutput;
                }
                if (m_common.predictionType == "v_prediction") {
                    return modelOutput * (-sigma / at::pow(at::pow(sigma, 2) + 1, 0.5))
                        + sample / (at::pow(sigma, 2) + 1);
                }
                return modelOutput;
            }

            Common m_common;
            at::Tensor m_sigmaTensor;
        };

        class EulerScheduler final : public SigmaScheduler
        {
        public:
            explicit EulerScheduler(const SchedulerConfig& config)
                : SigmaScheduler("euler",
                                 resolveCommon(config, "euler", "linspace", {"epsilon", "v_prediction", "sample"}))
            {
                choose(config.interpolationType, "linear", "interpolation_type", "euler", {"linear"});
                choose(config.timestepType, "discrete", "timestep_type", "euler", {"discrete"});
                requireFlag(config.useExponentialSigmas, false, false, "use_exponential_sigmas", "euler");
                requireFlag(config.useBetaSigmas, false, false, "use_beta_sigmas", "euler");
                requireFlag(config.rescaleBetasZeroSnr, false, false, "rescale_betas_zero_snr", "euler");
                m_karras = config.useKarrasSigmas.value_or(false);
                m_sigmaMin = config.sigmaMin;
                m_sigmaMax = config.sigmaMax;
                m_finalSigmaMin
                    = choose(config.finalSigmasType, "zero", "final_sigmas_type", "euler", {"zero", "sigma_min"})
                    == "sigma_min";
            }

            void setTimesteps(int numInferenceSteps) override
            {
                layOut(numInferenceSteps, m_karras, m_sigmaMin, m_sigmaMax,
                       m_finalSigmaMin ? sigmaAtZero(m_common) : 0.0);
            }

            at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                            at::Generator* /*generator*/) override
            {
                checkStep(stepIndex, false);
                const auto index = static_cast<std::int64_t>(stepIndex);
                const at::Tensor x = sample.to(at::kFloat);
                const at::Tensor sigma = m_sigmaTensor[index];
                // s_churn is 0, so gamma is 0 and sigma_hat is sigma (times 1.0, as diffusers computes it).
                const at::Tensor sigmaHat = sigma * (0.0 + 1);
                at::Tensor predOriginal = m_common.predictionType == "epsilon" ? x - sigmaHat * modelOutput
                                                                               : predictOriginal(modelOutput, x, sigma);
                const at::Tensor derivative = (x - predOriginal) / sigmaHat;
                const at::Tensor dt = m_sigmaTensor[index + 1] - sigmaHat;
                ++m_nextStep;
                return (x + derivative * dt).to(modelOutput.scalar_type());
            }

        private:
            bool m_karras = false;
            std::optional<double> m_sigmaMin;
            std::optional<double> m_sigmaMax;
            bool m_finalSigmaMin = false;
        };

        class EulerAncestralScheduler final : public SigmaScheduler
        {
        public:
            explicit EulerAncestralScheduler(const SchedulerConfig& config)
                : SigmaScheduler("euler_a", resolveCommon(config, "euler_a", "linspace", {"epsilon", "v_prediction"}))
            {
                requireFlag(config.rescaleBetasZeroSnr, false, false, "rescale_betas_zero_snr", "euler_a");
            }

            void setTimesteps(int numInferenceSteps) override
            {
                layOut(numInferenceSteps, false, std::nullopt, std::nullopt, 0.0);
            }

            at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                            at::Generator* generator) override
            {
                checkStep(stepIndex, false);
                const auto index = static_cast<std::int64_t>(stepIndex);
                const at::Tensor sigma = m_sigmaTensor[index];
                const at::Tensor x = sample.to(at::kFloat);
                const at::Tensor predOriginal = predictOriginal(modelOutput, x, sigma);

                const at::Tensor& sigmaFrom = sigma;
                const at::Tensor sigmaTo = m_sigmaTensor[index + 1];
                const at::Tensor sigmaUp = at::pow(
                    at::pow(sigmaTo, 2) * (at::pow(sigmaFrom, 2) - at::pow(sigmaTo, 2)) / at::pow(sigmaFrom, 2), 0.5);
                const at::Tensor sigmaDown = at::pow(at::pow(sigmaTo, 2) - at::pow(sigmaUp, 2), 0.5);

                const at::Tensor derivative = (x - predOriginal) / sigma;
                const at::Tensor dt = sigmaDown - sigma;
                at::Tensor prevSample = x + derivative * dt;
                // Noise is drawn on every step, the last one included (where sigma_up is 0), so the generator
                // advances exactly as diffusers' does.
                const at::Tensor noise = drawNoise(modelOutput, generator);
                prevSample = prevSample + noise * sigmaUp;
                ++m_nextStep;
                return prevSample.to(modelOutput.scalar_type());
            }
        };

        class LmsScheduler final : public SigmaScheduler
        {
        public:
            explicit LmsScheduler(const SchedulerConfig& config)
                : SigmaScheduler("lms", resolveCommon(config, "lms", "linspace", {"epsilon", "v_prediction", "sample"}))
            {
                requireFlag(config.useExponentialSigmas, false, false, "use_exponential_sigmas", "lms");
                requireFlag(config.useBetaSigmas, false, false, "use_beta_sigmas", "lms");
                m_karras = config.useKarrasSigmas.value_or(false);
            }

            void setTimesteps(int numInferenceSteps) override
            {
                // LMS's Karras sigmas ignore sigma_min/sigma_max: the class has no such config keys.
                layOut(numInferenceSteps, m_karras, std::nullopt, std::nullopt, 0.0);
                m_derivatives.clear();
            }

            at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                            at::Generator* /*generator*/) override
            {
                checkStep(stepIndex, true);
                constexpr std::size_t maxOrder = 4;
                const at::Tensor sigma = m_sigmaTensor[static_cast<std::int64_t>(stepIndex)];
                const at::Tensor predOriginal = predictOriginal(modelOutput, sample, sigma);
                m_derivatives.push_back((sample - predOriginal) / sigma);
                if (m_derivatives.size() > maxOrder) {
                    m_derivatives.pop_front();
                }
                const std::size_t order = std::min(stepIndex + 1, maxOrder);

                // Python's sum() starts from 0 and adds coefficient * derivative, newest derivative first. zip() stops
                // at the shorter list: a run that began part-way (image to image) has fewer derivatives than its
                // order, and diffusers then applies the first coefficients of that order to the ones it has.
                at::Tensor sum;
                for (std::size_t j = 0; j < std::min(order, m_derivatives.size()); ++j) {
                    const at::Tensor term
                        = m_derivatives[m_derivatives.size() - 1 - j] * coefficient(order, stepIndex, j);
                    sum = j == 0 ? term + 0 : sum + term;
                }
                ++m_nextStep;
                return sample + sum;
            }

        private:
            /// ∫ from sigma[t] to sigma[t+1] of the Lagrange basis polynomial for node @p current over the nodes
            /// sigma[t], sigma[t-1], …, sigma[t-order+1]. diffusers integrates it numerically (scipy quad, which is
            /// exact for these cubic polynomials up to rounding); here the polynomial is integrated exactly.
            double coefficient(std::size_t order, std::size_t t, std::size_t current) const
            {
                // Polynomial coefficients in ascending powers of tau.
                std::vector<double> poly{1.0};
                const double node = m_sigmas[t - current];
                for (std::size_t k = 0; k < order; ++k) {
                    if (k == current) {
                        continue;
                    }
                    const double root = m_sigmas[t - k];
                    const double scale = node - root;
                    std::vector<double> next(poly.size() + 1, 0.0);
                    for (std::size_t p = 0; p < poly.size(); ++p) {
                        next[p + 1] += poly[p] / scale;
                        next[p] -= poly[p] * root / scale;
                    }
                    poly = std::move(next);
                }
                const double from = m_sigmas[t];
                const double to = m_sigmas[t + 1];
                double integral = 0;
                for (std::size_t p = 0; p < poly.size(); ++p) {
                    const auto power = static_cast<double>(p + 1);
                    integral += poly[p] * (std::pow(to, power) - std::pow(from, power)) / power;
                }
                return integral;
            }

            bool m_karras = false;
            std::deque<at::Tensor> m_derivatives;
        };

        // ---- DPM-Solver++ (2M) ------------------------------------------------------------------------------------

        class DpmSolverScheduler final : public Scheduler
        {
        public:
            DpmSolverScheduler(const SchedulerConfig& config, std::string_view name, bool karras)
                : Scheduler(name)
                , m_common(resolveCommon(config, name, "linspace", {"epsilon", "sample", "v_prediction"}))
                , m_karras(karras)
            {
                // The sampler's name fixes algorithm_type (dpmsolver++), solver_order (2) and use_karras_sigmas;
                // the remaining keys are read as diffusers reads them.
                requireFlag(config.thresholding, false, false, "thresholding", name);
                requireFlag(config.useExponentialSigmas, false, false, "use_exponential_sigmas", name);
                requireFlag(config.useBetaSigmas, false, false, "use_beta_sigmas", name);
                requireFlag(config.useLuLambdas, false, false, "use_lu_lambdas", name);
                requireFlag(config.useFlowSigmas, false, false, "use_flow_sigmas", name);
                requireFlag(config.rescaleBetasZeroSnr, false, false, "rescale_betas_zero_snr", name);
                if (config.varianceType) {
                    unsupported("variance_type", "\"" + *config.varianceType + "\"", name, "null");
                }
                // diffusers maps the DEIS/UniPC solver types onto midpoint.
                std::string solverType = choose(config.solverType, "midpoint", "solver_type", name,
                                                {"midpoint", "heun", "logrho", "bh1", "bh2"});
                m_heun = solverType == "heun";
                m_lowerOrderFinal = config.lowerOrderFinal.value_or(true);
                m_eulerAtFinal = config.eulerAtFinal.value_or(false);
                m_finalSigmaZero
                    = choose(config.finalSigmasType, "zero", "final_sigmas_type", name, {"zero", "sigma_min"})
                    == "zero";
            }

            void setTimesteps(int numInferenceSteps) override
            {
                checkStepCount(numInferenceSteps, m_common, m_name);
                // lambda_min_clipped is -inf by default, so no timestep is clipped: the last one is
                // num_train_timesteps.
                const std::int64_t last = m_common.numTrainTimesteps;
                const std::int64_t count = numInferenceSteps;
                std::vector<std::int64_t> timesteps;
                if (m_common.timestepSpacing == "linspace") {
                    // count + 1 points, descending, the final (0) dropped.
                    const std::vector<double> points = npLinspace(0, static_cast<double>(last - 1), count + 1);
                    for (std::int64_t i = count; i >= 1; --i) {
                        timesteps.push_back(static_cast<std::int64_t>(npRound(points[static_cast<std::size_t>(i)])));
                    }
                } else if (m_common.timestepSpacing == "leading") {
                    const std::int64_t ratio = last / (count + 1);
                    for (std::int64_t i = count; i >= 1; --i) {
                        timesteps.push_back(i * ratio + m_common.stepsOffset);
                    }
                } else {
                    const double ratio = static_cast<double>(m_common.numTrainTimesteps) / static_cast<double>(count);
                    for (double t : npArange(static_cast<double>(last), 0, -ratio)) {
                        timesteps.push_back(static_cast<std::int64_t>(npRound(t)) - 1);
                    }
                }

                const std::vector<float> train = trainingSigmas(m_common);
                std::vector<double> sigmas;
                if (m_karras) {
                    // diffusers' DPM-Solver has no sigma_min/sigma_max keys: the ends are the training sigmas'.
                    sigmas = karrasSigmas(train.front(), train.back(), count);
                    std::vector<float> logSigmas;
                    for (float s : train) {
                        logSigmas.push_back(std::log(s));
                    }
                    timesteps.clear();
                    for (double s : sigmas) {
                        const double t = sigmaToT(s, logSigmas);
                        timesteps.push_back(
                            static_cast<std::int64_t>(m_common.betaSchedule == "squaredcos_cap_v2" ? t : npRound(t)));
                    }
                } else {
                    for (std::int64_t t : timesteps) {
                        sigmas.push_back(npInterp(static_cast<double>(t), train));
                    }
                }
                sigmas.push_back(m_finalSigmaZero ? 0.0 : sigmaAtZero(m_common));

                m_timesteps.assign(timesteps.begin(), timesteps.end());
                m_sigmaTensor = float32Sigmas(sigmas, m_sigmas);
                m_initNoiseSigma = 1.0;
                m_previousOutput = at::Tensor();
                m_lowerOrderNums = 0;
                restart();
            }

            at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                            at::Generator* /*generator*/) override
            {
                checkStep(stepIndex, true);
                const std::size_t count = m_timesteps.size();
                const bool lowerOrderFinal = stepIndex == count - 1
                    && (m_eulerAtFinal || (m_lowerOrderFinal && count < 15) || m_finalSigmaZero);

                const auto index = static_cast<std::int64_t>(stepIndex);
                const at::Tensor denoised = convertModelOutput(modelOutput, sample, index);
                const at::Tensor x = sample.to(at::kFloat);
                at::Tensor prevSample;
                // diffusers' lower_order_second only caps third-order solvers; with solver_order 2 every step after
                // the first is second order unless it is the (lower-order) final one.
                if (m_lowerOrderNums < 1 || lowerOrderFinal) {
                    prevSample = firstOrderUpdate(denoised, x, index);
                } else {
                    prevSample = secondOrderUpdate(denoised, m_previousOutput, x, index);
                }
                m_previousOutput = denoised;
                m_lowerOrderNums = std::min(m_lowerOrderNums + 1, 2);
                ++m_nextStep;
                return prevSample.to(denoised.scalar_type());
            }

            at::Tensor addNoise(const at::Tensor& original, const at::Tensor& noise) const override
            {
                checkStep(m_beginIndex, false);
                const auto [alpha, sigma] = alphaSigma(static_cast<std::int64_t>(m_beginIndex));
                return alpha * original + sigma * noise;
            }

        private:
            /// alpha_t = 1 / sqrt(sigma² + 1) and sigma_t = sigma * alpha_t, as 0-dim float32 tensors.
            std::pair<at::Tensor, at::Tensor> alphaSigma(std::int64_t index) const
            {
                const at::Tensor sigma = m_sigmaTensor[index];
                at::Tensor alpha = at::reciprocal(at::pow(at::pow(sigma, 2) + 1, 0.5));
                at::Tensor sigmaT = sigma * alpha;
                return {alpha, sigmaT};
            }

            static at::Tensor lambda(const std::pair<at::Tensor, at::Tensor>& alphaSigma)
            {
                return at::log(alphaSigma.first) - at::log(alphaSigma.second);
            }

            /// The data (x0) prediction DPM-Solver++ works with.
            at::Tensor convertModelOutput(const at::Tensor& modelOutput, const at::Tensor& sample,
                                          std::int64_t index) const
            {
                const auto [alpha, sigma] = alphaSigma(index);
                if (m_common.predictionType == "epsilon") {
                    return (sample - sigma * modelOutput) / alpha;
                }
                if (m_common.predictionType == "v_prediction") {
                    return alpha * sample - sigma * modelOutput;
                }
                return modelOutput;
            }

            at::Tensor firstOrderUpdate(const at::Tensor& denoised, const at::Tensor& sample, std::int64_t index) const
            {
                const auto t = alphaSigma(index + 1);
                const auto s = alphaSigma(index);
                const at::Tensor h = lambda(t) - lambda(s);
                // With a final sigma of 0, lambda_t is +inf and this is exactly the denoised sample.
                return t.second / s.second * sample - t.first * (at::exp(-h) - 1.0) * denoised;
            }

            at::Tensor secondOrderUpdate(const at::Tensor& m0, const at::Tensor& m1, const at::Tensor& sample,
                                         std::int64_t index) const
            {
                const auto t = alphaSigma(index + 1);
                const auto s0 = alphaSigma(index);
                const auto s1 = alphaSigma(index - 1);
                const at::Tensor lambdaT = lambda(t);
                const at::Tensor lambdaS0 = lambda(s0);
                const at::Tensor lambdaS1 = lambda(s1);
                const at::Tensor h = lambdaT - lambdaS0;
                const at::Tensor h0 = lambdaS0 - lambdaS1;
                const at::Tensor r0 = h0 / h;
                const at::Tensor& d0 = m0;
                const at::Tensor d1 = at::reciprocal(r0) * (m0 - m1);
                const at::Tensor& alphaT = t.first;
                if (m_heun) {
                    return t.second / s0.second * sample - alphaT * (at::exp(-h) - 1.0) * d0
                        + alphaT * ((at::exp(-h) - 1.0) / h + 1.0) * d1;
                }
                return t.second / s0.second * sample - alphaT * (at::exp(-h) - 1.0) * d0
                    - 0.5 * (alphaT * (at::exp(-h) - 1.0)) * d1;
            }

            Common m_common;
            bool m_karras = false;
            bool m_heun = false;
            bool m_lowerOrderFinal = true;
            bool m_eulerAtFinal = false;
            bool m_finalSigmaZero = true;
            at::Tensor m_sigmaTensor;
            at::Tensor m_previousOutput;
            int m_lowerOrderNums = 0;
        };
    } // namespace

    Scheduler::Scheduler(std::string_view name)
        : m_name(name)
    { }

    Scheduler::~Scheduler() = default;

    at::Tensor Scheduler::scaleModelInput(const at::Tensor& sample, std::size_t stepIndex) const
    {
        checkStep(stepIndex, false);
        return sample;
    }

    void Scheduler::setBeginIndex(std::size_t beginIndex)
    {
        checkStep(beginIndex, false);
        if (m_nextStep != m_beginIndex) {
            throw EngineError("The " + std::string(m_name)
                              + " sampler has taken steps already: set its begin index before the first.");
        }
        m_beginIndex = beginIndex;
        m_nextStep = beginIndex;
    }

    void Scheduler::restart()
    {
        m_nextStep = 0;
        m_beginIndex = 0;
    }

    void Scheduler::checkStep(std::size_t stepIndex, bool sequential) const
    {
        if (m_timesteps.empty()) {
            throw EngineError("The " + std::string(m_name) + " sampler has no timesteps: call setTimesteps() first.");
        }
        if (stepIndex >= m_timesteps.size()) {
            throw EngineError("Step " + std::to_string(stepIndex) + " is past the " + std::to_string(m_timesteps.size())
                              + " steps the " + std::string(m_name) + " sampler planned.");
        }
        if (stepIndex < m_beginIndex) {
            throw EngineError("Step " + std::to_string(stepIndex) + " comes before step " + std::to_string(m_beginIndex)
                              + ", where this run of the " + std::string(m_name) + " sampler begins.");
        }
        if (sequential && stepIndex != m_nextStep) {
            throw EngineError("The " + std::string(m_name) + " sampler must take its steps in order: step "
                              + std::to_string(m_nextStep) + " is next, not step " + std::to_string(stepIndex) + ".");
        }
    }

    std::size_t strengthBeginIndex(const Scheduler& scheduler, int numInferenceSteps, double strength)
    {
        const auto shown = [strength] {
            std::ostringstream text;
            text << strength;
            return text.str();
        };
        if (!(strength > 0.0 && strength <= 1.0)) {
            throw EngineError("strength must be more than 0 and at most 1, got " + shown());
        }
        // Python's int(num_inference_steps * strength): the double product, truncated (100 × 0.29 is
        // 28.999999999999996, so 28 steps).
        const int initTimestep = std::min(static_cast<int>(numInferenceSteps * strength), numInferenceSteps);
        if (initTimestep < 1) {
            throw EngineError(
                "strength " + shown() + " with " + std::to_string(numInferenceSteps)
                + " steps leaves no denoising step (int(steps × strength) is 0): raise strength or steps");
        }
        const int start = std::max(numInferenceSteps - initTimestep, 0);
        return static_cast<std::size_t>(start) * static_cast<std::size_t>(scheduler.order());
    }

    std::span<const std::string_view> schedulerNames()
    {
        return SchedulerNames;
    }

    std::unique_ptr<Scheduler> makeScheduler(std::string_view name, const SchedulerConfig& config)
    {
        if (name == "pndm") {
            return std::make_unique<PndmScheduler>(config);
        }
        if (name == "ddim") {
            return std::make_unique<DdimScheduler>(config);
        }
        if (name == "euler") {
            return std::make_unique<EulerScheduler>(config);
        }
        if (name == "euler_a") {
            return std::make_unique<EulerAncestralScheduler>(config);
        }
        if (name == "dpmpp_2m") {
            return std::make_unique<DpmSolverScheduler>(config, SchedulerNames[4], false);
        }
        if (name == "dpmpp_2m_karras") {
            return std::make_unique<DpmSolverScheduler>(config, SchedulerNames[5], true);
        }
        if (name == "lms") {
            return std::make_unique<LmsScheduler>(config);
        }
        std::string valid;
        for (std::string_view known : SchedulerNames) {
            valid += (valid.empty() ? "" : ", ") + std::string(known);
        }
        throw EngineError("Unknown scheduler \"" + std::string(name) + "\"; the valid names are " + valid + ".");
    }
} // namespace Atelier::Engine
