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

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/deadline.hpp>
#include <sweet_async/base/detail/exception_text.hpp>
#include <sweet_async/base/detail/retry_policy.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/processor_context.hpp>
#include <sweet_async/receiver/detail/emitting_core.hpp>
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

/// How a processor is called, which is what the receiver (and so every
/// strategy) compiles differently for: synchronously or as a coroutine, per
/// event or per batch.
template <bool Synchronous, bool Batch>
struct processor_shape {
    static constexpr bool synchronous = Synchronous;  ///< Returns its result directly.
    static constexpr bool batch = Batch;              ///< Takes a `std::span<const T>`.
};

/// The shape of processor `P` of payloads `T` in a task with ids `Id`.
template <class P, class T, class Id>
using shape_of = processor_shape<!processor_traits<P, T, Id>::is_coroutine,
                                 processor_traits<P, T, Id>::takes_batch>;

/// The attempts at processing an event or a batch with the task's processor:
/// one attempt after another, with the task's retries and backoff, a
/// per-event timeout, and a stop request ending the retries.
///
/// The processor itself is behind four virtual calls (`attempt_runner`
/// implements them), so that what runs the attempts, the receiver, the
/// consumer coroutine and the strategies are compiled once per payload,
/// result and shape, not once per processor: every lambda is a type of its
/// own, and a file with many tasks paid for each. One indirect call per
/// attempt is what that costs at run time.
///
/// Shared by whatever runs attempts, on any thread: work offloaded to another
/// execution context holds it (and through it the task's state) for as long
/// as it runs, so it never reaches into a receiver whose context may be gone.
/// Const once built; the processor must be safe to call from several threads
/// where a strategy runs it concurrently.
template <class T, class Id, class R, class Shape>
class processor_runner {
public:
    using event_type = event<T, Id>;
    using duration = std::chrono::nanoseconds;
    using single = attempt_result<R>;
    using batch = attempt_result<std::vector<R>>;

    processor_runner(const processor_runner&) = delete;
    processor_runner& operator=(const processor_runner&) = delete;
    virtual ~processor_runner() = default;

    emitting_core<T, Id>& state() const noexcept { return *state_; }

    /// A context for processors called in one place (each coroutine or
    /// thread gets its own, since it carries the attempt number).
    processor_context<Id> new_context() const {
        return processor_context<Id>(state_->id(), state_->options.name, state_->executor);
    }

    /// A synchronous processor's attempts at `e`, back to back, until one
    /// succeeds, the last one fails or overruns, or a retry must first wait
    /// its backoff (then `r.wait` is set and `run_async` carries on). Never
    /// blocks.
    void run_sync(const event_type& e, processor_context<Id>& context,
                  std::optional<duration> timeout, single& r) const {
        run_sync_loop([&](unsigned attempt) { return call(e, context, attempt); }, timeout, r);
    }

    /// The same for one call of a synchronous per-batch processor with `payloads`.
    void run_sync(const std::vector<T>& payloads, std::optional<duration> timeout, batch& r) const {
        run_sync_loop([&](unsigned) { return call_batch(payloads); }, timeout, r);
    }

    /// The remaining attempts at `e` in a coroutine: waits each backoff,
    /// races a coroutine processor against `timeout`, and stops at a stop
    /// request. Never throws. `e` and `context` outlive it.
    asio::awaitable<void> run_async(const event_type& e, processor_context<Id>& context,
                                    std::optional<duration> timeout, single& r) const {
        return run_async_loop(
            [this, &e, &context](unsigned n) { return call(e, context, n); },
            [this, &e, &context](unsigned n) { return call_async(e, context, n); }, timeout, r);
    }

    /// The same for a per-batch processor with `payloads`, which outlive it.
    asio::awaitable<void> run_async(const std::vector<T>& payloads, std::optional<duration> timeout,
                                    batch& r) const {
        return run_async_loop([this, &payloads](unsigned) { return call_batch(payloads); },
                              [this, &payloads](unsigned) { return call_async_batch(payloads); },
                              timeout, r);
    }

protected:
    explicit processor_runner(std::shared_ptr<emitting_core<T, Id>> state)
        : state_(std::move(state)) {}

