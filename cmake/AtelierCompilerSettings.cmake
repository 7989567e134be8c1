# Warnings, sanitizers, fuzzing and ccache for every Atelier target.

# C and C++ only: nvcc would hand them to its host compiler, which then warns about nvcc's own generated code.
add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-Wall;-Wextra;-Wpedantic>")
if(ATELIER_WERROR)
    add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-Werror>")
endif()
# Keep asserts in Qt containers and libstdc++ alive in tests; both are cheap.
add_compile_definitions($<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS> QT_NO_CAST_FROM_ASCII QT_NO_URL_CAST_FROM_STRING)

# Sanitizers, for C and C++ only (nvcc refuses the flags). UndefinedBehaviorSanitizer only reports and carries on by
# default, so a test with undefined behaviour would still pass; -fno-sanitize-recover makes every report fatal.
set(_atelier_sanitizers "-fsanitize=address,undefined;-fno-sanitize-recover=all;-fno-omit-frame-pointer")
if(ATELIER_ENABLE_ASAN)
    add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_atelier_sanitizers}>")
    add_link_options("$<$<LINK_LANGUAGE:C,CXX>:-fsanitize=address,undefined>")
endif()

# tests/fuzz with clang's libFuzzer (scripts/fuzz builds build-fuzz this way). Everything is compiled with the fuzzer's
# coverage instrumentation and the sanitizers; only the fuzz targets themselves link libFuzzer's main().
option(ATELIER_FUZZ "Build the fuzz targets with libFuzzer, AddressSanitizer and UBSan (clang only)" OFF)
if(ATELIER_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "ATELIER_FUZZ needs clang (libFuzzer is part of clang), not ${CMAKE_CXX_COMPILER_ID}: "
                            "configure with -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang, or run scripts/fuzz")
    endif()
    add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link;${_atelier_sanitizers}>")
    add_link_options("$<$<LINK_LANGUAGE:C,CXX>:-fsanitize=address,undefined>")
endif()

# ccache when available. CCACHE_BASEDIR makes the cache hit across clones in different folders
# (the project's .venv, and with it LibTorch's headers, lives inside the clone), and the sloppiness
# settings let ccache serve the precompiled-header builds.
find_program(ATELIER_CCACHE ccache)
if(ATELIER_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(_ccache_env
        "${CMAKE_COMMAND}" -E env
        "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}"
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "CCACHE_NOHASHDIR=1"
        "${ATELIER_CCACHE}")
    set(CMAKE_C_COMPILER_LAUNCHER ${_ccache_env})
    set(CMAKE_CXX_COMPILER_LAUNCHER ${_ccache_env})
    message(STATUS "Atelier: compiling through ccache (${ATELIER_CCACHE})")
endif()
