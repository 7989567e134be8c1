// SPDX-License-Identifier: GPL-3.0-or-later
#include "SchedulerConfig.h"

#include <cmath>
#include <set>

#include "ConfigParsing.h"
#include "EngineError.h"
#include "ModelFiles.h"

namespace Atelier::Engine
{
    namespace
    {
        using Json = nlohmann::json;

        class Reader
        {
        public:
            Reader(const Json& object, const std::string& fileName)
                : m_object(object)
                , m_fileName(fileName)
            {
                if (const auto it = object.find("_use_default_values"); it != object.end() && !it->is_null()) {
                    if (!it->is_array()) {
                        fail("_use_default_values", "must be a list of key names");
                    }
                    for (const Json& key : *it) {
                        if (!key.is_string()) {
                            fail("_use_default_values", "must be a list of key names");
                        }
                        m_defaulted.insert(key.get<std::string>());
                    }
                }
            }

            [[noreturn]] void fail(const std::string& key, const std::string& problem) const
            {
                throw EngineError(m_fileName + ": \"" + key + "\" " + problem + ".");
            }

            [[noreturn]] void refuse(const std::string& field, const std::string& requirement,
                                     const std::string& value) const
            {
                refuseConfigValue(m_fileName, field, requirement, value);
            }

            /// The value of @p key, or nullptr when it is absent, null, or listed in `_use_default_values`.
            const Json* find(const std::string& key) const
            {
                if (m_defaulted.contains(key)) {
                    return nullptr;
                }
                const auto it = m_object.find(key);
                return it == m_object.end() || it->is_null() ? nullptr : &*it;
            }

            void integer(const std::string& key, std::optional<std::int64_t>& out) const
            {
                if (const Json* value = find(key)) {
                    if (!value->is_number_integer()) {
                        fail(key, "must be an integer, not " + describe(*value));
                    }
                    out = value->get<std::int64_t>();
                }
            }

            void number(const std::string& key, std::optional<double>& out) const
            {
                if (const Json* value = find(key)) {
                    if (!value->is_number()) {
                        fail(key, "must be a number, not " + describe(*value));
                    }
                    out = value->get<double>();
                }
            }

            void boolean(const std::string& key, std::optional<bool>& out) const
            {
                if (const Json* value = find(key)) {
                    if (!value->is_boolean()) {
                        fail(key, "must be true or false, not " + describe(*value));
                    }
                    out = value->get<bool>();
                }
            }

            void string(const std::string& key, std::optional<std::string>& out) const
            {
                if (const Json* value = find(key)) {
                    if (!value->is_string()) {
                        fail(key, "must be a string, not " + describe(*value));
                    }
                    out = value->get<std::string>();
                }
            }

            void numbers(const std::string& key, std::optional<std::vector<double>>& out) const
            {
                if (const Json* value = find(key)) {
                    if (!value->is_array()) {
                        fail(key, "must be a list of numbers, not " + describe(*value));
                    }
                    std::vector<double> result;
                    result.reserve(value->size());
                    for (const Json& item : *value) {
                        if (!item.is_number()) {
                            fail(key, "must be a list of numbers, but holds " + describe(item));
                        }
                        result.push_back(item.get<double>());
                    }
                    out = std::move(result);
                }
            }

            void require(const std::string& key) const
            {
                if (!find(key)) {
                    fail(key, "is missing (every Stable Diffusion scheduler config sets it)");
                }
            }

        private:
            static std::string describe(const Json& value)
            {
                switch (value.type()) {
                case Json::value_t::string:
                    return "the string " + value.dump();
                case Json::value_t::boolean:
                    return value.get<bool>() ? "true" : "false";
                case Json::value_t::array:
                    return "a list";
                case Json::value_t::object:
                    return "an object";
                case Json::value_t::number_float:
                    return formatConfigNumber(value.get<double>()); // dump() would write NaN as null
                default:
                    return value.dump();
                }
            }

            const Json& m_object;
            const std::string& m_fileName;
            std::set<std::string, std::less<>> m_defaulted;
        };

        /// Refuses values no sampler can work with, which would otherwise render black or garbled images: betas
        /// outside (0, 1) or not rising, a training schedule too short or long, non-positive noise levels.
        void validate(const SchedulerConfig& config, const Reader& reader)
        {
            const std::int64_t trainSteps = *config.numTrainTimesteps;
            if (trainSteps < 2 || trainSteps > MaxTrainTimesteps) {
                reader.refuse("num_train_timesteps", "an integer from 2 to " + std::to_string(MaxTrainTimesteps),
                              std::to_string(trainSteps));
            }
            // The training betas come from beta_start and beta_end unless trained_betas lists them or the cosine
            // schedule derives them; a value that is not used cannot break anything.
            const bool betasFromRange = !config.trainedBetas && config.betaSchedule != "squaredcos_cap_v2";
            if (betasFromRange) {
                for (const auto& [key, value] :
                     {std::pair{"beta_start", *config.betaStart}, std::pair{"beta_end", *config.betaEnd}}) {
                    if (!(value > 0 && value < 1)) { // NaN fails too
                        reader.refuse(key, "a number in (0, 1)", formatConfigNumber(value));
                    }
                }
                if (!(*config.betaStart < *config.betaEnd)) {
                    reader.refuse("beta_start",
                                  "below beta_end (" + formatConfigNumber(*config.betaEnd) + ") for the \""
                                      + *config.betaSchedule + "\" schedule",
                                  formatConfigNumber(*config.betaStart));
                }
            }
            if (config.trainedBetas) {
                for (std::size_t i = 0; i < config.trainedBetas->size(); ++i) {
                    const double beta = (*config.trainedBetas)[i];
                    if (!(beta > 0 && beta < 1)) {
                        reader.refuse("trained_betas[" + std::to_string(i) + "]", "a number in (0, 1)",
                                      formatConfigNumber(beta));
                    }
                }
            }
            if (config.stepsOffset && (*config.stepsOffset < 0 || *config.stepsOffset >= trainSteps)) {
                reader.refuse("steps_offset", "an integer from 0 to " + std::to_string(trainSteps - 1),
                              std::to_string(*config.stepsOffset));
            }
            for (const auto& [key, value] :
                 {std::pair{"clip_sample_range", config.clipSampleRange}, std::pair{"sigma_min", config.sigmaMin},
                  std::pair{"sigma_max", config.sigmaMax}}) {
                if (value && !(std::isfinite(*value) && *value > 0)) {
                    reader.refuse(key, "a positive number", formatConfigNumber(*value));
                }
            }
            if (config.sigmaMin && config.sigmaMax && !(*config.sigmaMin < *config.sigmaMax)) {
                reader.refuse("sigma_min", "below sigma_max (" + formatConfigNumber(*config.sigmaMax) + ")",
                              formatConfigNumber(*config.sigmaMin));
            }
        }
    } // namespace