    /// Attempt number `attempt` at `e` with a synchronous processor (a
    /// per-batch one with a batch of one).
    virtual R call(const event_type& e, processor_context<Id>& context, unsigned attempt) const = 0;
    /// The same with a coroutine processor.
    virtual asio::awaitable<R> call_async(const event_type& e, processor_context<Id>& context,
                                          unsigned attempt) const = 0;
    /// One call of a synchronous per-batch processor.
    virtual std::vector<R> call_batch(const std::vector<T>& payloads) const = 0;
    /// One call of a coroutine per-batch processor.
    virtual asio::awaitable<std::vector<R>>
    call_async_batch(const std::vector<T>& payloads) const = 0;

private:
    template <class Call, class X>
    void run_sync_loop(Call&& call, std::optional<duration> timeout, attempt_result<X>& r) const {
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

    template <class SyncCall, class AsyncCall, class X>
    asio::awaitable<void> run_async_loop(SyncCall sync_call, AsyncCall async_call,
                                         std::optional<duration> timeout,
                                         attempt_result<X>& r) const {
        for (;;) {
            try {
                if (r.wait) {
                    // A stop during the wait ends the retries: the last
                    // attempt's outcome stands.
                    asio::steady_timer backoff(co_await asio::this_coro::executor,
                                               *std::exchange(r.wait, std::nullopt));
                    error_code interrupted;
                    co_await backoff.async_wait(
                        asio::redirect_error(asio::use_awaitable, interrupted));
                    if (interrupted || state_->stopping()) co_return;
                }
                if constexpr (Shape::synchronous) {
                    run_sync_loop(sync_call, timeout, r);
                    if (!r.wait) co_return;
                    continue;
                } else if (timeout) {
                    r.result = co_await within(async_call(++r.made), *timeout);
                    r.overran = !r.result;
                    co_return;
                } else {
                    r.result.emplace(co_await async_call(++r.made));
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

    /// After a failed attempt: whether another one is allowed (not when the
    /// task is stopping), and the backoff to wait before it.
    template <class X>
    bool may_retry(attempt_result<X>& r) const {
        const auto wait = retry_after(state_->options, r.made, state_->stopping());
        if (!wait) return false;
        state_->counts().add_retry();
        if (*wait > duration::zero()) r.wait = *wait;
        return true;
    }

    const std::shared_ptr<emitting_core<T, Id>> state_;
};

/// A task's processor of type `Processor`, called in whichever form it has:
/// the one part of processing compiled once per processor.
template <class T, class Id, class Processor>
class attempt_runner final
    : public processor_runner<T, Id, typename processor_traits<Processor, T, Id>::result_type,
                              shape_of<Processor, T, Id>> {
    using traits = processor_traits<Processor, T, Id>;
    using R = typename traits::result_type;
    using base = processor_runner<T, Id, R, shape_of<Processor, T, Id>>;
    static constexpr bool synchronous_processor = !traits::is_coroutine;
    static constexpr bool batch_processor = traits::takes_batch;

public:
    using event_type = event<T, Id>;

    attempt_runner(std::shared_ptr<emitting_core<T, Id>> state, Processor processor)
        : base(std::move(state)),
          processor_(std::move(processor)) {}

private:
    R call(const event_type& e, processor_context<Id>& context, unsigned attempt) const override {
        if constexpr (synchronous_processor) {
            context_access::set_attempt(context, attempt);
            if constexpr (batch_processor) {
                return only_result(std::invoke(processor_, std::span<const T>(&e.payload(), 1)));
            } else if constexpr (std::is_void_v<typename traits::raw_result>) {
                call_processor(processor_, e, context);
                return std::monostate{};
            } else {
                return call_processor(processor_, e, context);
            }
        } else {
            throw not_this_shape();
        }
    }

    asio::awaitable<R> call_async(const event_type& e, processor_context<Id>& context,
                                  unsigned attempt) const override {
        if constexpr (!synchronous_processor) {
            context_access::set_attempt(context, attempt);
            if constexpr (returns_result_awaitable) {
                return call_processor(processor_, e, context);
            } else {
                return call_in_frame(e, context);
            }
        } else {
            throw not_this_shape();
        }
    }

    std::vector<R> call_batch(const std::vector<T>& payloads) const override {
        if constexpr (synchronous_processor && batch_processor) {
            return std::invoke(processor_, std::span<const T>(payloads));
        } else {
            throw not_this_shape();
        }
    }

    asio::awaitable<std::vector<R>>
    call_async_batch(const std::vector<T>& payloads) const override {
        if constexpr (!synchronous_processor && batch_processor) {
            return std::invoke(processor_, std::span<const T>(payloads));
        } else {
            throw not_this_shape();
        }
    }

    /// A coroutine processor of the payload alone that already returns
    /// `asio::awaitable<R>` is awaited as it is, without a coroutine frame
    /// of ours around it (an allocation per attempt): it refers only to the
    /// payload, which outlives the attempt. The other forms may take
    /// temporaries (an event view, the id), so they are called inside
    /// `call_in_frame`, whose frame keeps those alive.
    static constexpr bool returns_result_awaitable =
        !batch_processor && traits::takes_payload &&
        std::is_same_v<typename traits::raw_result, asio::awaitable<R>>;

    asio::awaitable<R> call_in_frame(const event_type& e, processor_context<Id>& context) const {
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
    static R only_result(std::vector<R>&& results) {
        if (results.size() != 1) {
            throw std::length_error(
                fmt::format("the batch processor returned {} results for 1 event", results.size()));
        }
        return std::move(results.front());
    }

    /// What a call the receiver never makes for this shape would throw.
    static std::logic_error not_this_shape() {
        return std::logic_error("sweet_async: a processor was called in a form it does not have");
    }

    // The processor is called through a const runner; users' processors may
    // keep state of their own (their call operator need not be const).
    mutable Processor processor_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_ATTEMPT_RUNNER_HPP
