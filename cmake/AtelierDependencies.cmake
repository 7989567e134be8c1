# Finds Qt, QCoro, nlohmann-json, ICU, LibTorch (from the torch wheel), and CUDA/NCCL when present.
# Records what was found in ATELIER_* variables that core/BuildConfig.h.in turns into the version report.
# With ATELIER_ENGINE_ONLY, Qt and QCoro are not looked for at all, so nothing Qt can leak into the engine's build.

if(NOT ATELIER_ENGINE_ONLY)
    find_package(Qt6 ${ATELIER_PIN_QT} REQUIRED COMPONENTS Core Gui Widgets Network Sql Test LinguistTools)
    find_package(QCoro6 ${ATELIER_PIN_QCORO} REQUIRED COMPONENTS Core Network)
    find_package(ZLIB REQUIRED)
endif()
# Both also come from CMAKE_PREFIX_PATH / ICU_ROOT, which is how scripts/gpu-check points at the copies it carries.
find_package(nlohmann_json 3.10 REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc)
if(NOT ATELIER_ENGINE_ONLY)
    qt_standard_project_setup()
    set(CMAKE_AUTORCC ON)
endif()

# ---- CUDA toolkit and NCCL ------------------------------------------------------------------------------
set(ATELIER_HAVE_CUDA OFF)
set(ATELIER_HAVE_NCCL OFF)
set(ATELIER_CUDA_VERSION "")
set(ATELIER_NCCL_VERSION "")
if(NOT ATELIER_WITH_CUDA STREQUAL "OFF")
    if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
        set(CUDAToolkit_ROOT /usr/local/cuda)
    endif()
    find_package(CUDAToolkit QUIET)
    if(CUDAToolkit_FOUND)
        set(ATELIER_HAVE_CUDA ON)
        set(ATELIER_CUDA_VERSION "${CUDAToolkit_VERSION}")
        # The engine's own kernels must launch through the libcudart LibTorch loads, on its streams: every target
        # that links them gets the shared runtime, never a static copy of its own.
        set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
    elseif(ATELIER_WITH_CUDA STREQUAL "ON")
        message(FATAL_ERROR "ATELIER_WITH_CUDA=ON but no CUDA toolkit was found (set CUDAToolkit_ROOT)")
    endif()
endif()

# NCCL: the copy torch itself loads comes first (the nvidia-nccl wheel beside torch, which libtorch_cuda's RPATH
# names), since linking an older system NCCL would leave torch's newer NCCL symbols unresolved.
# That lookup needs to know where torch is, so it happens after LibTorch is found below.
# ---- LibTorch -------------------------------------------------------------------------------------------
# The torch wheel carries LibTorch and its CMake package; torch.utils.cmake_prefix_path names it. We compute
# that path the same way torch.utils does, without importing torch (which would load every CUDA library).
# Without that Python, a LibTorch given as -DTorch_DIR=<root>/share/cmake/Torch (a wheel's or a LibTorch
# archive's; both lay out share/cmake, lib and include alike under their root) serves. The Python comes first
# because find_package(Torch) below caches Torch_DIR: a later change of ATELIER_PYTHON must still win.
if(NOT EXISTS "${ATELIER_PYTHON}" AND Torch_DIR AND EXISTS "${Torch_DIR}/TorchConfigVersion.cmake")
    get_filename_component(ATELIER_TORCH_CMAKE_PREFIX "${Torch_DIR}/.." ABSOLUTE)
    file(STRINGS "${Torch_DIR}/TorchConfigVersion.cmake" _torch_version_line REGEX "set\\(PACKAGE_VERSION \"")
    string(REGEX MATCH "\"([^\"]+)\"" _ "${_torch_version_line}")
    set(ATELIER_TORCH_VERSION "${CMAKE_MATCH_1}")
else()
    if(NOT EXISTS "${ATELIER_PYTHON}")
        message(FATAL_ERROR
            "No Python at ATELIER_PYTHON=${ATELIER_PYTHON}: run scripts/setup, which creates .venv with torch "
            "(or name a LibTorch with -DTorch_DIR=<root>/share/cmake/Torch)")
    endif()
    execute_process(
        COMMAND "${ATELIER_PYTHON}" -c
            "import importlib.util as u, importlib.metadata as m, os; s = u.find_spec('torch'); d = s.submodule_search_locations[0]; print(os.path.join(d, 'share', 'cmake')); print(m.version('torch'))"
        OUTPUT_VARIABLE _torch_info OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _torch_rc)
    if(NOT _torch_rc EQUAL 0)
        message(FATAL_ERROR "torch is not installed for ${ATELIER_PYTHON}: run scripts/setup")
    endif()
    string(REPLACE "\n" ";" _torch_info "${_torch_info}")
    list(GET _torch_info 0 ATELIER_TORCH_CMAKE_PREFIX)
    list(GET _torch_info 1 ATELIER_TORCH_VERSION)
endif()
get_filename_component(ATELIER_TORCH_ROOT "${ATELIER_TORCH_CMAKE_PREFIX}/../.." ABSOLUTE)
string(REGEX REPLACE "\\+.*$" "" _torch_plain_version "${ATELIER_TORCH_VERSION}")
if(NOT _torch_plain_version VERSION_EQUAL ATELIER_PIN_TORCH)
    message(WARNING "Building against torch ${ATELIER_TORCH_VERSION}; scripts/versions.env pins ${ATELIER_PIN_TORCH}")
endif()

