// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "SchedulerConfig.h"

namespace Atelier::Engine
{
    /// A Stable Diffusion sampler: turns the UNet's predictions into the next, less noisy latents. Each one
    /// reproduces the Hugging Face diffusers 0.40 scheduler of the same name, operation by operation in float32
    /// (scalars are 0-dim float32 tensors where diffusers uses tensors), so a run matches diffusers' to rounding.
    ///
    /// One denoising run:
    /// @code
    /// auto scheduler = makeScheduler("euler_a", SchedulerConfig::sd15Defaults());
    /// scheduler->setTimesteps(20);
    /// at::Tensor x = noise * scheduler->initNoiseSigma();
    /// for (std::size_t i = 0; i < scheduler->timesteps().size(); ++i) {
    ///     at::Tensor eps = unet(scheduler->scaleModelInput(x, i), scheduler->timesteps()[i], text);
    ///     x = scheduler->step(eps, i, x, &generator);
    /// }
    /// @endcode
    ///
    /// step() must be called once per timestep, in order (PNDM, LMS and DPM-Solver remember earlier steps);
    /// setTimesteps() starts a new run.
    ///
    /// Image to image starts part-way through the schedule, as diffusers' StableDiffusionImg2ImgPipeline does:
    /// @code
    /// scheduler->setTimesteps(steps);
    /// scheduler->setBeginIndex(strengthBeginIndex(*scheduler, steps, strength));
    /// at::Tensor x = scheduler->addNoise(imageLatents, noise);
    /// for (std::size_t i = scheduler->beginIndex(); i < scheduler->timesteps().size(); ++i) { … as above … }
    /// @endcode
    class Scheduler
    {
    public:
        virtual ~Scheduler();
        Scheduler(const Scheduler&) = delete;
        Scheduler& operator=(const Scheduler&) = delete;

        /// Atelier's name of this sampler ("pndm", "euler_a", …).
        std::string_view name() const { return m_name; }

        /// Plans a run of @p numInferenceSteps model evaluations (PNDM plans one more, as diffusers does) and
        /// forgets the state of any earlier run. Throws EngineError when the count is out of range.
        virtual void setTimesteps(int numInferenceSteps) = 0;

        /// The timesteps to give the UNet, one per step, as diffusers' `scheduler.timesteps`. They are integers for
        /// PNDM, DDIM and DPM-Solver and float32 values for Euler, Euler ancestral and LMS (999, 946.42108…), which
        /// is why they are doubles: every value is exactly the float32 or int64 diffusers holds.
        const std::vector<double>& timesteps() const { return m_timesteps; }

        /// The noise levels of the sigma-based samplers, one per timestep plus the final one, as float32 values
        /// (diffusers' `scheduler.sigmas`); empty for PNDM and DDIM.
        const std::vector<double>& sigmas() const { return m_sigmas; }

        /// The factor that scales unit-variance initial noise (float32 value; 1 for PNDM, DDIM and DPM-Solver).
        double initNoiseSigma() const { return m_initNoiseSigma; }

        /// diffusers' `scheduler.order`, the model evaluations per step, in which image to image counts the steps it
        /// skips: 1 for every sampler Atelier has (PNDM's repeated timestep is a step of its own; only Heun-style
        /// samplers, which Atelier does not have, are 2).
        int order() const { return 1; }

        /// Starts the planned run at step @p beginIndex instead of 0, as diffusers' `set_begin_index` (image to
        /// image): the first step() and scaleModelInput() then take @p beginIndex, and addNoise() noises to that
        /// step's level. The samplers' state still starts empty, and indices stay those of the whole schedule (a
        /// multistep sampler's coefficients at step 4 are those of step 4, as diffusers computes them).
        /// setTimesteps() resets it to 0. Throws EngineError when @p beginIndex is not a planned step or a step was
        /// already taken.
        void setBeginIndex(std::size_t beginIndex);
        /// The first step of the run: 0, or what setBeginIndex() set.
        std::size_t beginIndex() const { return m_beginIndex; }

