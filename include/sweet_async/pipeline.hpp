// sweet_async/pipeline.hpp: what a processing strategy drives.
#ifndef SWEET_ASYNC_PIPELINE_HPP
#define SWEET_ASYNC_PIPELINE_HPP

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <sweet_async/config.hpp>
#include <sweet_async/detail/duration_text.hpp>
#include <sweet_async/detail/emitting_state.hpp>
#include <sweet_async/detail/processor_traits.hpp>
#include <sweet_async/event.hpp>
#include <sweet_async/outcome.hpp>
#include <sweet_async/processor_context.hpp>

namespace sweet_async {

/// The consumer side of one emitting task, as a processing strategy sees it:
/// a source of events and a way to process each one so that it ends with
/// exactly one recorded outcome.
///
/// A strategy receives events (`try_receive` first, `wait_for_events` only
/// when nothing is ready) and hands each one to `process` (or, for
/// synchronous processors, `process_now`, which costs no coroutine frame).
/// Processing applies the task's retries, the per-event timeout the strategy
/// passes, and records the result in the collector or the error list.
/// All calls come from the strategy's coroutine, one at a time.
template <class T, class Collection, class Id, class Processor, class Collector>
class pipeline {
    using traits = detail::processor_traits<Processor, T, Id>;
    using state_type = detail::emitting_state<T, Collection, Id>;

public:
    using event_type = event<T, Id>;
    /// What the processor produces per event (`std::monostate` for void).
    using result_type = typename traits::result_type;
    using duration = std::chrono::nanoseconds;
    /// True when the processor returns its result directly (not a coroutine).
    static constexpr bool synchronous_processor = !traits::is_coroutine;

    pipeline(state_type& state, Processor processor, Collector collector)
        : state_(state),
          processor_(std::move(processor)),
          collector_(std::move(collector)),
          context_(state.id, state.options.name, state.executor) {}

    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    /// The task's executor.
    const asio::any_io_executor& get_executor() const noexcept { return state_.executor; }

    /// The next event if one is ready; never suspends. The event's
    /// `sequence()` is set to its arrival index.
    std::optional<event_type> try_receive() {
        std::size_t arrival = 0;
        std::optional<event_type> e = state_.channel.try_receive(&arrival);
        if (e)
            detail::event_access::set_sequence(*e, arrival);
        return e;
    }

    /// Suspends until an event may be ready (true) or the stream has ended and
    /// every event was received (false). May return true spuriously.
    asio::awaitable<bool> wait_for_events() {
        auto& channel = state_.channel;
        if (!channel.ready() && !channel.drained()) {
            co_await channel.async_wait_readable(asio::use_awaitable);
        }
        co_return channel.ready() || !channel.drained();
    }

    /// Processes `e` right here (synchronous processors only): runs the
    /// processor, retrying on exceptions, and records the outcome. A
    /// synchronous processor cannot be interrupted; when it overruns
    /// `timeout`, its result is discarded and the event ends `timed_out`.
    void process_now(event_type&& e,
                     std::optional<duration> timeout = {}) requires synchronous_processor {
        if (state_.stopping())
            return cancel(std::move(e));
        const auto started = event_clock::now();
        detail::event_access::mark_started(e, started);
        std::optional<result_type> result;
        std::string error;
        for (unsigned attempt = 1;; ++attempt) {
            detail::context_access::set_attempt(context_, attempt);
            try {
                result.emplace(call_sync(e));
                break;
            } catch (...) {
                if (!retry_after_failure(attempt, error))
                    break;
            }
        }
        const auto completed = event_clock::now();
        detail::event_access::mark_completed(e, completed);
        if (!result) {
            fail(e, std::move(error));
        } else if (timeout && completed - started > *timeout) {
            time_out(e, *timeout);
        } else {
            collect(e, std::move(*result));
        }
        keep_if_final(std::move(e));
    }

