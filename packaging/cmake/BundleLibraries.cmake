# Run at install time (cmake -P, from packaging/CMakeLists.txt's install(CODE)): copies the libraries
# atelier-worker loads from the torch wheel (and, for the cuda flavour, every library the nvidia-* wheels hold, since
# torch opens several of them with dlopen) into the package's private library folder, points every RPATH there with
# $ORIGIN, and installs their licences. Nothing from the system's library folders is copied: those are the package's
# Debian dependencies.
#
# Inputs: ATELIER_WORKER (the installed worker), ATELIER_LIBDIR (the private folder, DESTDIR included),
# ATELIER_DOCDIR (where the licences go), ATELIER_TORCH_LIBDIR (the wheel's torch/lib), ATELIER_FLAVOUR (cpu|cuda),
# ATELIER_PATCHELF.

foreach(_input ATELIER_WORKER ATELIER_LIBDIR ATELIER_DOCDIR ATELIER_TORCH_LIBDIR ATELIER_FLAVOUR ATELIER_PATCHELF)
    if(NOT DEFINED ${_input})
        message(FATAL_ERROR "BundleLibraries.cmake needs ${_input}")
    endif()
endforeach()

get_filename_component(_site "${ATELIER_TORCH_LIBDIR}/../.." ABSOLUTE)
set(_nvidia "${_site}/nvidia")
file(GLOB _nvidia_libdirs LIST_DIRECTORIES true "${_nvidia}/*/lib")

# Resolve against the wheel only: the worker's build RPATH may also name a CUDA toolkit, whose copies must not be
# the ones shipped.
execute_process(COMMAND "${ATELIER_PATCHELF}" --set-rpath "${ATELIER_TORCH_LIBDIR}" "${ATELIER_WORKER}"
                RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "patchelf failed on ${ATELIER_WORKER}")
endif()
file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES "${ATELIER_WORKER}"
    RESOLVED_DEPENDENCIES_VAR _resolved
    UNRESOLVED_DEPENDENCIES_VAR _unresolved
    DIRECTORIES "${ATELIER_TORCH_LIBDIR}" ${_nvidia_libdirs}
    # The driver's libcuda comes with the NVIDIA driver, never with an application.
    PRE_EXCLUDE_REGEXES "^libcuda\\.so"
    POST_INCLUDE_REGEXES "^${_site}/"
    POST_EXCLUDE_REGEXES ".*")
if(_unresolved)
    message(FATAL_ERROR "atelier-worker needs libraries found nowhere: ${_unresolved}")
endif()

set(_bundle ${_resolved})
if(ATELIER_FLAVOUR STREQUAL "cuda")
    # Opened at run time by libtorch_cuda, cuDNN, cuBLAS and NCCL, so no NEEDED entry names them.
    file(GLOB _torch_cuda_extra "${ATELIER_TORCH_LIBDIR}/libtorch_cuda_linalg.so"
         "${ATELIER_TORCH_LIBDIR}/libcaffe2_nvrtc.so" "${ATELIER_TORCH_LIBDIR}/libtorch_nvshmem.so")
    list(APPEND _bundle ${_torch_cuda_extra})
    # Torch loads these wheels' libraries by name when it first needs them (cuDNN's engines, NVRTC, cuSPARSELt,
    # NCCL, …). Left out, unless something links them: tools and shims no part of torch opens (FFTW and BLAS
    # interposers, the multi-GPU solver, CUPTI's profiler add-ons, NVRTC's alternate build), and the plugins for
    # cluster interconnects that link software a desktop does not have (NVSHMEM's MPI, PMIx and OpenSHMEM
    # bootstraps and its UCX, libfabric and Mellanox transports; cuFile's RDMA): NVSHMEM then starts with its own
    # bootstrap, which is all one machine's workers use.
    set(_not_opened "^lib(cufftw|nvblas|cusolverMg|checkpoint|nvperf_host|nvperf_target|pcsamplingutil|cufile_rdma)\\.so|\\.alt\\.so|^nvshmem_bootstrap_(mpi|pmix|shmem)\\.so|^nvshmem_transport_(ucx|libfabric|ibdevx|ibgda)\\.so")
    foreach(_dir IN LISTS _nvidia_libdirs)
        file(GLOB _libs "${_dir}/*.so*")
        foreach(_lib IN LISTS _libs)
            get_filename_component(_name "${_lib}" NAME)
            if(NOT _name MATCHES "${_not_opened}")
                list(APPEND _bundle "${_lib}")
            endif()
        endforeach()
    endforeach()
