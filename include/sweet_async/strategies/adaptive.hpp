// sweet_async/strategies/adaptive.hpp: measures what each way of processing achieves and follows
// the best.
#ifndef SWEET_ASYNC_STRATEGIES_ADAPTIVE_HPP
#define SWEET_ASYNC_STRATEGIES_ADAPTIVE_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/receiver/batch_gatherer.hpp>
#include <sweet_async/receiver/receiver.hpp>
#include <sweet_async/strategies/adaptive_controller.hpp>

namespace sweet_async {

/// Processes the stream in windows of `sample_size` events (or `window_time`,
/// whichever ends first) and, after each
/// window, lets an `adaptive_controller` decide from what that window really
/// achieved (throughput over the time work was available, and latency)
/// whether to stay, or to move between serial, parallel (tuning its
/// concurrency within `workers`) and batched (tuning the batch size within
/// `batch_sizes`, only with a per-batch processor). It re-checks every
/// `recheck_every` windows and when throughput drops, so a change in the
/// workload is followed. Its current choice and every decision, with the
/// figures behind it, are in the task's `strategy_report()` and traced.
///
/// Like `parallel`, it may call the processor from several threads at once.
///
/// ```cpp
/// .receiver(sa::adaptive{.sample_size = 200, .workers = {1, 16}}, process)
/// ```
struct adaptive {
    /// Events per measurement window.
    std::size_t sample_size = 100;
    /// The longest a measurement window lasts: with slow events, a window of
    /// `sample_size` events under a poor choice would cost far more than
    /// the exploring can win back.
    std::chrono::nanoseconds window_time = std::chrono::milliseconds(10);
    /// Concurrency bounds when it runs in parallel.
    min_max<std::size_t> workers{1, 8};
    /// Batch size bounds when it runs in batches (per-batch processors only).
    min_max<std::size_t> batch_sizes{8, 512};
    /// The longest a partial batch waits for more events.
    std::chrono::nanoseconds batch_window = std::chrono::milliseconds(10);
    /// Windows on a settled choice before everything is measured again.
    std::size_t recheck_every = 20;
    /// Per-event (per-call) processing timeout; none by default.
    std::optional<std::chrono::nanoseconds> timeout{};
    /// Where processors run in parallel; the task's executor when empty.
    asio::any_io_executor offload{};

    /// "adaptive", for tracing and statistics (the current choice is in the report).
    std::string_view name() const noexcept { return "adaptive"; }
    /// Never reads `event::created()`.
    static constexpr bool reads_creation_time = false;

    /// The controller's bounds for a processor that can (or cannot) take batches.
    adaptive_limits limits(bool can_batch) const {
        adaptive_limits l;
        l.workers = workers;
        l.batch_sizes = batch_sizes;
        l.can_batch = can_batch;
        l.recheck_every = recheck_every;
        return l;
    }

    /// Throws `async_task_exception` (`invalid_configuration`) naming the first
    /// field of its own whose value cannot work; called when the task is built.
    void validate(const task_options& options) const {
        if (sample_size == 0)
            throw options.invalid("adaptive.sample_size must be at least 1, got 0");
        try {
            limits(true).validate("adaptive");
        } catch (const std::invalid_argument& e) {
            throw options.invalid(e.what());
        }
        options.require_positive("adaptive.window_time", window_time);
        options.require_positive("adaptive.batch_window", batch_window);
        options.require_positive("adaptive.timeout", timeout);
    }

    /// The consumer coroutine: processes the events of `receiver` window by window,
    /// each with the controller's current choice, reporting every decision through
    /// `receiver.report`; returns when the stream has ended.
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        adaptive_controller controller(limits(Receiver::batch_processor));
        receiver.measure_latency();
        receiver.report(fmt::format("adaptive: {}", controller.current()));
        window<Receiver> current{receiver, *this, offload ? offload : receiver.get_executor()};
        for (bool more = true; more;) {
            const adaptive_choice choice = controller.current();
            const auto started = std::chrono::steady_clock::now();
            current.ends = started + window_time;
            current.idle = std::chrono::nanoseconds::zero();
            (void)receiver.take_measurement();
            switch (choice.mode) {
            case processing_mode::serial: more = co_await current.serially(); break;
            case processing_mode::parallel:
                more = co_await current.in_parallel(choice.concurrency);
                break;
            case processing_mode::batched:
                more = co_await current.in_batches(choice.batch_size);
                break;
            }
            const processing_measurement measured = receiver.take_measurement();
            window_measurement m;
            m.events = measured.finished;
            m.busy = std::chrono::steady_clock::now() - started - current.idle;
            m.mean_latency = measured.mean_latency();
            const auto decisions_before = controller.decision_count();
            const std::string_view phase_before = controller.phase();
            const adaptive_choice next = controller.observe(m);
            // A change of choice, or a verdict that keeps the choice (such as
            // exploration settling on the step it ended with), is reported.
            if (next.mode != processing_mode::parallel) co_await receiver.wait_in_flight_below(1);
            if (controller.decision_count() != decisions_before ||
                controller.phase() != phase_before) {
                receiver.report(
                    fmt::format("adaptive: {}", next),
                    fmt::format("{} -> {}: {}", choice, next, controller.last_reason()));
            }
        }
    }

private:
    /// One measurement window's worth of processing under one choice. Each
    /// way returns false once the stream has ended; `idle` accumulates the
    /// time spent waiting for events with nothing to do.
    template <class Receiver>
    struct window {
        Receiver& receiver;
        const adaptive& options;
        asio::any_io_executor where;
        std::chrono::steady_clock::time_point ends{};
        std::chrono::nanoseconds idle{0};
        batch_gatherer<Receiver> gather{receiver, options.batch_sizes.min, options.batch_window};

