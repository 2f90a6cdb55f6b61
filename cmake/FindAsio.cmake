# FindAsio.cmake - find the standalone (non-Boost) Asio library, which is header-only and ships
# no CMake package of its own.
#
# Input (optional):
#   Asio_ROOT          install prefix to search first (e.g. /opt/asio, containing include/asio.hpp)
#
# Result variables:
#   Asio_FOUND         TRUE if asio.hpp was found
#   Asio_INCLUDE_DIRS  include directory containing asio.hpp
#   Asio_VERSION       version as MAJOR.MINOR.PATCH, parsed from asio/version.hpp
#
# Imported target:
#   Asio::Asio         IMPORTED INTERFACE target (include dir + Threads::Threads)

include(FindPackageHandleStandardArgs)

find_path(Asio_INCLUDE_DIR
    NAMES asio.hpp
    DOC "Directory containing the standalone Asio header asio.hpp")
mark_as_advanced(Asio_INCLUDE_DIR)

unset(Asio_VERSION)
if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
    # e.g. "#define ASIO_VERSION 102201 // 1.22.1"
    file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
        REGEX "^#[ \t]*define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
    string(REGEX REPLACE "^#[ \t]*define[ \t]+ASIO_VERSION[ \t]+([0-9]+).*$" "\\1"
        _asio_version_number "${_asio_version_line}")
    if(_asio_version_number MATCHES "^[0-9]+$")
        math(EXPR Asio_VERSION_MAJOR "${_asio_version_number} / 100000")
        math(EXPR Asio_VERSION_MINOR "${_asio_version_number} / 100 % 1000")
        math(EXPR Asio_VERSION_PATCH "${_asio_version_number} % 100")
        set(Asio_VERSION "${Asio_VERSION_MAJOR}.${Asio_VERSION_MINOR}.${Asio_VERSION_PATCH}")
    endif()
    unset(_asio_version_line)
    unset(_asio_version_number)
endif()

find_package_handle_standard_args(Asio
    REQUIRED_VARS Asio_INCLUDE_DIR
    VERSION_VAR Asio_VERSION
    REASON_FAILURE_MESSAGE
        "sweet_async needs standalone Asio (asio.hpp): install it with `apt-get install libasio-dev` (Debian/Ubuntu) or set Asio_ROOT to the prefix containing include/asio.hpp")

if(Asio_FOUND)
    set(Asio_INCLUDE_DIRS "${Asio_INCLUDE_DIR}")

    if(NOT TARGET Threads::Threads)
        set(THREADS_PREFER_PTHREAD_FLAG ON)
        if(Asio_FIND_QUIETLY)
            find_package(Threads QUIET)
        else()
            find_package(Threads)
        endif()
    endif()

    if(NOT TARGET Asio::Asio)
        add_library(Asio::Asio INTERFACE IMPORTED)
        set_target_properties(Asio::Asio PROPERTIES
            INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}")
        if(TARGET Threads::Threads)
            target_link_libraries(Asio::Asio INTERFACE Threads::Threads)
        endif()
    endif()
endif()
