// sweet_async/receiver/detail/attempt_runner.hpp: the attempts at processing one event or one
// batch.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_ATTEMPT_RUNNER_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_ATTEMPT_RUNNER_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <sweet_async/base/detail/deadline.hpp>
#include <sweet_async/base/detail/exception_text.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/processor_context.hpp>
#include <sweet_async/receiver/detail/processor_traits.hpp>

namespace sweet_async::detail {

/// Where the attempts at processing an event (or a batch, `R` a vector) stand.
template <class R>
struct attempt_result {
    std::optional<R> result;  ///< Set once an attempt succeeded.
    std::string error;        ///< The last failed attempt's message.
    unsigned made = 0;        ///< Attempts made so far.
    bool overran = false;     ///< The last attempt exceeded the timeout.
    bool cancelled = false;   ///< Interrupted, or never started, because the task stopped.
    /// Set when the next attempt must first wait this backoff.
    std::optional<std::chrono::nanoseconds> wait;
};

/// Owns the processor and calls it: one attempt after another, with the
/// task's retries and backoff, a per-event timeout, and a stop request
/// ending the retries. Shared by whatever runs attempts, on any thread: work
/// offloaded to another execution context holds it (and through it the
/// task's state) for as long as it runs, so it never reaches into a receiver
/// whose context may be gone. Const once built; the processor must be safe
/// to call from several threads where a strategy runs it concurrently.
template <class State, class Processor>
class attempt_runner {
    using T = typename State::event_type::payload_type;
    using Id = typename State::event_type::task_id_type;
    using traits = processor_traits<Processor, T, Id>;

public:
    using event_type = event<T, Id>;
    using duration = std::chrono::nanoseconds;
    /// What the processor produces per event (`std::monostate` for void).
    using processor_result = typename traits::result_type;
    using single = attempt_result<processor_result>;
    using batch = attempt_result<std::vector<processor_result>>;
    static constexpr bool synchronous_processor = !traits::is_coroutine;
    static constexpr bool batch_processor = traits::takes_batch;

    attempt_runner(std::shared_ptr<State> state, Processor processor)
        : state_(std::move(state)),
          processor_(std::move(processor)) {}

    State& state() const noexcept { return *state_; }

    /// A context for processors called in one place (each coroutine or
    /// thread gets its own, since it carries the attempt number).
    processor_context<Id> new_context() const {
        return processor_context<Id>(state_->id, state_->options.name, state_->executor);
    }

    /// One attempt at `e`: a callable taking the attempt number.
    auto single_call(const event_type& e, processor_context<Id>& context) const {
        return [this, &e, &context](unsigned attempt_number) {
            context_access::set_attempt(context, attempt_number);
            if constexpr (synchronous_processor) {
                return call_sync(e, context);
            } else if constexpr (returns_result_awaitable) {
                return call_processor(processor_, e, context);
            } else {
                return call_async(e, context);
            }
        };
    }

    /// One attempt at a batch of `payloads`.
    auto batch_call(const std::vector<T>& payloads) const {
        return [this, &payloads](unsigned) {
            return std::invoke(processor_, std::span<const T>(payloads));
        };
    }

    /// Runs synchronous attempts back to back until one succeeds, the last
    /// one fails or overruns, or a retry must first wait its backoff (then
    /// `r.wait` is set and `run_async` carries on). Never blocks.
    template <class Call, class R>
    void run_sync(Call& call, std::optional<duration> timeout, attempt_result<R>& r) const {
        for (;;) {
            // The clock is read only when there is a timeout to check.
            const auto begun = timeout ? event_clock::now() : event_clock::time_point{};
            try {
                r.result.emplace(call(++r.made));
            } catch (...) {
                r.error = exception_text(std::current_exception());
            }
            if (timeout && event_clock::now() - begun > *timeout) {
                r.result.reset();  // it cannot be interrupted, but it is not accepted late
                r.overran = true;
                return;
            }
            if (r.result || !may_retry(r)) return;
            if (r.wait) return;
        }
    }

