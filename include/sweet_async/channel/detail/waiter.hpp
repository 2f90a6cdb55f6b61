// sweet_async/channel/detail/waiter.hpp: a parked completion handler, type-erased.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_WAITER_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_WAITER_HPP

#include <sweet_async/config.hpp>

#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(associated_cancellation_slot)
#include SWEET_ASYNC_ASIO_HEADER(associated_executor)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_type)
#include SWEET_ASYNC_ASIO_HEADER(error)
#include SWEET_ASYNC_ASIO_HEADER(executor_work_guard)
#include SWEET_ASYNC_ASIO_HEADER(post)

namespace sweet_async::detail {

/// A suspended operation waiting for a condition (space, data, completion).
/// Waiters are allocated only on slow paths, when an operation must suspend.
class waiter {
public:
    virtual ~waiter() = default;
    /// Posts the operation's completion with `ec` to the handler's executor.
    /// Never runs the handler inline, so it is safe to call with locks held
    /// and from any thread.
    virtual void complete(error_code ec) = 0;
};

template <class Handler, class IoExecutor>
class handler_waiter final : public waiter {
public:
    handler_waiter(Handler handler, const IoExecutor& io_executor)
        : work_(asio::make_work_guard(handler, io_executor)),
          slot_(asio::get_associated_cancellation_slot(handler)),
          handler_(std::move(handler)) {}

    /// Lets the caller's cancellation signal (Asio per-operation
    /// cancellation) withdraw this waiter: `withdraw(this)` must remove it
    /// from wherever it is parked, if it is still there, and complete it.
    template <class Withdraw>
    void accept_cancellation(Withdraw withdraw) {
        if (!slot_.is_connected()) return;
        slot_.template emplace<cancel_handler<Withdraw>>(std::move(withdraw), this);
    }

    void complete(error_code ec) override {
        // The guard keeps the handler's execution context running while the
        // operation is parked; post() counts as work from here on. The slot
        // is cleared where the handler runs, which is also where cancellation
        // is emitted, so the two never race.
        auto work = std::move(work_);
        asio::post(work.get_executor(),
                   [handler = std::move(handler_), slot = slot_, ec]() mutable {
                       if (slot.is_connected()) slot.clear();
                       std::move(handler)(ec);
                   });
        work.reset();
    }

private:
    template <class Withdraw>
    struct cancel_handler {
        // A constructor, not an aggregate: the slot constructs it with
        // parentheses, which Clang 14 does not accept for aggregates.
        cancel_handler(Withdraw w, waiter* p) : withdraw(std::move(w)), parked(p) {}

        Withdraw withdraw;
        waiter* parked;
        void operator()(asio::cancellation_type type) {
            // Waiting has no side effects, so any kind of cancellation is fine.
            if (type != asio::cancellation_type::none) withdraw(parked);
        }
    };

    using work_guard = decltype(asio::make_work_guard(std::declval<Handler&>(),
                                                      std::declval<const IoExecutor&>()));
    work_guard work_;
    asio::cancellation_slot slot_;
    Handler handler_;
};

/// Parks `handler`. If it has a cancellation slot, cancelling the operation
/// calls `withdraw(waiter*)` on the thread that emits the cancellation. The
/// waiter must be made (and so the slot armed) before it is published where
/// others can complete it.
template <class Handler, class IoExecutor, class Withdraw>
std::unique_ptr<waiter> make_waiter(Handler&& handler, const IoExecutor& io_executor,
                                    Withdraw withdraw) {
    auto parked = std::make_unique<handler_waiter<std::decay_t<Handler>, IoExecutor>>(
        std::forward<Handler>(handler), io_executor);
    parked->accept_cancellation(std::move(withdraw));
    return parked;
}

/// Completes `handler` with `ec` for an operation that finished in its
/// initiating function, where the handler may not run: posted to the
/// handler's associated executor, or to `io_executor` when it has none.
template <class Handler, class IoExecutor>
void post_completion(Handler&& handler, const IoExecutor& io_executor, error_code ec) {
    auto executor = asio::get_associated_executor(handler, io_executor);
    asio::post(executor, [handler = std::forward<Handler>(handler), ec]() mutable {
        std::move(handler)(ec);
    });
}

/// The error a withdrawn waiter completes with.
inline error_code operation_aborted() noexcept {
    return make_error_code(asio::error::operation_aborted);
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_WAITER_HPP
