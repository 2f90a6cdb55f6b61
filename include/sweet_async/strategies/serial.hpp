// sweet_async/strategies/serial.hpp: one event at a time, in arrival order.
#ifndef SWEET_ASYNC_STRATEGIES_SERIAL_HPP
#define SWEET_ASYNC_STRATEGIES_SERIAL_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(post)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/task_options.hpp>

namespace sweet_async {

/// Processes events one at a time, in the order they arrived. The cheapest
/// strategy per event: with a synchronous processor, a flowing stream costs
/// no suspension, no allocation and no lock per event.
///
/// ```cpp
/// .receiver(sa::serial{}, process)                      // no per-event timeout
/// .receiver(sa::serial{.timeout = 250ms}, process)      // events ending timed_out past 250 ms
/// ```
struct serial {
    /// Per-event processing timeout; none by default.
    std::optional<std::chrono::nanoseconds> timeout{};

    /// "serial", for tracing and statistics.
    std::string_view name() const noexcept { return "serial"; }
    /// Never reads `event::created()`.
    static constexpr bool reads_creation_time = false;

    /// Throws `async_task_exception` (`invalid_configuration`) naming the first
    /// field of its own whose value cannot work; called when the task is built.
    void validate(const task_options& options) const {
        options.require_positive("serial.timeout", timeout);
    }

    /// How many events may be processed back to back before the consumer
    /// yields its thread to other work on the executor.
    static constexpr unsigned yield_interval = 1024;

    /// The most events processed as one run (see `receiver::process_ready`):
    /// enough to share the hand-offs' fences, few enough that a producer or a
    /// next stage that parks during a run of slow events is not kept long.
    static constexpr unsigned run_length = 16;

    /// The consumer coroutine: takes each event from `receiver` in arrival order and
    /// processes it before taking the next; returns when the stream has ended.
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        unsigned budget = yield_interval;
        for (;;) {
            // Drain whatever is ready before suspending: on a busy stream the
            // consumer never waits.
            while (const std::size_t taken =
                       receiver.process_ready(std::min(budget, run_length), timeout)) {
                // A coroutine processor, or a retry waiting its backoff,
                // continues in flight; the next event waits for it.
                if (receiver.in_flight() != 0) co_await receiver.wait_in_flight_below(1);
                budget -= static_cast<unsigned>(taken);
                if (budget == 0) {
                    budget = yield_interval;
                    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                }
            }
            if (!co_await receiver.wait_for_events()) co_return;
        }
    }
};

}  // namespace sweet_async

/// "serial", or "serial(timeout=250ms)" with a per-event timeout.
template <>
struct fmt::formatter<sweet_async::serial> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::serial& s, fmt::format_context& ctx) const {
        if (!s.timeout) return sweet_async::detail::write_text(ctx, "serial");
        return sweet_async::detail::write_text(
            ctx, fmt::format("serial(timeout={})", sweet_async::detail::duration_text(*s.timeout)));
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_SERIAL_HPP
