// sweet_async/strategies/parallel.hpp: several events in flight at once.
#ifndef SWEET_ASYNC_STRATEGIES_PARALLEL_HPP
#define SWEET_ASYNC_STRATEGIES_PARALLEL_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/receiver/concurrency_limit.hpp>
#include <sweet_async/receiver/detail/in_flight_bound.hpp>
#include <sweet_async/receiver/receiver.hpp>

namespace sweet_async {

/// Processes up to `workers.max` events at the same time.
///
/// A synchronous processor runs on the threads of the executor (so on an
/// `asio::thread_pool` or an `io_context` run by several threads, CPU-bound
/// work really runs in parallel): each idle worker takes a run of the events
/// that are ready, dealt out round-robin so that the first `workers.max`
/// start at once, and processes it one event after another; a flowing stream
/// then costs one hand-off per run, not per event. A coroutine processor is
/// spawned there per event (so its waits overlap). When the task's executor
/// has a single thread, give CPU-bound work another one with `offload`. The
/// processor is called concurrently and must be safe to call from several
/// threads at once.
///
/// Never more than `workers.max` processors are in flight, nor more than
/// `limit` when it is given (a bound that can change while the task runs). Results reach the
/// collector as they complete, or in arrival order with `ordered = true`
/// (a slow event then holds back the results that overtook it, not the
/// processing).
///
/// ```cpp
/// .receiver(sa::parallel{.workers = {2, 8}}, hash_file)
/// .receiver(sa::parallel{.workers = {1, 64}, .ordered = true}, fetch)  // coroutine processor
/// ```
struct parallel {
    /// Bounds on the processors in flight. This strategy runs up to `max`;
    /// `min` is the floor the adaptive strategy tunes within.
    min_max<std::size_t> workers{1, 4};
    /// Hand results to the collector in arrival order.
    bool ordered = false;
    /// Per-event processing timeout; none by default.
    std::optional<std::chrono::nanoseconds> timeout{};
    /// Where processors run; the task's executor when empty.
    asio::any_io_executor offload{};
    /// A bound within `workers` that can change while the task runs, set by
    /// hand or by measured latency (see `concurrency_limit`); none by default.
    concurrency_limit limit{};

    /// "parallel", for tracing and statistics.
    std::string_view name() const noexcept { return "parallel"; }
    /// Never reads `event::created()`.
    static constexpr bool reads_creation_time = false;

    /// Throws `async_task_exception` (`invalid_configuration`) naming the first
    /// field of its own whose value cannot work; called when the task is built.
    void validate(const task_options& options) const {
        if (workers.max == 0)
            throw options.invalid("parallel.workers.max must be at least 1, got 0");
        if (!workers.valid()) {
            throw options.invalid(fmt::format(
                "parallel.workers.min must not exceed parallel.workers.max, got {}", workers));
        }
        options.require_positive("parallel.timeout", timeout);
    }

    /// The consumer coroutine: dispatches each event of `receiver` to `offload` (or the
    /// task's executor) while fewer than `workers.max` are in flight; returns when the stream
    /// has ended and every dispatched event has its outcome.
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        const asio::any_io_executor where = offload ? offload : receiver.get_executor();
        const auto order = ordered ? completion_order::arrival : completion_order::completion;
        detail::in_flight_bound bound(limit, workers);
        for (;;) {
            const std::size_t most = bound.current(receiver, *this);
            while (receiver.in_flight() < most &&
                   receiver.dispatch_ready(most - receiver.in_flight(), timeout, where, order) !=
                       0) {
            }
            bound.observe(receiver);
            if (receiver.in_flight() >= most) {
                co_await bound.wait_for_room(receiver);
            } else if (!co_await receiver.wait_for_events()) {
                break;
            }
        }
        co_await receiver.wait_in_flight_below(1);
    }
};

}  // namespace sweet_async

/// "parallel(workers=2..8)", with ", ordered", ", limit=..." and ", timeout=250ms" when set.
template <>
struct fmt::formatter<sweet_async::parallel> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::parallel& p, fmt::format_context& ctx) const {
        std::string text =
            fmt::format("parallel(workers={}{}", p.workers, p.ordered ? ", ordered" : "");
        if (p.limit) text += fmt::format(", limit={}", p.limit);
        if (p.timeout) {
            text += fmt::format(", timeout={}", sweet_async::detail::duration_text(*p.timeout));
        }
        text += ')';
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_PARALLEL_HPP
