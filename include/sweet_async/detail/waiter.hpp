// sweet_async/detail/waiter.hpp: a parked completion handler, type-erased.
#ifndef SWEET_ASYNC_DETAIL_WAITER_HPP
#define SWEET_ASYNC_DETAIL_WAITER_HPP

#include <memory>
#include <system_error>
#include <utility>

#include <asio/associated_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

namespace sweet_async::detail {

/// A suspended operation waiting for a condition (space, data, completion).
/// Waiters are allocated only on slow paths, when an operation must suspend.
class waiter {
public:
    virtual ~waiter() = default;
    /// Posts the operation's completion with `ec` to the handler's executor.
    /// Never runs the handler inline, so it is safe to call with locks held
    /// and from any thread.
    virtual void complete(std::error_code ec) = 0;
};

template <class Handler, class IoExecutor>
class handler_waiter final : public waiter {
public:
    handler_waiter(Handler handler, const IoExecutor& io_executor)
        : work_(asio::make_work_guard(handler, io_executor)),
          handler_(std::move(handler)) {}

    void complete(std::error_code ec) override {
        // The guard keeps the handler's execution context running while the
        // operation is parked; post() counts as work from here on.
        auto work = std::move(work_);
        asio::post(work.get_executor(),
                   [handler = std::move(handler_), ec]() mutable { std::move(handler)(ec); });
        work.reset();
    }

private:
    using work_guard = decltype(asio::make_work_guard(std::declval<Handler&>(),
                                                      std::declval<const IoExecutor&>()));
    work_guard work_;
    Handler handler_;
};

template <class Handler, class IoExecutor>
std::unique_ptr<waiter> make_waiter(Handler&& handler, const IoExecutor& io_executor) {
    return std::make_unique<handler_waiter<std::decay_t<Handler>, IoExecutor>>(
        std::forward<Handler>(handler), io_executor);
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_WAITER_HPP
