// sweet_async/task/async_task.hpp: one awaitable run as a named, bounded, cancellable task.
#ifndef SWEET_ASYNC_TASK_ASYNC_TASK_HPP
#define SWEET_ASYNC_TASK_ASYNC_TASK_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_signal)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(post)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(strand)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/deadline.hpp>
#include <sweet_async/base/detail/detached_owning.hpp>
#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/task_registry.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/receiver/detail/processor_traits.hpp>
#include <sweet_async/task/detail/completion.hpp>
#include <sweet_async/task/detail/operations.hpp>
#include <sweet_async/task/emitting_task_builder.hpp>

namespace sweet_async {

/// A task that runs one piece of asynchronous work producing a `T`: it has an
/// id, a name, a priority, an optional deadline, a retry count, a status, and
/// can be cancelled. It is also the entry point to emitting tasks:
/// `async_task<>::emits<Payload>(executor)`.
///
/// ```cpp
/// auto task = sa::async_task<int>::run(io.get_executor(), {.name = "answer", .retry = 2},
///                                      []() -> asio::awaitable<int> { co_return 42; });
/// int value = co_await task.wait();
/// ```
///
/// If the execution context is destroyed before the work finished, the task
/// is abandoned: the work's coroutine is destroyed with the context (Asio's
/// rule), a parked `wait()` of another, live context throws `abandoned`, and
/// the status becomes `cancelled`. A handle may outlive its context: then
/// `cancel`, `status`, `is_complete` (false) and the destructor are safe, and
/// `wait()` from a coroutine on a live context throws `abandoned` (or hands
/// out the result of work that had finished); so does `async_wait` with a
/// handler that has an associated executor of a live context.
///
/// `wait()` is the coroutine convenience; `async_wait(token)` is its
/// completion-token form for any Asio token (`asio::use_awaitable`,
/// `asio::use_future`, a callback, `asio::deferred`, ...).
template <class T = void, task_id Id = uuid>
class async_task {
    using stored = detail::stored_result_t<T>;
    using outcome_type = std::variant<stored, std::exception_ptr>;

    struct state final : detail::abandonable {
        state(const asio::any_io_executor& executor, task_options settings)
            : options(std::move(settings)),
              id(Id::generate()),
              strand(asio::make_strand(executor)) {}

        const task_options options;
        const Id id;
        /// Serialises the work and cancel(). Released by abandon(): a strand
        /// must not outlive its context. Read off the strand only by cancel(),
        /// under `abandon_mutex`.
        asio::any_io_executor strand;
        asio::cancellation_signal signal;  // used on the strand only
        std::atomic<task_status> status{task_status::running};
        std::atomic<bool> cancel_requested{false};
        detail::completion<outcome_type> done;
        std::mutex abandon_mutex;  // orders cancel()'s post before abandonment
        bool abandoned = false;    // guarded by abandon_mutex

        /// The executor of handlers that have none: the strand, or an empty
        /// executor once the context is gone.
        asio::any_io_executor handler_executor() {
            std::lock_guard lock(abandon_mutex);
            return strand;
        }

        /// The context is being destroyed before the work finished (see
        /// `task_registry`): waiters end with `abandoned`, the task with
        /// `cancelled`, and nothing is posted to the strand any more.
        void abandon() noexcept override {
            asio::any_io_executor released;
            {
                std::lock_guard lock(abandon_mutex);
                abandoned = true;
                released = std::exchange(strand, asio::any_io_executor());
            }
            auto running = task_status::running;
            if (status.compare_exchange_strong(running, task_status::cancelled,
                                               std::memory_order_acq_rel) &&
                options.tracing) {
                detail::trace(options, id, trace_kind::abandoned,
                              "abandoned: its execution context was destroyed");
            }
            done.abandon(make_error_code(async_task_error::abandoned));
        }
    };

public:
    using value_type = T;  ///< What the work produces (`void` for none).

    /// Starts building an emitting task for payloads `R` (the seed's
    /// `AsyncTask::emits::<R>()`).
    template <class R>
    static emitting_task_builder<R, Id> emits(asio::any_io_executor executor) {
        return emitting_task_builder<R, Id>(std::move(executor));
    }

    /// Runs `work()`, a callable returning `asio::awaitable<T>`, on `executor`.
    /// A failed attempt (an exception) is retried up to `options.retry`
    /// times, each after `options.retry_backoff`; `options.timeout` bounds
    /// all attempts and waits together. Throws
    /// `async_task_exception` (`invalid_configuration`) for invalid options.
    template <class Work>
    requires std::same_as<std::invoke_result_t<Work&>, asio::awaitable<T>>
    static async_task run(asio::any_io_executor executor, task_options options, Work work) {
        options.validate();
        auto task_state = std::make_shared<state>(std::move(executor), std::move(options));
        if (task_state->options.tracing) {
            detail::trace(task_state->options, task_state->id, trace_kind::started,
                          "started: id={}", task_state->id.to_string());
        }
        // Told when the context is destroyed first (see task_registry).
        detail::task_registry::of(task_state->strand).add(task_state);
        asio::co_spawn(task_state->strand, body(task_state, std::move(work)),
                       detail::detached_owning(task_state, task_state->signal.slot()));
        return async_task(std::move(task_state));
    }

