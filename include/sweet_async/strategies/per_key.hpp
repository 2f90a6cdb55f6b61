// sweet_async/strategies/per_key.hpp: in order within a key, concurrently across keys.
#ifndef SWEET_ASYNC_STRATEGIES_PER_KEY_HPP
#define SWEET_ASYNC_STRATEGIES_PER_KEY_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/exception_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/receiver/concurrency_limit.hpp>
#include <sweet_async/receiver/detail/in_flight_bound.hpp>
#include <sweet_async/receiver/detail/key_lanes.hpp>

namespace sweet_async {

/// The settings of a `per_key` strategy, besides its key function.
struct per_key_options {
    /// Bounds on the events in flight, over all keys (one per key at most).
    min_max<std::size_t> workers{1, 4};
    /// Events that may wait over all keys while their key is busy; receiving
    /// stops when they fill (the channel's backpressure).
    std::size_t backlog = 1024;
    /// Events that may wait for one key; receiving stops when an event's key
    /// has this many waiting, until the first of them starts.
    std::size_t backlog_per_key = 64;
    /// After an event of a key fails or times out (after its retries), end
    /// that key's later events cancelled instead of processing them: for
    /// work where an event makes no sense once an earlier one of its key
    /// failed (a ledger's entries, a session's steps).
    bool stop_key_on_failure = false;
    /// Per-event processing timeout; none by default.
    std::optional<std::chrono::nanoseconds> timeout{};
    /// Where processors run; the task's executor when empty.
    asio::any_io_executor offload{};
    /// A bound within `workers` that can change while the task runs (see
    /// `concurrency_limit`); none by default.
    concurrency_limit limit{};
};

/// Processes events with the same key one at a time, in arrival order, and
/// events of different keys concurrently, never more than `workers.max` in
/// flight overall: orders of one account, messages of one session, in
/// order, and the rest of the stream in parallel (Akka Streams'
/// `mapAsyncPartitioned`).
///
/// `key` maps a payload to its key, any type with `std::hash` and `==`.
/// Keys take turns: a hot key gets one worker like any other, and a
/// backlog of one key waits in its own bounded lane rather than in the
/// channel in front of other keys' events. A failed event does not hold
/// its key's later events back unless `stop_key_on_failure` asks for it.
/// Results reach the collector as events complete (in key order for each
/// key). Retries, the per-event timeout and cancellation are as for
/// `parallel`; a key function that throws fails that event.
///
/// ```cpp
/// .receiver(sa::per_key([](const transfer& t) { return t.account; }, {.workers = {1, 16}}),
///           apply_transfer)
/// ```
template <class Key>
struct per_key {
    Key key;                  ///< Maps a payload to its key.
    per_key_options options;  ///< Everything else.

    /// A per-key strategy keyed by `key`, with `options`.
    explicit per_key(Key key, per_key_options options = {})
        : key(std::move(key)),
          options(std::move(options)) {}

    /// "per_key", for tracing and statistics.
    std::string_view name() const noexcept { return "per_key"; }
    /// Never reads `event::created()`.
    static constexpr bool reads_creation_time = false;

    /// Throws `async_task_exception` (`invalid_configuration`) naming the first
    /// field of its own whose value cannot work; called when the task is built.
    void validate(const task_options& task) const {
        if (options.workers.max == 0)
            throw task.invalid("per_key.workers.max must be at least 1, got 0");
        if (!options.workers.valid()) {
            throw task.invalid(
                fmt::format("per_key.workers.min must not exceed per_key.workers.max, got {}",
                            options.workers));
        }
        if (options.backlog == 0) throw task.invalid("per_key.backlog must be at least 1, got 0");
        if (options.backlog_per_key == 0)
            throw task.invalid("per_key.backlog_per_key must be at least 1, got 0");
        task.require_positive("per_key.timeout", options.timeout);
    }

