// sweet_async/receiver/impl/receiver.hpp: how the receiver runs what strategies hand it.
#ifndef SWEET_ASYNC_RECEIVER_IMPL_RECEIVER_HPP
#define SWEET_ASYNC_RECEIVER_IMPL_RECEIVER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER_IN(experimental, awaitable_operators)
#include SWEET_ASYNC_ASIO_HEADER(post)
#include SWEET_ASYNC_ASIO_HEADER(strand)

#include <sweet_async/base/detail/detached_owning.hpp>
#include <sweet_async/receiver/receiver.hpp>

namespace sweet_async {

template <class T, class Collection, class Id, class R, class Collector, class Shape>
receiver<T, Collection, Id, R, Collector, Shape>::receiver(const std::shared_ptr<state_type>& state,
                                                           std::shared_ptr<runner_type> runner,
                                                           bool takes_event, Collector collector)
    : state_(*state),
      source_(state->channel(), state->consumer_executor(), &outlets_.gate(),
              state->options.throttle),
      runner_(std::move(runner)),
      outcomes_(*state, std::move(collector), takes_event),
      context_(runner_->new_context()),
      in_flight_(state, returned{this}) {
    for (const auto& box : outcomes_.outboxes())
        outlets_.add(box, *state);
    outlets_.add(state->dead_letter_box(), *state);
    if (auto pacer = source_.pacing()) {
        state->listen_for_stop(pacer);
        // A stop made before the listener was: passed on here.
        if (state->stopping()) pacer->stop_requested(detail::stop_request::immediate);
    }
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
void receiver<T, Collection, Id, R, Collector, Shape>::process(event_type&& e,
                                                               std::optional<duration> timeout) {
    if (state_.stopping()) return cancel(std::move(e));
    const bool stamped = outcomes_.stamps(e);
    if constexpr (synchronous_processor) {
        if (stamped) detail::event_access::mark_started(e, event_clock::now());
        attempt result;
        runner_->run_sync(e, context_, timeout, result);
        if (!result.wait) {
            if (stamped) detail::event_access::mark_completed(e, event_clock::now());
            return outcomes_.record(std::move(e), std::move(result), timeout);
        }
        spawn_attempts(std::move(e), std::move(result), timeout, state_.consumer_executor(),
                       completion_order::completion, stamped);
    } else {
        spawn_attempts(std::move(e), attempt{}, timeout, state_.consumer_executor(),
                       completion_order::completion, stamped);
    }
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
std::size_t
receiver<T, Collection, Id, R, Collector, Shape>::process_ready(std::size_t most,
                                                                std::optional<duration> timeout) {
    std::size_t taken = 0;
    // Whatever ends the run, its hand-offs are fenced before the strategy
    // can wait: a parked producer or next stage must not sleep through it.
    const auto end_run = [this] {
        source_.end_run();
        outlets_.end_run();
    };
    // What the outboxes may claim ahead in their targets: the events ready
    // now, which may all be processed in this run.
    outlets_.begin_run(std::min(most, source_.queued()));
    try {
        while (taken < most) {
            auto e = source_.try_receive_in_run();
            if (!e) break;
            ++taken;
            process(std::move(*e), timeout);
            if (in_flight() != 0) break;
        }
    } catch (...) {
        end_run();
        throw;
    }
    end_run();
    return taken;
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
void receiver<T, Collection, Id, R, Collector, Shape>::dispatch(event_type&& e,
                                                                std::optional<duration> timeout,
                                                                const asio::any_io_executor& where,
                                                                completion_order order) {
    if (state_.stopping()) {
        attempt cancelled;
        cancelled.cancelled = true;
        return outcomes_.record(std::move(e), std::move(cancelled), timeout, order);
    }
    if constexpr (synchronous_processor) {
        std::vector<event_type> run;
        run.push_back(std::move(e));
        dispatch_run(run, timeout, where, order);
    } else {
        // Its own strand, so that an interruption can be delivered where
        // the coroutine runs.
        const bool stamped = outcomes_.stamps(e);
        spawn_attempts(std::move(e), attempt{}, timeout, strand_on(where), order, stamped);
    }
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
std::size_t receiver<T, Collection, Id, R, Collector, Shape>::dispatch_ready(
    std::size_t free, std::optional<duration> timeout, const asio::any_io_executor& where,
    completion_order order) {
    if (free == 0) return 0;
    if constexpr (synchronous_processor) {
        // One event at a time, in turns: the first `free` events start at
        // once, as they would one by one. No more than were queued when it
        // began, so that a flowing stream does not keep it dealing.
        std::size_t left = std::max<std::size_t>(source_.queued(), 1);
        return dispatch_runs(
            free, left, timeout, where,
            [this, &left](std::vector<event_type>& run, std::size_t) -> std::size_t {
                if (left == 0) return 0;
                auto e = try_receive();
                if (!e) return 0;
                --left;
                run.push_back(std::move(*e));
                return 1;
            },
            order);
    }
    auto e = try_receive();
    if (!e) return 0;
    dispatch(std::move(*e), timeout, where, order);
    return 1;
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
asio::awaitable<bool>
receiver<T, Collection, Id, R, Collector, Shape>::wait_for_events_or_outcome() {
    const std::size_t busy = in_flight();
    if (busy == 0) co_return co_await wait_for_events();
    if (source_.ended() || source_.held_at_gate()) {
        // Nothing can arrive (or what waits for the next stage must go first,
        // and must not be interrupted half-way): only outcomes matter.
        if (source_.held_at_gate()) co_await source_.wait_for_events();
        co_await wait_in_flight_below(busy);
        co_return true;
    }
    using namespace asio::experimental::awaitable_operators;
    // Whichever ends first cancels the other; both support that.
    co_await (source_.wait_for_events() || in_flight_.wait_below(busy));
    co_return true;
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
asio::awaitable<void>
receiver<T, Collection, Id, R, Collector, Shape>::cancel_remaining(std::string reason) {
    co_await wait_in_flight_below(1);
    source_.close();
    source_.receive_freely();  // what it cancels sends nothing downstream, at once
    for (;;) {
        while (auto e = try_receive())
            cancel(std::move(*e), reason);
        if (!co_await wait_for_events()) co_return;
    }
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
void receiver<T, Collection, Id, R, Collector, Shape>::spawn_attempts(
    event_type&& e, attempt&& r, std::optional<duration> timeout, asio::any_io_executor strand,
    completion_order order, bool stamped) {
    in_flight_.started();
    auto entry = in_flight_.enter(strand);
    asio::co_spawn(
        strand,
        // The coroutine owns what it touches, as in `dispatch_run`.
        // NOLINTNEXTLINE(bugprone-use-after-move): the coroutine frame's copies
        [](std::shared_ptr<runner_type> runner, std::shared_ptr<inbox_type> inbox, event_type e,
           attempt r, std::optional<duration> timeout, completion_order order, bool stamped,
           std::shared_ptr<detail::interruptible> entry) -> asio::awaitable<void> {
            if (r.made == 0 && runner->state().stopping()) {
                r.cancelled = true;
            } else {
                if (r.made == 0 && stamped) {
                    detail::event_access::mark_started(e, event_clock::now());
                }
                processor_context<Id> context = runner->new_context();
                co_await runner->run_async(e, context, timeout, r);
                if (stamped) detail::event_access::mark_completed(e, event_clock::now());
            }
            entry->ended = true;
            inbox->deliver(finished{
                std::move(e), std::move(r), timeout, order, stamped, std::move(entry), {}});
        }(runner_, in_flight_.handoff(), std::move(e), std::move(r), timeout, order, stamped,
                                                         entry),
        detail::detached_owning(entry, entry->signal.slot()));
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
template <class Take>
std::size_t receiver<T, Collection, Id, R, Collector, Shape>::dispatch_runs(
    std::size_t free, std::size_t ready, std::optional<duration> timeout,
    const asio::any_io_executor& where, Take&& take, completion_order order) {
    static_assert(synchronous_processor, "sweet_async: runs are for synchronous processors");
    const std::size_t slots = std::min(free, ready);
    if (slots == 0) return 0;
    if (runs_.size() < slots) runs_.resize(slots);
    const std::size_t most = slots * most_per_worker;
    std::size_t dealt = 0;
    for (std::size_t i = 0; dealt < most; ++i) {
        auto& run = runs_[i % slots];
        const std::size_t taken =
            run.size() < most_per_worker ? take(run, most_per_worker - run.size()) : 0;
        if (taken == 0 && run.size() < most_per_worker) break;  // nothing left
        dealt += taken;
    }
    for (std::size_t i = 0; i < slots; ++i) {
        if (!runs_[i].empty()) dispatch_run(runs_[i], timeout, where, order);
    }
    return dealt;
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
void receiver<T, Collection, Id, R, Collector, Shape>::dispatch_run(
    std::vector<event_type>& events, std::optional<duration> timeout,
    const asio::any_io_executor& where, completion_order order) {
    static_assert(synchronous_processor, "sweet_async: dispatch_run is for synchronous processors");
    in_flight_.started();
    asio::post(where, [runner = runner_, inbox = in_flight_.handoff(), run = std::move(events),
                       timeout, where, order, stamps = outcomes_.stamping()]() mutable {
        std::vector<finished> results;
        results.reserve(run.size());
        processor_context<Id> context = runner->new_context();
        for (event_type& e : run) {
            attempt result;
            const bool stamped = stamps(e);
            if (runner->state().stopping()) {
                result.cancelled = true;
            } else {
                if (stamped) detail::event_access::mark_started(e, event_clock::now());
                runner->run_sync(e, context, timeout, result);
                if (stamped && !result.wait) {
                    detail::event_access::mark_completed(e, event_clock::now());
                }
            }
            asio::any_io_executor continue_on;
            if (result.wait) continue_on = where;
            results.push_back(finished{std::move(e), std::move(result), timeout, order, stamped,
                                       nullptr, std::move(continue_on)});
        }
        inbox->deliver_all(results);
    });
    events = {};
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
void receiver<T, Collection, Id, R, Collector, Shape>::take_back(finished&& f) {
    if (f.entry) in_flight_.leave(*f.entry);
    if (f.continue_on) {
        return spawn_attempts(std::move(f.e), std::move(f.result), f.timeout,
                              strand_on(f.continue_on), f.order, f.stamped);
    }
    outcomes_.record(std::move(f.e), std::move(f.result), f.timeout, f.order);
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
void receiver<T, Collection, Id, R, Collector, Shape>::spawn_batch_attempts(
    std::vector<event_type>& batch, batch_attempt&& r, std::optional<duration> timeout) {
    in_flight_.started();
    auto entry = in_flight_.enter(state_.consumer_executor());
    asio::co_spawn(
        state_.consumer_executor(),
        [](receiver* self, std::vector<event_type> batch, std::vector<T> payloads, batch_attempt r,
           std::optional<duration> timeout,
           std::shared_ptr<detail::interruptible> entry) -> asio::awaitable<void> {
            co_await self->runner_->run_async(payloads, timeout, r);
            entry->ended = true;
            self->in_flight_.leave(*entry);
            self->outcomes_.record(batch, payloads, std::move(r), timeout);
            self->in_flight_.ended();
        }(this, std::move(batch), std::exchange(payloads_, {}), std::move(r), timeout, entry),
        detail::detached_owning(entry, entry->signal.slot()));
    batch.clear();
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
asio::any_io_executor
receiver<T, Collection, Id, R, Collector, Shape>::strand_on(const asio::any_io_executor& where) {
    if (where != strands_on_) {
        strands_on_ = where;
        strands_.clear();
        next_strand_ = 0;
    }
    if (strands_.size() < strands_kept) return strands_.emplace_back(asio::make_strand(where));
    return strands_[next_strand_++ % strands_kept];
}

template <class T, class Collection, class Id, class R, class Collector, class Shape>
bool receiver<T, Collection, Id, R, Collector, Shape>::begin_batch(std::vector<event_type>& batch) {
    if (batch.empty()) return false;
    if (state_.stopping()) {
        for (auto& e : batch)
            cancel(std::move(e));
        batch.clear();
        return false;
    }
    payloads_.clear();
    const auto started = event_clock::now();
    for (auto& e : batch) {
        detail::event_access::mark_started(e, started);
        payloads_.push_back(std::move(e).payload());
    }
    return true;
}

}  // namespace sweet_async

#endif  // SWEET_ASYNC_RECEIVER_IMPL_RECEIVER_HPP
