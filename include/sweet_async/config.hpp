// sweet_async/config.hpp: compiler and Asio configuration shared by every header.
#ifndef SWEET_ASYNC_CONFIG_HPP
#define SWEET_ASYNC_CONFIG_HPP

// The Asio backend: standalone Asio by default, Boost.Asio with SWEET_ASYNC_USE_BOOST_ASIO defined
// (CMake: -DSWEET_ASYNC_USE_BOOST_ASIO=ON). This is the one place that maps the names; the rest
// of the library writes `asio::`, `error_code` and SWEET_ASYNC_ASIO_HEADER(...) and means
// whichever backend this is. Every translation unit of a program must agree on the choice.
#if defined(SWEET_ASYNC_USE_BOOST_ASIO)
#define SWEET_ASYNC_DETAIL_ASIO_MACRO(name) BOOST_ASIO_##name
#else
#define SWEET_ASYNC_DETAIL_ASIO_MACRO(name) ASIO_##name
#endif

// Asio 1.22 (and Boost.Asio 1.81) only detect C++20 coroutines for GCC and MSVC. Clang 14 with
// libstdc++ supports them fully, so tell Asio before any of its headers is seen.
#if defined(SWEET_ASYNC_USE_BOOST_ASIO)
#if defined(__clang__) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#if defined(BOOST_ASIO_DETAIL_CONFIG_HPP)  // too late: Asio has configured itself without them
#error "sweet_async: a Boost.Asio header was included before any sweet_async header, and this \
Boost.Asio does not detect Clang's coroutines by itself: include a sweet_async header first, or \
define BOOST_ASIO_HAS_CO_AWAIT=1 and BOOST_ASIO_HAS_STD_COROUTINE=1"
#endif
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif
#if defined(__clang__) && !defined(BOOST_ASIO_HAS_STD_COROUTINE)
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif
#else
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
#endif

// SWEET_ASYNC_ASIO_HEADER(awaitable) is <asio/awaitable.hpp> or <boost/asio/awaitable.hpp>;
// SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp) is <asio/ip/tcp.hpp> or <boost/asio/ip/tcp.hpp>. (Two
// macros rather than one taking a path: a formatter would put spaces around the path's '/'.)
#define SWEET_ASYNC_DETAIL_STRINGIZE(...) #__VA_ARGS__
#define SWEET_ASYNC_DETAIL_HEADER_NAME(...) SWEET_ASYNC_DETAIL_STRINGIZE(__VA_ARGS__)
// (A header path, not an expression: no parentheses around the arguments.)
// clang-format off
// NOLINTBEGIN(bugprone-macro-parentheses)
#if defined(SWEET_ASYNC_USE_BOOST_ASIO)
#define SWEET_ASYNC_ASIO_HEADER(name) SWEET_ASYNC_DETAIL_HEADER_NAME(boost/asio/name.hpp)
#define SWEET_ASYNC_ASIO_HEADER_IN(folder, name) \
    SWEET_ASYNC_DETAIL_HEADER_NAME(boost/asio/folder/name.hpp)
#else
/// The backend's header `name`: `#include SWEET_ASYNC_ASIO_HEADER(steady_timer)`.
#define SWEET_ASYNC_ASIO_HEADER(name) SWEET_ASYNC_DETAIL_HEADER_NAME(asio/name.hpp)
/// The backend's header `folder/name`: `#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)`.
#define SWEET_ASYNC_ASIO_HEADER_IN(folder, name) SWEET_ASYNC_DETAIL_HEADER_NAME(asio/folder/name.hpp)
#endif
// NOLINTEND(bugprone-macro-parentheses)
// clang-format on

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)

#if !SWEET_ASYNC_DETAIL_ASIO_MACRO(HAS_CO_AWAIT)
#error                                                                                             \
    "sweet_async needs C++20 coroutines: compile with -std=c++20 and a compiler that supports them"
#endif

#if defined(SWEET_ASYNC_USE_BOOST_ASIO)
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#else
#include <system_error>
#endif

namespace sweet_async {

#if defined(SWEET_ASYNC_USE_BOOST_ASIO)
namespace asio = ::boost::asio;
using error_code = ::boost::system::error_code;          ///< What Asio's completions carry.
using error_category = ::boost::system::error_category;  ///< The category of an `error_code`.
using system_error = ::boost::system::system_error;      ///< An exception holding an `error_code`.
#else
/// \cond
/// The Asio the library runs on: `::asio`, or `::boost::asio` with SWEET_ASYNC_USE_BOOST_ASIO.
namespace asio = ::asio;
/// \endcond

/// What Asio's completions carry and the library's own errors are: `std::error_code`, or
/// `boost::system::error_code` with SWEET_ASYNC_USE_BOOST_ASIO.
using error_code = std::error_code;
using error_category = std::error_category;  ///< The category of an `error_code`.
using system_error = std::system_error;      ///< An exception holding an `error_code`.
#endif

}  // namespace sweet_async

// Where an enumeration becomes usable as an `error_code` (specialise `is_error_code_enum` there).
#if defined(SWEET_ASYNC_USE_BOOST_ASIO)
#define SWEET_ASYNC_DETAIL_ERROR_CODE_ENUM(type)                                                   \
    template <>                                                                                    \
    struct boost::system::is_error_code_enum<type> : std::true_type {}
#else
#define SWEET_ASYNC_DETAIL_ERROR_CODE_ENUM(type)                                                   \
    template <>                                                                                    \
    struct std::is_error_code_enum<type> : std::true_type {}
#endif

#define SWEET_ASYNC_VERSION_MAJOR 0  ///< The library's major version, for `#if` checks.
#define SWEET_ASYNC_VERSION_MINOR 1  ///< The library's minor version.
#define SWEET_ASYNC_VERSION_PATCH 0  ///< The library's patch version.

#endif  // SWEET_ASYNC_CONFIG_HPP
