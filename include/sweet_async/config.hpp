// sweet_async/config.hpp: compiler and Asio configuration shared by every header.
#ifndef SWEET_ASYNC_CONFIG_HPP
#define SWEET_ASYNC_CONFIG_HPP

// Asio 1.22 only detects C++20 coroutines for GCC and MSVC. Clang 14 with
// libstdc++ supports them fully, so tell Asio before any of its headers is seen.
#if defined(__clang__) && !defined(ASIO_HAS_CO_AWAIT)
#if defined(ASIO_DETAIL_CONFIG_HPP)  // too late: Asio has configured itself without them
#error "sweet_async: an Asio header was included before any sweet_async header, and this Asio \
does not detect Clang's coroutines by itself: include a sweet_async header first, or define \
ASIO_HAS_CO_AWAIT=1 and ASIO_HAS_STD_COROUTINE=1"
#endif
#define ASIO_HAS_CO_AWAIT 1
#endif
#if defined(__clang__) && !defined(ASIO_HAS_STD_COROUTINE)
#define ASIO_HAS_STD_COROUTINE 1
#endif

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#if !defined(ASIO_HAS_CO_AWAIT)
#error                                                                                             \
    "sweet_async needs C++20 coroutines: compile with -std=c++20 and a compiler that supports them"
#endif

#define SWEET_ASYNC_VERSION_MAJOR 0  ///< The library's major version, for `#if` checks.
#define SWEET_ASYNC_VERSION_MINOR 1  ///< The library's minor version.
#define SWEET_ASYNC_VERSION_PATCH 0  ///< The library's patch version.

#endif  // SWEET_ASYNC_CONFIG_HPP