    /// Processes `e` in a coroutine (any processor). A coroutine processor
    /// that overruns `timeout` is cancelled through Asio's per-operation
    /// cancellation and the event ends `timed_out`.
    asio::awaitable<void> process(event_type e, std::optional<duration> timeout = {}) {
        if constexpr (synchronous_processor) {
            process_now(std::move(e), timeout);
            co_return;
        } else {
            if (state_.stopping())
                co_return cancel(std::move(e));
            detail::event_access::mark_started(e, event_clock::now());
            std::optional<result_type> result;
            bool overran = false;
            std::string error;
            for (unsigned attempt = 1;; ++attempt) {
                detail::context_access::set_attempt(context_, attempt);
                try {
                    if (timeout) {
                        using namespace asio::experimental::awaitable_operators;
                        asio::steady_timer timer(state_.executor, *timeout);
                        auto first =
                            co_await (call_async(e) || timer.async_wait(asio::use_awaitable));
                        if (first.index() == 1) {
                            overran = true;
                        } else {
                            result.emplace(std::get<0>(std::move(first)));
                        }
                    } else {
                        result.emplace(co_await call_async(e));
                    }
                    break;
                } catch (...) {
                    if (!retry_after_failure(attempt, error))
                        break;
                }
            }
            detail::event_access::mark_completed(e, event_clock::now());
            if (overran) {
                time_out(e, *timeout);
            } else if (!result) {
                fail(e, std::move(error));
            } else {
                collect(e, std::move(*result));
            }
            keep_if_final(std::move(e));
        }
    }

    /// Ends `e` as cancelled without processing it.
    void cancel(event_type&& e, std::string reason = "the task stopped before it was processed") {
        detail::event_access::mark_completed(e, event_clock::now());
        record_error(e, outcome::cancelled, std::move(reason), state_.cancelled);
        keep_if_final(std::move(e));
    }

    /// The task's retry setting: extra attempts after a failure.
    unsigned retry() const noexcept { return state_.options.retry; }

    /// Ends every event still to come as cancelled, until the stream is
    /// drained. The library calls it when a strategy returns early or throws.
    asio::awaitable<void> cancel_remaining(std::string reason) {
        state_.channel.close();
        for (;;) {
            while (auto e = try_receive())
                cancel(std::move(*e), reason);
            if (!co_await wait_for_events())
                co_return;
        }
    }

    /// Hands over everything collected. Called once, at the end.
    final_result<T, Collection, Id> finish(task_status status, task_stats stats) && {
        return final_result<T, Collection, Id>(
            state_.id, state_.options.name, status, std::move(final_event_),
            std::move(collector_).collection(), std::move(errors_), stats);
    }

private:
    decltype(auto) call_sync(const event_type& e) {
        if constexpr (std::is_void_v<typename traits::raw_result>) {
            detail::call_processor(processor_, e, context_);
            return std::monostate{};
        } else {
            return detail::call_processor(processor_, e, context_);
        }
    }

    asio::awaitable<result_type> call_async(const event_type& e) {
        if constexpr (std::is_same_v<typename traits::raw_result, asio::awaitable<void>>) {
            co_await detail::call_processor(processor_, e, context_);
            co_return std::monostate{};
        } else {
            co_return co_await detail::call_processor(processor_, e, context_);
        }
    }

    /// Called from a catch block: keeps the message and says whether another
    /// attempt is allowed.
    bool retry_after_failure(unsigned attempt, std::string& error) {
        error = describe(std::current_exception());
        if (attempt > state_.options.retry)
            return false;
        state_.retries.fetch_add(1, std::memory_order_relaxed);
        return true;
    }

    static std::string describe(const std::exception_ptr& failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& ex) {
            return ex.what();
        } catch (...) {
            return "unknown exception (not derived from std::exception)";
        }
    }

    void collect(const event_type& e, result_type&& result) {
        collector_.collect(e.id(), std::move(result));
        state_.processed.fetch_add(1, std::memory_order_relaxed);
    }

    void fail(const event_type& e, std::string message) {
        record_error(e, outcome::failed, std::move(message), state_.failed);
    }

    void time_out(const event_type& e, duration timeout) {
        record_error(e, outcome::timed_out,
                     fmt::format("processing took longer than the timeout of {}",
                                 detail::duration_text(timeout)),
                     state_.timed_out);
    }

    void record_error(const event_type& e, outcome kind, std::string message,
                      std::atomic<std::size_t>& counter) {
        errors_.push_back(event_error{e.id(), e.sequence(), kind, std::move(message)});
        counter.fetch_add(1, std::memory_order_relaxed);
    }

    void keep_if_final(event_type&& e) {
        if (e.is_final())
            final_event_.emplace(std::move(e));
    }

    state_type& state_;
    Processor processor_;
    Collector collector_;
    processor_context<Id> context_;
    std::vector<event_error> errors_;
    std::optional<event_type> final_event_;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_PIPELINE_HPP