    /// The task's id, generated when it started.
    const Id& id() const noexcept { return state_->id; }
    /// The task's name, as given in its options.
    const std::string& name() const noexcept { return state_->options.name; }
    /// The task's priority, as given in its options.
    task_priority priority() const noexcept { return state_->options.priority; }
    /// Where the task is now: `running`, then `completed`, `failed`, `cancelled` or
    /// `timed_out`. Any thread.
    task_status status() const noexcept { return state_->status.load(std::memory_order_acquire); }
    /// True once the work has ended and its value or exception is ready, so `wait()` does
    /// not suspend. Any thread.
    bool is_complete() const noexcept { return state_->done.done(); }

    /// Asks the work to stop (Asio terminal cancellation of whatever it
    /// awaits). The task ends `cancelled` unless it already ended. Any thread.
    void cancel() {
        if (!state_->cancel_requested.exchange(true, std::memory_order_acq_rel) &&
            state_->options.tracing && status() == task_status::running) {
            detail::trace(state_->options, state_->id, trace_kind::cancel_requested,
                          "cancel requested");
        }
        std::lock_guard lock(state_->abandon_mutex);
        if (state_->abandoned) return;  // the strand is gone with its context
        asio::post(state_->strand,
                   [s = state_] { s->signal.emit(asio::cancellation_type::terminal); });
    }

    /// Waits for the end and returns the work's value, or throws: the work's
    /// own exception after the last attempt, or `async_task_exception` with
    /// `timeout`, `cancelled`, or `abandoned` (the execution context was
    /// destroyed before the work finished). The value is handed out once.
    asio::awaitable<T> wait() { return wait_for(state_); }

    /// Completion-token form of `wait`, signature `void(std::exception_ptr, T)`
    /// (`void(std::exception_ptr)` for `async_task<void>`; as `asio::co_spawn`
    /// has it): the value and a null pointer, or the exception `wait()` would
    /// throw (the work's own, unchanged) and `T{}`. So `asio::use_awaitable`
    /// and `asio::use_future` throw exactly what `wait()` throws. A handler
    /// without an associated executor runs on the task's strand. Per-operation
    /// cancellation ends a parked wait with a `system_error`
    /// (`asio::error::operation_aborted`); the work goes on and its value
    /// stays for a later wait.
    template <asio::completion_token_for<detail::wait_signature_t<T>> CompletionToken>
    requires std::is_void_v<T> || std::default_initializable<T>
    auto async_wait(CompletionToken&& token) {
        return detail::async_take<detail::deliver_outcome<T, outcome_type>>(
            state_, state_->done, state_->options.name,
            [](state& s) { return s.handler_executor(); }, std::forward<CompletionToken>(token));
    }

private:
    explicit async_task(std::shared_ptr<state> s) : state_(std::move(s)) {}

    static asio::awaitable<T> wait_for(std::shared_ptr<state> s) {
        co_await s->done.wait_until_done(s->options.name);
        outcome_type result = s->done.take(s->options.name);
        if (auto* failure = std::get_if<std::exception_ptr>(&result))
            std::rethrow_exception(*failure);
        if constexpr (!std::is_void_v<T>) co_return std::get<stored>(std::move(result));
    }

    template <class Work>
    static asio::awaitable<stored> attempts(std::shared_ptr<state> s, Work& work) {
        for (unsigned attempt = 1;; ++attempt) {
            try {
                if constexpr (std::is_void_v<T>) {
                    co_await work();
                    co_return std::monostate{};
                } else {
                    co_return co_await work();
                }
            } catch (...) {
                if (attempt > s->options.retry ||
                    s->cancel_requested.load(std::memory_order_acquire)) {
                    throw;
                }
            }
            if (const auto wait = s->options.retry_backoff.delay(attempt);
                wait > std::chrono::nanoseconds::zero()) {
                // Cancellation reaches this wait like any other operation.
                asio::steady_timer backoff(s->strand, wait);
                co_await backoff.async_wait(asio::use_awaitable);
            }
        }
    }

    template <class Work>
    static asio::awaitable<void> body(std::shared_ptr<state> s, Work work) {
        task_status status = task_status::completed;
        outcome_type result;
        try {
            if (s->cancel_requested.load(std::memory_order_acquire)) {
                throw async_task_exception(async_task_error::cancelled,
                                           fmt::format("task '{}' was cancelled", s->options.name));
            }
            if (s->options.timeout) {
                auto value = co_await detail::within(attempts(s, work), *s->options.timeout);
                if (!value) {
                    status = task_status::timed_out;
                    if (s->options.tracing) {
                        detail::trace(s->options, s->id, trace_kind::deadline_reached,
                                      "deadline reached: timeout {}",
                                      detail::duration_text(*s->options.timeout));
                    }
                    throw async_task_exception(
                        async_task_error::timeout,
                        fmt::format("task '{}' did not finish within {}", s->options.name,
                                    detail::duration_text(*s->options.timeout)));
                }
                result.template emplace<stored>(std::move(*value));
            } else {
                result.template emplace<stored>(co_await attempts(s, work));
            }
        } catch (...) {
            if (status != task_status::timed_out) {
                status = s->cancel_requested.load(std::memory_order_acquire)
                             ? task_status::cancelled
                             : task_status::failed;
            }
            result = status == task_status::cancelled
                         ? std::make_exception_ptr(async_task_exception(
                               async_task_error::cancelled,
                               fmt::format("task '{}' was cancelled", s->options.name)))
                         : std::current_exception();
        }
        detail::trace(s->options, s->id, trace_kind::ended, "{}", status);
        s->status.store(status, std::memory_order_release);
        s->done.set(std::move(result));
    }

    std::shared_ptr<state> state_;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_ASYNC_TASK_HPP
