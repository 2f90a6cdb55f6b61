# sweet_async_dependencies.cmake - where sweet_async's dependencies come from.
#
# Each dependency is looked for on the system first. Where it is not found and
# SWEET_ASYNC_FETCH_DEPENDENCIES is ON, FetchContent downloads a pinned release (this needs network
# access at configure time). Where neither works, configuring stops with a message that names the
# missing package and how to install it, instead of a bare "package not found" further down.
#
# Provides, for the top-level CMakeLists.txt:
#   sweet_async_resolve_dependencies()   Threads::Threads, fmt::fmt, Asio::Asio
# and, for tests/CMakeLists.txt:
#   sweet_async_resolve_catch2()         SWEET_ASYNC_CATCH2_MAJOR (2 or 3) and Catch2::Catch2 /
#                                        Catch2::Catch2WithMain
#
# Both are macros: FetchContent_MakeAvailable() sets <name>_SOURCE_DIR and friends in the calling
# scope, and find_package() results have to stay visible to the caller.

include(FetchContent)

# The releases FetchContent brings: the versions Debian 12 ships (and CI tests) for fmt and Asio,
# and a Catch2 v3 release for systems without any Catch2.
set(SWEET_ASYNC_FMT_GIT_TAG "9.1.0")
set(SWEET_ASYNC_ASIO_GIT_TAG "asio-1-22-1")
set(SWEET_ASYNC_CATCH2_GIT_TAG "v3.4.0")

# How to get each dependency without FetchContent, for the messages below.
string(CONCAT _SWEET_ASYNC_FMT_HOW_TO
    "`apt-get install libfmt-dev` on Debian/Ubuntu, or set fmt_DIR to its CMake package")
string(CONCAT _SWEET_ASYNC_ASIO_HOW_TO
    "`apt-get install libasio-dev` on Debian/Ubuntu, or set Asio_ROOT to the prefix holding "
    "include/asio.hpp")
string(CONCAT _SWEET_ASYNC_CATCH2_HOW_TO
    "`apt-get install catch2` on Debian/Ubuntu, or set Catch2_DIR to its CMake package, "
    "or configure with -DSWEET_ASYNC_BUILD_TESTS=OFF")

# Stops configuring: PACKAGE could neither be found nor fetched.
function(_sweet_async_missing_dependency package how_to)
    if(SWEET_ASYNC_FETCH_DEPENDENCIES)
        set(_why "was not found, and fetching it did not provide it")
    else()
        set(_why "was not found, and SWEET_ASYNC_FETCH_DEPENDENCIES is OFF")
    endif()
    message(FATAL_ERROR
        "sweet_async needs ${package}, which ${_why}.\n"
        "Install it (${how_to}), or configure with -DSWEET_ASYNC_FETCH_DEPENDENCIES=ON and "
        "network access so that CMake downloads it.")
endfunction()

# Announces a download. A failed download stops configuring with FetchContent's own error (CMake
# cannot catch it), so the alternative is said beforehand.
function(_sweet_async_fetching package tag how_to)
    message(STATUS "sweet_async: ${package} not found, fetching ${tag} "
        "(without network access, install it instead: ${how_to})")
endfunction()