        /// @p original noised with @p noise to the level of step beginIndex(), as diffusers'
        /// `add_noise(original, noise, timesteps[begin])` for the sampler: original + σ·noise for Euler, Euler
        /// ancestral and LMS; α·original + σ·α·noise with α = 1/√(σ² + 1) for DPM-Solver; √ᾱ·original + √(1−ᾱ)·noise
        /// for PNDM and DDIM, ᾱ the training alpha product at the step's timestep. The same float32 operations in
        /// the same order as diffusers, in @p original's dtype and on its device (@p noise must be there too).
        /// Throws EngineError when called before setTimesteps().
        virtual at::Tensor addNoise(const at::Tensor& original, const at::Tensor& noise) const = 0;

        /// The UNet's input for step @p stepIndex: @p sample divided by sqrt(sigma² + 1) for the sigma-based
        /// samplers, @p sample itself otherwise.
        virtual at::Tensor scaleModelInput(const at::Tensor& sample, std::size_t stepIndex) const;

        /// Advances @p sample by step @p stepIndex given the UNet's @p modelOutput and returns the previous (less
        /// noisy) sample in @p modelOutput's dtype. Samplers that add noise (Euler ancestral) draw it with
        /// at::randn from @p generator, one tensor of @p modelOutput's shape per step, exactly as diffusers'
        /// `randn_tensor` does: on the generator's device when that is the CPU (then moved), else on the
        /// sample's; nullptr uses LibTorch's default generator. Throws EngineError when called before
        /// setTimesteps() or out of order.
        virtual at::Tensor step(const at::Tensor& modelOutput, std::size_t stepIndex, const at::Tensor& sample,
                                at::Generator* generator = nullptr)
            = 0;

    protected:
        explicit Scheduler(std::string_view name);
        /// Checks @p stepIndex against the planned run; @p sequential also requires it to be the next step.
        void checkStep(std::size_t stepIndex, bool sequential) const;
        /// Forgets the progress of an earlier run: the next step is the first, the begin index 0.
        void restart();

        std::string_view m_name;
        std::vector<double> m_timesteps;
        std::vector<double> m_sigmas;
        double m_initNoiseSigma = 1.0;
        std::size_t m_nextStep = 0;
        std::size_t m_beginIndex = 0;
    };

    /// The step an image-to-image run of @p strength starts at, after setTimesteps(@p numInferenceSteps): diffusers'
    /// img2img `get_timesteps`, init_timestep = min(int(steps·strength), steps) (truncated, in double precision as
    /// Python computes it), t_start = max(steps − init_timestep, 0), begin = t_start·order(). PNDM plans one timestep
    /// more than its steps, so it always runs one evaluation more than the others. Throws EngineError, naming
    /// strength, when it is not in (0, 1] or leaves no step (int(steps·strength) = 0).
    std::size_t strengthBeginIndex(const Scheduler& scheduler, int numInferenceSteps, double strength);

    /// The sampler names makeScheduler() accepts: pndm, ddim, euler, euler_a, dpmpp_2m, dpmpp_2m_karras, lms.
    std::span<const std::string_view> schedulerNames();

    /// A new sampler called @p name (see schedulerNames()) configured from @p config the way diffusers'
    /// `Class.from_config(config)` would be: "pndm" PNDMScheduler (PLMS, needs skip_prk_steps), "ddim"
    /// DDIMScheduler (eta 0), "euler" EulerDiscreteScheduler, "euler_a" EulerAncestralDiscreteScheduler,
    /// "dpmpp_2m" DPMSolverMultistepScheduler with algorithm_type dpmsolver++ and solver_order 2, and
    /// "dpmpp_2m_karras" the same with use_karras_sigmas, "lms" LMSDiscreteScheduler (order 4).
    /// Throws EngineError for an unknown name (listing the valid ones) and for config values Atelier does not
    /// support (naming the key).
    std::unique_ptr<Scheduler> makeScheduler(std::string_view name, const SchedulerConfig& config);
} // namespace Atelier::Engine
