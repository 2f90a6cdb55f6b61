// sweet_async/base/detail/detached_owning.hpp: `asio::detached` that keeps a cancellation signal
// alive.
#ifndef SWEET_ASYNC_BASE_DETAIL_DETACHED_OWNING_HPP
#define SWEET_ASYNC_BASE_DETAIL_DETACHED_OWNING_HPP

#include <sweet_async/config.hpp>

#include <exception>
#include <memory>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>

namespace sweet_async::detail {

/// A completion token for `asio::co_spawn` that, like `asio::detached`, ignores how the coroutine
/// ended, binds `slot`, and holds `owner` (which owns the signal behind `slot`) until the spawn
/// has completed. co_spawn still uses the slot after the coroutine's body has returned (Asio
/// 1.38 clears it once more on the way out), so a signal owned only by the body's frame, or
/// released from another strand as the body ends, would be used after it was destroyed.
template <class Owner>
auto detached_owning(std::shared_ptr<Owner> owner, asio::cancellation_slot slot) {
    return asio::bind_cancellation_slot(slot,
                                        [owner = std::move(owner)](const std::exception_ptr&) {});
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_DETACHED_OWNING_HPP