        /// True when `taken` events fill the window, or its time is up. A
        /// synchronous processor may be a few nanoseconds per event, so the
        /// clock is read only when `taken` passed a multiple of 16 since
        /// `before`, the count at the last check; a coroutine costs more than
        /// a clock read anyway.
        bool full(std::size_t taken, std::size_t before) const noexcept {
            if (taken >= options.sample_size) return true;
            if (Receiver::synchronous_processor && taken != 0 && taken / 16 == before / 16) {
                return false;
            }
            return std::chrono::steady_clock::now() >= ends;
        }

        asio::awaitable<bool> wait_idle() {
            const auto from = std::chrono::steady_clock::now();
            const bool more = co_await receiver.wait_for_events();
            idle += std::chrono::steady_clock::now() - from;
            co_return more;
        }

        asio::awaitable<bool> serially() {
            for (std::size_t taken = 0, before = 0; !full(taken, before);) {
                // Runs that end where `full` reads the clock share the
                // channels' hand-offs (see `receiver::process_ready`).
                const std::size_t most =
                    std::min<std::size_t>(16 - taken % 16, options.sample_size - taken);
                const std::size_t processed = receiver.process_ready(most, options.timeout);
                if (processed == 0) {
                    if (!co_await wait_idle()) co_return false;
                    continue;
                }
                before = taken;
                taken += processed;
                // A coroutine processor, or a retry waiting its backoff,
                // continues in flight: one at a time.
                if (receiver.in_flight() != 0) co_await receiver.wait_in_flight_below(1);
            }
            co_return true;
        }

        asio::awaitable<bool> in_parallel(std::size_t concurrency) {
            bool more = true;
            for (std::size_t taken = 0, before = 0; more && !full(taken, before);) {
                if (receiver.in_flight() >= concurrency) {
                    co_await receiver.wait_in_flight_below(concurrency);
                    continue;
                }
                const std::size_t dispatched = receiver.dispatch_ready(
                    concurrency - receiver.in_flight(), options.timeout, where);
                if (dispatched == 0) {
                    // Waiting with work in flight is not idle time.
                    more = receiver.in_flight() == 0 ? co_await wait_idle()
                                                     : co_await receiver.wait_for_events();
                    continue;
                }
                before = taken;
                taken += dispatched;
            }
            // Events still in flight carry over into the next window when it
            // runs in parallel too (no stall at every window's end); the
            // run loop drains them before any other way of processing.
            if (!more) co_await receiver.wait_in_flight_below(1);
            co_return more;
        }

        asio::awaitable<bool> in_batches(std::size_t batch_size) {
            gather.resize(batch_size);
            // A batch costs a call: the clock is read once per batch.
            for (std::size_t taken = 0;
                 taken < options.sample_size && std::chrono::steady_clock::now() < ends;) {
                // The window's time is up with a partial batch: it goes now. Kept for a later
                // window, it would be lost if the stream ended under another choice, and it
                // would wait longer than either window promises.
                const bool more = co_await gather.next(ends);
                idle += gather.take_waited();
                if (!more) co_return false;
                taken += gather.gathered();
                co_await gather.flush(options.timeout);
            }
            co_return true;
        }
    };
};

}  // namespace sweet_async

/// "adaptive(sample_size=100, workers=1..8, batch_sizes=8..512)".
template <>
struct fmt::formatter<sweet_async::adaptive> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::adaptive& a, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("adaptive(sample_size={}, workers={}, batch_sizes={})", a.sample_size,
                             a.workers, a.batch_sizes));
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_ADAPTIVE_HPP