    /// The consumer coroutine: receives events into their keys' lanes while
    /// there is room, starts the next event of each free key while fewer than
    /// `workers.max` are in flight, and returns when the stream has ended and
    /// every event has its outcome.
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        using event_type = typename Receiver::event_type;
        using payload_type = typename Receiver::payload_type;
        static_assert(std::is_invocable_v<const Key&, const payload_type&>,
                      "sweet_async: per_key's key must be callable with the payload, as "
                      "K(const T&)");
        using key_type = std::decay_t<std::invoke_result_t<const Key&, const payload_type&>>;
        detail::key_lanes<event_type, key_type> lanes(options.backlog, options.backlog_per_key,
                                                      options.stop_key_on_failure);
        const auto watch = receiver.watch_outcomes([&lanes](std::uint64_t sequence, outcome kind) {
            lanes.finished(sequence, kind == outcome::failed || kind == outcome::timed_out);
        });
        const asio::any_io_executor where =
            options.offload ? options.offload : receiver.get_executor();
        detail::in_flight_bound bound(options.limit, options.workers);
        std::optional<event_type> held;  // received, but its key's lane is full
        std::optional<key_type> held_key;
        for (;;) {
            // Receive while there is room, start what may start, and again
            // while that makes progress: a start frees a place in a lane.
            for (bool progress = true; progress;) {
                progress = false;
                while (!lanes.full()) {
                    if (!held) {
                        held = receiver.try_receive();
                        if (!held) break;
                        held_key = key_of<key_type>(receiver, *held);
                        if (!held_key) {
                            held.reset();
                            continue;  // failed: its key function threw
                        }
                    }
                    const auto added = lanes.add(*held_key, *held);
                    if (added == decltype(lanes)::added::lane_full) break;  // holds receiving
                    if (added == decltype(lanes)::added::stopped) {
                        receiver.cancel(std::move(*held), stopped_reason());
                    }
                    held.reset();
                    progress = true;
                }
                for (auto& e : lanes.stopped_events())
                    receiver.cancel(std::move(e), stopped_reason());
                lanes.stopped_events().clear();
                if (start_ready(receiver, lanes, bound.current(receiver, *this), where) != 0)
                    progress = true;
            }
            // Nothing in flight means no key is busy, so every waiting event
            // would have started: the lanes are empty, and only new events matter.
            bound.observe(receiver);
            const std::size_t busy = receiver.in_flight();
            if (busy == 0) {
                if (!co_await receiver.wait_for_events()) break;
            } else if (busy >= bound.current()) {
                co_await bound.wait_for_room(receiver);
            } else if (held || lanes.full()) {
                co_await receiver.wait_in_flight_below(busy);
            } else {
                co_await receiver.wait_for_events_or_outcome();
            }
        }
        co_await receiver.wait_in_flight_below(1);
    }

private:
    /// Starts the waiting events of free keys while fewer than `most` units
    /// are in flight, and returns how many it started. A coroutine processor
    /// gets one event at a time. A synchronous processor's events go out as
    /// `parallel`'s do, in runs that cost one hand-off each (dealt over the
    /// free workers, keys taking turns): of each key, every waiting event in
    /// its order; one event at a time, as for a coroutine, when a retry may
    /// wait its backoff or keys stop on failure.
    template <class Receiver, class Lanes>
    std::size_t start_ready(Receiver& receiver, Lanes& lanes, std::size_t most,
                            const asio::any_io_executor& where) const {
        std::size_t started = 0;
        if constexpr (Receiver::synchronous_processor) {
            // One event per unit when a retry may wait its backoff (it would leave its run and
            // run beside it, beyond `workers.max`: the stress tests saw 3 calls at once with 2
            // workers) or a key stopped on failure must not run what was queued after it.
            if (!options.stop_key_on_failure && !receiver.retries_wait()) {
                const std::size_t busy = receiver.in_flight();
                if (busy >= most) return 0;
                return receiver.dispatch_runs(most - busy, lanes.ready_lanes(), options.timeout,
                                              where, [&lanes](auto& run, std::size_t at_most) {
                                                  return lanes.take_ready(run, at_most);
                                              });
            }
        }
        while (receiver.in_flight() < most) {
            auto e = lanes.next_ready();
            if (!e) break;
            receiver.dispatch(std::move(*e), options.timeout, where);
            ++started;
        }
        return started;
    }

    /// The key of `e`, or none when the key function threw (the event then
    /// ended failed).
    template <class KeyType, class Receiver, class Event>
    std::optional<KeyType> key_of(Receiver& receiver, Event& e) const {
        try {
            return std::invoke(key, std::as_const(e).payload());
        } catch (...) {
            receiver.fail(std::move(e), "the key function threw: " +
                                            detail::exception_text(std::current_exception()));
            return std::nullopt;
        }
    }

    static std::string stopped_reason() {
        return "its key was stopped: an earlier event of the key failed (stop_key_on_failure)";
    }
};

}  // namespace sweet_async

/// "per_key(workers=1..16, backlog=1024, backlog_per_key=64)", with
/// ", stop_key_on_failure" and ", timeout=250ms" when set.
template <class Key>
struct fmt::formatter<sweet_async::per_key<Key>> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::per_key<Key>& p, fmt::format_context& ctx) const {
        const auto& o = p.options;
        std::string text = fmt::format("per_key(workers={}, backlog={}, backlog_per_key={}",
                                       o.workers, o.backlog, o.backlog_per_key);
        if (o.stop_key_on_failure) text += ", stop_key_on_failure";
        if (o.limit) text += fmt::format(", limit={}", o.limit);
        if (o.timeout) {
            text += fmt::format(", timeout={}", sweet_async::detail::duration_text(*o.timeout));
        }
        text += ')';
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_PER_KEY_HPP