endif()
list(REMOVE_DUPLICATES _bundle)

file(MAKE_DIRECTORY "${ATELIER_LIBDIR}")
set(_total 0)
foreach(_lib IN LISTS _bundle)
    get_filename_component(_name "${_lib}" NAME)
    # Copied as files (a symlinked .so in a wheel is rare; the real file under the linked name serves both).
    file(COPY_FILE "${_lib}" "${ATELIER_LIBDIR}/${_name}" ONLY_IF_DIFFERENT)
    file(CHMOD "${ATELIER_LIBDIR}/${_name}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    execute_process(COMMAND "${ATELIER_PATCHELF}" --set-rpath "\$ORIGIN" "${ATELIER_LIBDIR}/${_name}"
                    RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
        message(FATAL_ERROR "patchelf failed on ${ATELIER_LIBDIR}/${_name}")
    endif()
    file(SIZE "${_lib}" _size)
    math(EXPR _total "${_total} + ${_size} / 1048576")
endforeach()
execute_process(COMMAND "${ATELIER_PATCHELF}" --set-rpath "\$ORIGIN/../lib/atelier" "${ATELIER_WORKER}"
                RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "patchelf failed on ${ATELIER_WORKER}")
endif()
list(LENGTH _bundle _count)
message(STATUS "Bundled ${_count} libraries (${_total} MiB) into ${ATELIER_LIBDIR}")

# Licences: torch's (with its third-party notices) and each nvidia wheel's whose libraries were bundled.
file(GLOB _torch_info "${_site}/torch-*.dist-info")
set(_licence_sources "${_torch_info}")
foreach(_lib IN LISTS _bundle)
    if(_lib MATCHES "^${_nvidia}/")
        get_filename_component(_name "${_lib}" NAME)
        string(REGEX REPLACE "\\.so.*$" "" _stem "${_name}")
        # The dist-info whose RECORD lists the file.
        file(GLOB _records "${_site}/nvidia_*.dist-info/RECORD")
        foreach(_record IN LISTS _records)
            file(STRINGS "${_record}" _hit REGEX "/${_name},")
            if(_hit)
                get_filename_component(_info "${_record}" DIRECTORY)
                list(APPEND _licence_sources "${_info}")
            endif()
        endforeach()
    endif()
endforeach()
list(REMOVE_DUPLICATES _licence_sources)
foreach(_info IN LISTS _licence_sources)
    get_filename_component(_name "${_info}" NAME)
    string(REGEX REPLACE "\\.dist-info$" "" _name "${_name}")
    # The licence files the wheel's RECORD lists, in its dist-info or beside its libraries (cuSPARSELt's), kept in
    # their folders: torch's third-party notices are all called LICENSE.
    get_filename_component(_info_dir "${_info}" NAME)
    file(STRINGS "${_info}/RECORD" _records REGEX "(LICENSE|License|NOTICE|COPYING)[^/,]*,")
    set(_count 0)
    foreach(_record IN LISTS _records)
        string(REGEX REPLACE ",.*$" "" _path "${_record}")
        if(EXISTS "${_site}/${_path}")
            string(REGEX REPLACE "^${_info_dir}/" "" _relative "${_path}")
            get_filename_component(_folder "${ATELIER_DOCDIR}/bundled/${_name}/${_relative}" DIRECTORY)
            file(COPY "${_site}/${_path}" DESTINATION "${_folder}")
            math(EXPR _count "${_count} + 1")
        endif()
    endforeach()
    if(_count EQUAL 0)
        message(FATAL_ERROR "no licence found in ${_info}")
    endif()
endforeach()
