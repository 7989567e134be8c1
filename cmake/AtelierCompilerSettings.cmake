# Warnings, sanitizers and ccache for every Atelier target.

# C and C++ only: nvcc would hand them to its host compiler, which then warns about nvcc's own generated code.
add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-Wall;-Wextra;-Wpedantic>")
if(ATELIER_WERROR)
    add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-Werror>")
endif()
# Keep asserts in Qt containers and libstdc++ alive in tests; both are cheap.
add_compile_definitions($<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS> QT_NO_CAST_FROM_ASCII QT_NO_URL_CAST_FROM_STRING)

if(ATELIER_ENABLE_ASAN)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
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
