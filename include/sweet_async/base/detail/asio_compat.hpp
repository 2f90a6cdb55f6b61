// sweet_async/base/detail/asio_compat.hpp: the Asio names that moved between releases, in one
// place.
#ifndef SWEET_ASYNC_BASE_DETAIL_ASIO_COMPAT_HPP
#define SWEET_ASYNC_BASE_DETAIL_ASIO_COMPAT_HPP

#include <sweet_async/config.hpp>

// Asio 1.24 promoted `deferred` and `as_tuple` out of `experimental`; 1.28 hides the old names
// under ASIO_NO_DEPRECATED and 1.30 deleted their headers. The header tells which Asio this is
// more reliably than ASIO_VERSION, which forks of Asio do not always keep.
#if __has_include(SWEET_ASYNC_ASIO_HEADER(deferred))
#include SWEET_ASYNC_ASIO_HEADER(as_tuple)
#include SWEET_ASYNC_ASIO_HEADER(deferred)
#else
#include SWEET_ASYNC_ASIO_HEADER_IN(experimental, as_tuple)
#include SWEET_ASYNC_ASIO_HEADER_IN(experimental, deferred)
#endif

namespace sweet_async::detail {

#if __has_include(SWEET_ASYNC_ASIO_HEADER(deferred))
using asio::as_tuple;
using asio::deferred;
#else
using asio::experimental::as_tuple;
using asio::experimental::deferred;
#endif

}  // namespace sweet_async::detail

// GCC 12 and later warn -Wmismatched-new-delete when they inline the ramp of a coroutine whose
// frame comes from Asio's recycling allocator (Asio 1.24 on): they pair the std::aligned_alloc
// inside awaitable_frame_base::operator new with the member operator delete that frees it, a
// false positive (the pair is Asio's own). The warning lands on the coroutine's closing brace,
// so the library's coroutines that users' code inlines (the consumers that start_queue()
// spawns) sit between these two macros, and a user's -Werror build stays clean.
#if defined(__GNUC__) && !defined(__clang__)
#define SWEET_ASYNC_DETAIL_BEGIN_ASIO_FRAMES                                                       \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmismatched-new-delete\"")
#define SWEET_ASYNC_DETAIL_END_ASIO_FRAMES _Pragma("GCC diagnostic pop")
#else
#define SWEET_ASYNC_DETAIL_BEGIN_ASIO_FRAMES
#define SWEET_ASYNC_DETAIL_END_ASIO_FRAMES
#endif

#endif  // SWEET_ASYNC_BASE_DETAIL_ASIO_COMPAT_HPP
