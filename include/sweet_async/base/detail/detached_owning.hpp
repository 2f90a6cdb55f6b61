// sweet_async/base/detail/detached_owning.hpp: `asio::detached` that keeps a cancellation signal
// alive.
#ifndef SWEET_ASYNC_BASE_DETAIL_DETACHED_OWNING_HPP
#define SWEET_ASYNC_BASE_DETAIL_DETACHED_OWNING_HPP

#include <sweet_async/config.hpp>

#include <exception>
#include <memory>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(cancellation_signal)

namespace sweet_async::detail {

/// A completion handler for `asio::co_spawn` that calls `function(exception_ptr)` and has `slot`
/// as its cancellation slot. Not `asio::bind_cancellation_slot(slot, function)`: the handler must
/// have no associated executor. co_spawn puts a handler into `slot` that keeps a copy of the
/// completion handler's executor when it has one (Asio 1.26, which Boost 1.81 ships, sees one on
/// a `cancellation_slot_binder`): the signal behind `slot`, and whatever owns it, would then hold
/// the spawn's strand, and an owner outliving its execution context would destroy that strand
/// after the context's strand service (found by ASan on Boost.Asio). Without an executor the
/// signal emits in place, on the strand that calls `emit`, which is where ours are emitted.
template <class Function>
class cancellable_completion {
public:
    /// What `asio::associated_cancellation_slot` reads.
    using cancellation_slot_type = asio::cancellation_slot;

    /// Calls `function` when the spawn completes; gives co_spawn `slot`.
    cancellable_completion(asio::cancellation_slot slot, Function function)
        : slot_(slot),
          function_(std::move(function)) {}

    /// The slot co_spawn connects the coroutine's cancellation to.
    cancellation_slot_type get_cancellation_slot() const noexcept { return slot_; }

    /// How the coroutine ended: null, or what escaped it.
    void operator()(std::exception_ptr error) { function_(std::move(error)); }

private:
    asio::cancellation_slot slot_;
    Function function_;
};

/// Like `asio::detached`, ignores how the coroutine ended; binds `slot` and holds `owner` (which
/// owns the signal behind `slot`) until the spawn has completed. co_spawn still uses the slot
/// after the coroutine's body has returned (Asio 1.38 clears it once more on the way out), so a
/// signal owned only by the body's frame, or released from another strand as the body ends,
/// would be used after it was destroyed.
template <class Owner>
auto detached_owning(std::shared_ptr<Owner> owner, asio::cancellation_slot slot) {
    return cancellable_completion(slot, [owner = std::move(owner)](const std::exception_ptr&) {});
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_DETACHED_OWNING_HPP
