// sweet_async/task/detail/completion.hpp: a one-shot result that many may wait for.
#ifndef SWEET_ASYNC_TASK_DETAIL_COMPLETION_HPP
#define SWEET_ASYNC_TASK_DETAIL_COMPLETION_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/error.hpp>
#include <sweet_async/channel/detail/waiter.hpp>

namespace sweet_async::detail {

/// The exception a wait that ended with `ec` reports: `async_task_exception`
/// (`abandoned`, naming the task), otherwise `system_error` (such as
/// `operation_aborted` for a wait its caller cancelled).
inline std::exception_ptr wait_failure(error_code ec, std::string_view task_name) {
    if (ec == async_task_error::abandoned) {
        return std::make_exception_ptr(
            async_task_exception(ec, fmt::format("task '{}': {}", task_name, ec.message())));
    }
    return std::make_exception_ptr(system_error(ec));
}

/// The exception of a wait that found the result already handed out.
inline async_task_exception result_taken_error(std::string_view task_name) {
    return async_task_exception(
        async_task_error::result_taken,
        fmt::format("task '{}': the final result was already taken by an earlier wait()",
                    task_name));
}

/// Holds the result of a task once it ends. Waiting never blocks a thread:
/// `async_wait` parks the caller's completion handler until `set` posts it.
/// The result can be taken out once. When no result will ever come,
/// `abandon` ends every wait with an error instead.
template <class Result>
class completion {
public:
    /// Stores the result and wakes every waiter. Called once.
    void set(Result result) {
        std::vector<std::unique_ptr<waiter>> woken;
        {
            std::lock_guard lock(mutex_);
            value_.emplace(std::move(result));
            done_.store(true, std::memory_order_release);
            woken.swap(waiters_);
        }
        for (auto& parked : woken)
            parked->complete({});
    }

    bool done() const noexcept { return done_.load(std::memory_order_acquire); }

    /// Ends every wait with `ec`, now and later, because no result will ever
    /// be set (the task's execution context was destroyed first). Parked
    /// waiters are posted to their own executors. Does nothing once a result
    /// was set.
    void abandon(error_code ec) {
        std::vector<std::unique_ptr<waiter>> woken;
        {
            std::lock_guard lock(mutex_);
            if (value_ || taken_) return;
            abandoned_ = ec;
            woken.swap(waiters_);
        }
        for (auto& parked : woken)
            parked->complete(ec);
    }

    /// Completes (with an empty error code) once the result is set, or with
    /// the error given to `abandon`. Supports per-operation cancellation: a
    /// cancelled wait completes with `operation_aborted` and leaves the result
    /// where it is. `executor` is used only for a handler without an
    /// associated executor of its own.
    template <class CompletionToken>
    auto async_wait(const asio::any_io_executor& executor, CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [this, executor](auto handler) {
                auto parked =
                    make_waiter(std::move(handler), executor, [this](waiter* w) { withdraw(w); });
                std::unique_lock lock(mutex_);
                if (!value_ && !taken_ && !abandoned_) {
                    waiters_.push_back(std::move(parked));
                    return;
                }
                const error_code ec = abandoned_;
                lock.unlock();
                parked->complete(ec);
            },
            token);
    }

    /// Suspends the calling coroutine until the result is set. Throws
    /// `async_task_exception` (`abandoned`, naming `task_name`) when it never
    /// will be, and `system_error` (`operation_aborted`) when the caller
    /// cancelled the wait. `task_name` must outlive the wait.
    asio::awaitable<void> wait_until_done(std::string_view task_name) {
        if (done()) co_return;
        // The caller's executor: the task's own may belong to a context that
        // is being destroyed.
        const asio::any_io_executor caller = co_await asio::this_coro::executor;
        error_code ec;
        co_await async_wait(caller, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) std::rethrow_exception(wait_failure(ec, task_name));
    }

    /// Moves the result out, or returns nothing if it was taken before.
    /// Requires `done()`.
    std::optional<Result> try_take() {
        std::lock_guard lock(mutex_);
        if (!value_) return std::nullopt;
        std::optional<Result> result(std::move(value_));
        value_.reset();
        taken_ = true;
        return result;
    }

    /// Moves the result out. Throws `async_task_exception` (`result_taken`)
    /// if it was taken before. Requires `done()`.
    Result take(std::string_view task_name) {
        std::optional<Result> result = try_take();
        if (!result) throw result_taken_error(task_name);
        return std::move(*result);
    }

private:
    void withdraw(waiter* which) {
        std::unique_ptr<waiter> withdrawn;
        {
            std::lock_guard lock(mutex_);
            auto it = std::find_if(waiters_.begin(), waiters_.end(),
                                   [which](const auto& parked) { return parked.get() == which; });
            if (it == waiters_.end()) return;
            withdrawn = std::move(*it);
            waiters_.erase(it);
        }
        withdrawn->complete(operation_aborted());
    }

    std::mutex mutex_;  // guards the members below; never held across a suspension
    std::optional<Result> value_;
    bool taken_ = false;
    error_code abandoned_;  // set by abandon(): every wait ends with it
    std::atomic<bool> done_{false};
    std::vector<std::unique_ptr<waiter>> waiters_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_COMPLETION_HPP