    SchedulerConfig SchedulerConfig::fromJson(const std::string& jsonText, const std::string& fileName)
    {
        Json json;
        try {
            json = parsePythonJson(jsonText);
        } catch (const Json::parse_error& error) {
            throw EngineError(fileName + " is not valid JSON: " + error.what());
        }
        if (!json.is_object()) {
            throw EngineError(fileName + " must hold a JSON object.");
        }

        const Reader reader(json, fileName);
        for (const char* key : {"num_train_timesteps", "beta_start", "beta_end", "beta_schedule"}) {
            reader.require(key);
        }

        SchedulerConfig config;
        reader.string("_class_name", config.className);
        reader.integer("num_train_timesteps", config.numTrainTimesteps);
        reader.number("beta_start", config.betaStart);
        reader.number("beta_end", config.betaEnd);
        reader.string("beta_schedule", config.betaSchedule);
        reader.numbers("trained_betas", config.trainedBetas);
        reader.boolean("rescale_betas_zero_snr", config.rescaleBetasZeroSnr);
        reader.string("prediction_type", config.predictionType);
        reader.string("timestep_spacing", config.timestepSpacing);
        reader.integer("steps_offset", config.stepsOffset);
        reader.boolean("skip_prk_steps", config.skipPrkSteps);
        reader.boolean("set_alpha_to_one", config.setAlphaToOne);
        reader.boolean("clip_sample", config.clipSample);
        reader.number("clip_sample_range", config.clipSampleRange);
        reader.boolean("thresholding", config.thresholding);
        reader.string("interpolation_type", config.interpolationType);
        reader.boolean("use_karras_sigmas", config.useKarrasSigmas);
        reader.boolean("use_exponential_sigmas", config.useExponentialSigmas);
        reader.boolean("use_beta_sigmas", config.useBetaSigmas);
        reader.boolean("use_lu_lambdas", config.useLuLambdas);
        reader.boolean("use_flow_sigmas", config.useFlowSigmas);
        reader.number("sigma_min", config.sigmaMin);
        reader.number("sigma_max", config.sigmaMax);
        reader.string("timestep_type", config.timestepType);
        reader.string("final_sigmas_type", config.finalSigmasType);
        reader.integer("solver_order", config.solverOrder);
        reader.string("algorithm_type", config.algorithmType);
        reader.string("solver_type", config.solverType);
        reader.boolean("lower_order_final", config.lowerOrderFinal);
        reader.boolean("euler_at_final", config.eulerAtFinal);
        reader.string("variance_type", config.varianceType);
        validate(config, reader);
        return config;
    }

    SchedulerConfig SchedulerConfig::fromFile(const std::filesystem::path& path)
    {
        std::error_code error;
        if (!std::filesystem::exists(path, error)) {
            throw EngineError(path.string() + ": cannot read the file (is the model folder complete?)");
        }
        return fromJson(readTextFile(path), path.string());
    }

    SchedulerConfig SchedulerConfig::sd15Defaults()
    {
        SchedulerConfig config;
        config.className = "PNDMScheduler";
        config.numTrainTimesteps = 1000;
        config.betaStart = 0.00085;
        config.betaEnd = 0.012;
        config.betaSchedule = "scaled_linear";
        config.setAlphaToOne = false;
        config.skipPrkSteps = true;
        config.stepsOffset = 1;
        config.clipSample = false;
        return config;
    }

    std::optional<std::string_view> defaultSchedulerName(const SchedulerConfig& config)
    {
        if (!config.className) {
            return std::nullopt;
        }
        const std::string& name = *config.className;
        if (name == "PNDMScheduler") {
            return "pndm";
        }
        if (name == "DDIMScheduler") {
            return "ddim";
        }
        if (name == "EulerDiscreteScheduler") {
            return "euler";
        }
        if (name == "EulerAncestralDiscreteScheduler") {
            return "euler_a";
        }
        if (name == "LMSDiscreteScheduler") {
            return "lms";
        }
        if (name == "DPMSolverMultistepScheduler") {
            return config.useKarrasSigmas.value_or(false) ? "dpmpp_2m_karras" : "dpmpp_2m";
        }
        return std::nullopt;
    }
} // namespace Atelier::Engine