    /// Runs the remaining attempts in a coroutine: waits each backoff, races
    /// a coroutine processor against `timeout`, and stops at a stop request.
    /// Never throws.
    template <class Call, class R>
    asio::awaitable<void> run_async(Call& call, std::optional<duration> timeout,
                                    attempt_result<R>& r) const {
        for (;;) {
            try {
                if (r.wait) {
                    // A stop during the wait ends the retries: the last
                    // attempt's outcome stands.
                    asio::steady_timer backoff(co_await asio::this_coro::executor,
                                               *std::exchange(r.wait, std::nullopt));
                    std::error_code interrupted;
                    co_await backoff.async_wait(
                        asio::redirect_error(asio::use_awaitable, interrupted));
                    if (interrupted || state_->stopping()) co_return;
                }
                if constexpr (synchronous_processor) {
                    run_sync(call, timeout, r);
                    if (!r.wait) co_return;
                    continue;
                } else if (timeout) {
                    r.result = co_await within(call(++r.made), *timeout);
                    r.overran = !r.result;
                    co_return;
                } else {
                    r.result.emplace(co_await call(++r.made));
                    co_return;
                }
            } catch (...) {
                r.error = exception_text(std::current_exception());
            }
            // After a stop, a coroutine processor's exception is taken for
            // the interruption that most likely caused it.
            if (state_->stopping()) {
                r.cancelled = true;
                co_return;
            }
            if (!may_retry(r)) co_return;
        }
    }

private:
    /// A coroutine processor of the payload alone that already returns
    /// `asio::awaitable<processor_result>` is awaited as it is, without a
    /// coroutine frame of ours around it (an allocation per attempt): it
    /// refers only to the payload, which outlives the attempt. The other
    /// forms may take temporaries (an event view, the id), so they are
    /// called inside `call_async`, whose frame keeps those alive.
    static constexpr bool returns_result_awaitable =
        !batch_processor && traits::takes_payload &&
        std::is_same_v<typename traits::raw_result, asio::awaitable<processor_result>>;

    decltype(auto) call_sync(const event_type& e, processor_context<Id>& context) const {
        if constexpr (batch_processor) {
            return only_result(std::invoke(processor_, std::span<const T>(&e.payload(), 1)));
        } else if constexpr (std::is_void_v<typename traits::raw_result>) {
            call_processor(processor_, e, context);
            return std::monostate{};
        } else {
            return call_processor(processor_, e, context);
        }
    }

    asio::awaitable<processor_result> call_async(const event_type& e,
                                                 processor_context<Id>& context) const {
        if constexpr (batch_processor) {
            co_return only_result(
                co_await std::invoke(processor_, std::span<const T>(&e.payload(), 1)));
        } else if constexpr (std::is_same_v<typename traits::raw_result, asio::awaitable<void>>) {
            co_await call_processor(processor_, e, context);
            co_return std::monostate{};
        } else {
            co_return co_await call_processor(processor_, e, context);
        }
    }

    /// The one result of a batch of one event.
    static processor_result only_result(std::vector<processor_result>&& results) {
        if (results.size() != 1) {
            throw std::length_error(
                fmt::format("the batch processor returned {} results for 1 event", results.size()));
        }
        return std::move(results.front());
    }

    /// After a failed attempt: whether another one is allowed (not when the
    /// task is stopping), and the backoff to wait before it.
    template <class R>
    bool may_retry(attempt_result<R>& r) const {
        if (r.made > state_->options.retry || state_->stopping()) return false;
        state_->counts().add_retry();
        if (const auto wait = state_->options.retry_backoff.delay(r.made);
            wait > duration::zero()) {
            r.wait = wait;
        }
        return true;
    }

    const std::shared_ptr<State> state_;
    // The processor is called through a const runner; users' processors may
    // keep state of their own (their call operator need not be const).
    mutable Processor processor_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_ATTEMPT_RUNNER_HPP