if(ATELIER_HAVE_CUDA)
    # Torch's own package config sets up its CUDA targets; it needs the CUDA toolkit, which we have here.
    # Naming the architectures stops torch's config from compiling and running a CUDA probe program, which
    # fails on machines without a GPU and on CMake versions that lack a C++20 CUDA dialect.
    if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
        set(TORCH_CUDA_ARCH_LIST "8.0;8.6;8.9;9.0")
    endif()
    find_package(Torch REQUIRED CONFIG PATHS "${ATELIER_TORCH_CMAKE_PREFIX}" NO_DEFAULT_PATH)
    add_library(Atelier::Torch INTERFACE IMPORTED)
    target_link_libraries(Atelier::Torch INTERFACE ${TORCH_LIBRARIES})
    target_include_directories(Atelier::Torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
    set(ATELIER_TORCH_HAS_CUDA ON)
else()
    # Torch's package config refuses to load without a CUDA toolkit when the wheel was built with CUDA,
    # so on such machines we link the CPU half of the same wheel directly.
    find_library(_torch_cpu torch_cpu PATHS "${ATELIER_TORCH_ROOT}/lib" NO_DEFAULT_PATH REQUIRED)
    find_library(_torch_c10 c10 PATHS "${ATELIER_TORCH_ROOT}/lib" NO_DEFAULT_PATH REQUIRED)
    add_library(Atelier::Torch INTERFACE IMPORTED)
    target_link_libraries(Atelier::Torch INTERFACE "${_torch_cpu}" "${_torch_c10}")
    target_include_directories(Atelier::Torch SYSTEM INTERFACE
        "${ATELIER_TORCH_ROOT}/include" "${ATELIER_TORCH_ROOT}/include/torch/csrc/api/include")
    set(ATELIER_TORCH_HAS_CUDA OFF)
endif()
if(ATELIER_HAVE_CUDA)
    get_filename_component(_nvidia_root "${ATELIER_TORCH_ROOT}/../nvidia" ABSOLUTE)
    find_path(ATELIER_NCCL_INCLUDE_DIR nccl.h
        HINTS "${_nvidia_root}/nccl/include" ${CUDAToolkit_INCLUDE_DIRS} NO_CACHE)
    find_library(ATELIER_NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
        HINTS "${_nvidia_root}/nccl/lib" ${CUDAToolkit_LIBRARY_DIR} NO_CACHE)
    if(ATELIER_NCCL_INCLUDE_DIR AND ATELIER_NCCL_LIBRARY)
        file(STRINGS "${ATELIER_NCCL_INCLUDE_DIR}/nccl.h" _nccl_defs REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
        foreach(_def IN LISTS _nccl_defs)
            string(REGEX MATCH "NCCL_(MAJOR|MINOR|PATCH) +([0-9]+)" _ "${_def}")
            set(_nccl_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
        endforeach()
        set(ATELIER_HAVE_NCCL ON)
        set(ATELIER_NCCL_VERSION "${_nccl_MAJOR}.${_nccl_MINOR}.${_nccl_PATCH}")
        add_library(Atelier::NCCL UNKNOWN IMPORTED)
        set_target_properties(Atelier::NCCL PROPERTIES
            IMPORTED_LOCATION "${ATELIER_NCCL_LIBRARY}"
            INTERFACE_INCLUDE_DIRECTORIES "${ATELIER_NCCL_INCLUDE_DIR}")
    endif()
    # libtorch_cuda's own dependencies live in the nvidia-* wheels; point the linker at them so it checks
    # torch against the libraries torch will really load, not against same-named system copies.
    file(GLOB _nvidia_lib_dirs LIST_DIRECTORIES true "${_nvidia_root}/*/lib")
    foreach(_dir IN LISTS _nvidia_lib_dirs)
        target_link_options(Atelier::Torch INTERFACE "LINKER:-rpath-link,${_dir}")
    endforeach()
endif()

# The wheel's libraries find each other (and the nvidia-* wheels) through their own RPATHs; ours only need
# to find the wheel's lib folder, in the build tree and in an installed package alike.
set(ATELIER_TORCH_LIBRARY_DIR "${ATELIER_TORCH_ROOT}/lib")

# Gloo's headers (Debian's libgloo-dev): LibTorch ships the Gloo process group compiled in libtorch_cpu but not
# the gloo headers its declaration includes. Without them the workers form no CPU process group.
find_path(ATELIER_GLOO_INCLUDE_DIR gloo/config.h)
if(ATELIER_GLOO_INCLUDE_DIR)
    set(ATELIER_HAVE_GLOO ON)
else()
    set(ATELIER_HAVE_GLOO OFF)
    message(WARNING "gloo headers not found (apt install libgloo-dev): workers will form no Gloo process group")
endif()

if(ATELIER_ENGINE_ONLY)
    message(STATUS "Atelier: engine only (no Qt), LibTorch ${ATELIER_TORCH_VERSION} (${ATELIER_TORCH_ROOT}), "
                   "ICU ${ICU_VERSION}, nlohmann-json ${nlohmann_json_VERSION}")
else()
    message(STATUS "Atelier: Qt ${Qt6_VERSION}, QCoro ${QCoro6_VERSION}, "
                   "LibTorch ${ATELIER_TORCH_VERSION} (${ATELIER_TORCH_ROOT})")
endif()
if(ATELIER_HAVE_CUDA)
    message(STATUS "Atelier: CUDA ${ATELIER_CUDA_VERSION}, NCCL ${ATELIER_NCCL_VERSION}")
else()
    message(STATUS "Atelier: not built with CUDA (CPU only)")
endif()
