// sweet_async/detail/asio_compat.hpp: the Asio names that moved between releases, in one place.
#ifndef SWEET_ASYNC_DETAIL_ASIO_COMPAT_HPP
#define SWEET_ASYNC_DETAIL_ASIO_COMPAT_HPP

#include <sweet_async/config.hpp>

// Asio 1.24 promoted `deferred` and `as_tuple` out of `experimental`; 1.28 hides the old names
// under ASIO_NO_DEPRECATED and 1.30 deleted their headers. The header tells which Asio this is
// more reliably than ASIO_VERSION, which forks of Asio do not always keep.
#if __has_include(<asio/deferred.hpp>)
#include <asio/as_tuple.hpp>
#include <asio/deferred.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/deferred.hpp>
#endif

namespace sweet_async::detail {

#if __has_include(<asio/deferred.hpp>)
using asio::as_tuple;
using asio::deferred;
#else
using asio::experimental::as_tuple;
using asio::experimental::deferred;
#endif

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_ASIO_COMPAT_HPP
