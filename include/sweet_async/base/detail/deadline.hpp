// sweet_async/base/detail/deadline.hpp: racing a coroutine against a timer.
#ifndef SWEET_ASYNC_BASE_DETAIL_DEADLINE_HPP
#define SWEET_ASYNC_BASE_DETAIL_DEADLINE_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER_IN(experimental, parallel_group)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)

#include <sweet_async/base/detail/asio_compat.hpp>

namespace sweet_async::detail {

template <class R>
asio::awaitable<void> store_into(asio::awaitable<R> work, std::optional<R>& result) {
    result.emplace(co_await std::move(work));
}

/// Runs `work` against a timer of `timeout` on the current executor; whichever
/// finishes first cancels the other. Returns the work's value, or
/// `std::nullopt` when the deadline came first; rethrows the work's own
/// exception. (Unlike `awaitable_operators::operator||`, a work that fails
/// before the deadline fails at once instead of waiting for the timer.)
template <class R>
asio::awaitable<std::optional<R>> within(asio::awaitable<R> work,
                                         std::chrono::nanoseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    // The value stays here rather than travelling through the group's
    // completion: the group resumes us only after both operations ended.
    std::optional<R> result;
    asio::steady_timer timer(executor, timeout);
    auto [order, failure, timer_result] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, store_into(std::move(work), result), detail::deferred),
            timer.async_wait(detail::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    if (order[0] == 1 && !timer_result) co_return std::nullopt;  // the deadline came first
    if (failure) std::rethrow_exception(failure);
    co_return result;
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_DEADLINE_HPP
