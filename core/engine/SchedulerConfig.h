// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Atelier::Engine
{
    /// The longest training schedule the samplers accept; real models train on 1000 timesteps.
    inline constexpr std::int64_t MaxTrainTimesteps = 100000;

    /// The fields of a diffusers `scheduler/scheduler_config.json` that Atelier's samplers read.
    ///
    /// Every field is optional, as in the file: a field left empty takes the default of the scheduler class that
    /// uses it, which is what diffusers' `SchedulerClass.from_config(config)` does. That matters because the
    /// classes disagree (`timestep_spacing` is "leading" for PNDM and DDIM but "linspace" for Euler, LMS and
    /// DPM-Solver; `set_alpha_to_one` and `clip_sample` default to true for DDIM), so SD 1.5's PNDM config gives
    /// each sampler a different schedule. A JSON `null` is the same as an absent key.
    struct SchedulerConfig
    {
        std::optional<std::string> className; ///< `_class_name`, e.g. "PNDMScheduler"

        // The noise schedule of training; shared by every sampler.
        std::optional<std::int64_t> numTrainTimesteps; ///< `num_train_timesteps`
        std::optional<double> betaStart; ///< `beta_start`
        std::optional<double> betaEnd; ///< `beta_end`
        std::optional<std::string> betaSchedule; ///< `beta_schedule`: linear, scaled_linear, squaredcos_cap_v2
        std::optional<std::vector<double>> trainedBetas; ///< `trained_betas`: replaces the three above
        std::optional<bool> rescaleBetasZeroSnr; ///< `rescale_betas_zero_snr` (only false is supported)

        // How inference timesteps are laid out and what the model predicts.
        std::optional<std::string> predictionType; ///< `prediction_type`: epsilon, v_prediction, sample
        std::optional<std::string> timestepSpacing; ///< `timestep_spacing`: leading, trailing, linspace
        std::optional<std::int64_t> stepsOffset; ///< `steps_offset`

        // PNDM and DDIM.
        std::optional<bool> skipPrkSteps; ///< `skip_prk_steps` (PNDM; only true is supported)
        std::optional<bool> setAlphaToOne; ///< `set_alpha_to_one`
        std::optional<bool> clipSample; ///< `clip_sample` (DDIM)
        std::optional<double> clipSampleRange; ///< `clip_sample_range` (DDIM)
        std::optional<bool> thresholding; ///< `thresholding` (only false is supported)

        // Sigma-based samplers (Euler, Euler ancestral, LMS, DPM-Solver).
        std::optional<std::string> interpolationType; ///< `interpolation_type` (Euler; only "linear")
        std::optional<bool> useKarrasSigmas; ///< `use_karras_sigmas`
        std::optional<bool> useExponentialSigmas; ///< `use_exponential_sigmas` (only false is supported)
        std::optional<bool> useBetaSigmas; ///< `use_beta_sigmas` (only false is supported)
        std::optional<bool> useLuLambdas; ///< `use_lu_lambdas` (only false is supported)
        std::optional<bool> useFlowSigmas; ///< `use_flow_sigmas` (only false is supported)
        std::optional<double> sigmaMin; ///< `sigma_min`: lower end of Karras sigmas
        std::optional<double> sigmaMax; ///< `sigma_max`: upper end of Karras sigmas
        std::optional<std::string> timestepType; ///< `timestep_type` (Euler; only "discrete")
        std::optional<std::string> finalSigmasType; ///< `final_sigmas_type`: zero, sigma_min

        // DPM-Solver multistep.
        std::optional<std::int64_t> solverOrder; ///< `solver_order`
        std::optional<std::string> algorithmType; ///< `algorithm_type`
        std::optional<std::string> solverType; ///< `solver_type`: midpoint, heun
        std::optional<bool> lowerOrderFinal; ///< `lower_order_final`
        std::optional<bool> eulerAtFinal; ///< `euler_at_final`
        std::optional<std::string> varianceType; ///< `variance_type` (only null is supported)

        /// Parses the text of a scheduler_config.json. Unknown keys are ignored, as diffusers ignores them; keys
        /// named in `_use_default_values` are skipped, as diffusers' `from_config` skips them (a config saved
        /// after loading lists there the keys it only holds defaults for). `num_train_timesteps`, `beta_start`,
        /// `beta_end` and `beta_schedule` are required, since every config diffusers writes has them and the class
        /// defaults (DDPM's) would silently give a Stable Diffusion model the wrong noise schedule. Throws
        /// EngineError naming @p fileName and the key when the text is not a JSON object, a required key is
        /// missing, a key has the wrong type, or a value cannot work: num_train_timesteps outside 2 to
        /// MaxTrainTimesteps; beta_start or beta_end outside (0, 1) or not rising, when the schedule uses them;
        /// trained_betas outside (0, 1); steps_offset outside the training timesteps; clip_sample_range,
        /// sigma_min or sigma_max not positive and finite, or sigma_min not below sigma_max. Python's NaN,
        /// Infinity and -Infinity read as those numbers, so such a value is refused by name.
        static SchedulerConfig fromJson(const std::string& jsonText, const std::string& fileName);

        /// Reads @p path (a model's scheduler/scheduler_config.json) and parses it as fromJson does; errors name
        /// the path. Also throws when the path is not a regular file or holds more than MaxTextFileBytes.
        static SchedulerConfig fromFile(const std::filesystem::path& path);

        /// Stable Diffusion 1.5's scheduler_config.json (PNDM, scaled_linear 0.00085–0.012, steps_offset 1).
        static SchedulerConfig sd15Defaults();
    };

    /// Atelier's name for the sampler @p config's `_class_name` describes ("PNDMScheduler" → "pndm";
    /// DPMSolverMultistepScheduler → "dpmpp_2m", or "dpmpp_2m_karras" with `use_karras_sigmas`), or nothing when
    /// the class is absent or Atelier has no such sampler. This is the sampler a model ships with.
    std::optional<std::string_view> defaultSchedulerName(const SchedulerConfig& config);
} // namespace Atelier::Engine