macro(sweet_async_resolve_dependencies)
    set(THREADS_PREFER_PTHREAD_FLAG ON)
    find_package(Threads REQUIRED)

    # ---- {fmt} -----------------------------------------------------------------------------------
    find_package(fmt 9 QUIET)
    if(fmt_FOUND)
        message(STATUS "sweet_async: {fmt} ${fmt_VERSION} found in ${fmt_DIR}")
    elseif(SWEET_ASYNC_FETCH_DEPENDENCIES)
        _sweet_async_fetching("{fmt}" ${SWEET_ASYNC_FMT_GIT_TAG} "${_SWEET_ASYNC_FMT_HOW_TO}")
        # Our exported target links fmt::fmt, so install(EXPORT) needs fmt in an export set of its
        # own: have fmt install itself next to us (by default it only does so as the top-level
        # project). A cache entry, because fmt's option() keeps one whatever its policy settings.
        set(FMT_INSTALL ON CACHE BOOL "Install the fetched {fmt} along with sweet_async")
        FetchContent_Declare(fmt
            GIT_REPOSITORY https://github.com/fmtlib/fmt.git
            GIT_TAG ${SWEET_ASYNC_FMT_GIT_TAG}
            GIT_SHALLOW TRUE
            SYSTEM) # fmt's headers are not checked by our -Werror warnings
        FetchContent_MakeAvailable(fmt)
    endif()
    if(NOT TARGET fmt::fmt)
        _sweet_async_missing_dependency("{fmt} (>= 9)" "${_SWEET_ASYNC_FMT_HOW_TO}")
    endif()

    # ---- Boost.Asio, when chosen: Boost's own CMake package (header-only parts: Boost::headers) ---
    if(SWEET_ASYNC_USE_BOOST_ASIO)
        find_package(Boost 1.81 CONFIG REQUIRED)
        message(STATUS "sweet_async: Boost.Asio (Boost ${Boost_VERSION}) found in ${Boost_INCLUDE_DIRS}")
    else()
        # ---- standalone Asio ---------------------------------------------------------------------
        find_package(Asio 1.22 QUIET) # cmake/FindAsio.cmake -> IMPORTED INTERFACE target Asio::Asio
        if(Asio_FOUND)
            message(STATUS "sweet_async: standalone Asio ${Asio_VERSION} found in ${Asio_INCLUDE_DIRS}")
        elseif(SWEET_ASYNC_FETCH_DEPENDENCIES)
            _sweet_async_fetching("standalone Asio" ${SWEET_ASYNC_ASIO_GIT_TAG}
                "${_SWEET_ASYNC_ASIO_HOW_TO}")
            # The repository has no CMakeLists.txt, so FetchContent_MakeAvailable() only downloads it;
            # the headers are in asio/include.
            FetchContent_Declare(asio
                GIT_REPOSITORY https://github.com/chriskohlhoff/asio.git
                GIT_TAG ${SWEET_ASYNC_ASIO_GIT_TAG}
                GIT_SHALLOW TRUE)
            FetchContent_MakeAvailable(asio)
            set(_sweet_async_asio_include_dir "${asio_SOURCE_DIR}/asio/include")
            if(EXISTS "${_sweet_async_asio_include_dir}/asio.hpp" AND NOT TARGET Asio::Asio)
                # The same IMPORTED target FindAsio.cmake makes, so that the rest of the build and the
                # installed package see no difference (imported include dirs are system includes, too).
                add_library(Asio::Asio INTERFACE IMPORTED)
                target_include_directories(Asio::Asio INTERFACE "${_sweet_async_asio_include_dir}")
                target_link_libraries(Asio::Asio INTERFACE Threads::Threads)
                # Installed next to our headers, where the installed package's FindAsio looks first
                # (see sweet_asyncConfig.cmake.in), so that the package works without a system Asio.
                install(DIRECTORY "${_sweet_async_asio_include_dir}/"
                    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
                    FILES_MATCHING PATTERN "*.hpp" PATTERN "*.ipp")
            endif()
            unset(_sweet_async_asio_include_dir)
        endif()
        if(NOT TARGET Asio::Asio)
            _sweet_async_missing_dependency("standalone Asio (>= 1.22)" "${_SWEET_ASYNC_ASIO_HOW_TO}")
        endif()
    endif()
endmacro()

macro(sweet_async_resolve_catch2)
    # v3 first: it is what most platforms ship; Debian 12 ships v2 (2.13).
    find_package(Catch2 3 QUIET)
    if(Catch2_FOUND)
        set(SWEET_ASYNC_CATCH2_MAJOR 3)
    else()
        find_package(Catch2 2 QUIET)
        if(Catch2_FOUND)
            set(SWEET_ASYNC_CATCH2_MAJOR 2)
        elseif(SWEET_ASYNC_FETCH_DEPENDENCIES)
            _sweet_async_fetching("Catch2" ${SWEET_ASYNC_CATCH2_GIT_TAG}
                "${_SWEET_ASYNC_CATCH2_HOW_TO}")
            # Catch2 v3 is a compiled library. Built with an older standard than the tests, it would
            # lack the C++17 StringMaker specialisations (std::string_view, std::optional...) that
            # its headers declare to a C++20 test, hence the standard set here (directory scope).
            set(CMAKE_CXX_STANDARD 20)
            set(CMAKE_CXX_STANDARD_REQUIRED ON)
            FetchContent_Declare(Catch2
                GIT_REPOSITORY https://github.com/catchorg/Catch2.git
                GIT_TAG ${SWEET_ASYNC_CATCH2_GIT_TAG}
                GIT_SHALLOW TRUE
                SYSTEM) # Catch2's headers are not checked by our -Werror warnings
            FetchContent_MakeAvailable(Catch2)
            # Catch.cmake (catch_discover_tests) lives in the source tree's extras/ directory.
            list(APPEND CMAKE_MODULE_PATH "${catch2_SOURCE_DIR}/extras")
            set(SWEET_ASYNC_CATCH2_MAJOR 3)
        endif()
    endif()
    if(NOT TARGET Catch2::Catch2)
        _sweet_async_missing_dependency("Catch2 (v2 or v3) for its tests"
            "${_SWEET_ASYNC_CATCH2_HOW_TO}")
    endif()
endmacro()
