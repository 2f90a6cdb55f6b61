// sweet_async/task/emitting_task.hpp: a running task that processes the events sent to it.
#ifndef SWEET_ASYNC_TASK_EMITTING_TASK_HPP
#define SWEET_ASYNC_TASK_EMITTING_TASK_HPP

#include <sweet_async/config.hpp>

#include <concepts>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/cancellation_level.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/task/detail/emitting_state.hpp>
#include <sweet_async/task/detail/operations.hpp>
#include <sweet_async/task/sender.hpp>

namespace sweet_async {

/// A handle to a running emitting task: producers send payloads into its
/// bounded channel, its consumer coroutine processes them under the chosen
/// strategy, and `wait()` hands back the final result.
///
/// Made by `receiver_builder::start_queue()`, the last step of an
/// `emitting_task_builder` chain. Handles are cheap to copy and every member
/// is safe to call from any thread. When the last
/// handle is destroyed the task is closed: what was sent is still processed,
/// and the result is discarded.
///
/// If the execution context is destroyed before the task finished, the task
/// is abandoned: a `send()` parked on a full channel completes with `closed`
/// and a parked `wait()` with `abandoned` (those of other, live contexts run;
/// those of the dying context are destroyed unrun, as Asio does with all its
/// handlers); the status becomes `cancelled`, and events that got no outcome
/// count as cancelled in `stats()`. Handles may outlive the context: then
/// `try_send` returns `closed`, `close`, `cancel`, `status`, `stats`,
/// `is_complete` (false) and the destructor are safe, and from a coroutine on
/// another, live context `send()` throws `closed` and `wait()` throws
/// `abandoned` (or returns the result of a task that had finished). The
/// completion-token forms (`async_send`, `async_wait`, ...) with a handler
/// that has no associated executor of its own, and `get_executor()`, refer to
/// the dead context and must not be used (Asio's rule). A task built on a
/// strand you made keeps that strand, which must not outlive its context:
/// destroy such handles first.
///
/// Asynchronous model: `send`, `send_final` and `wait` are coroutine
/// conveniences that throw `async_task_exception`; `async_send`,
/// `async_send_final` and `async_wait` take any Asio completion token
/// (`asio::use_awaitable`, `asio::use_future`, a callback,
/// `asio::deferred`, `asio::bind_executor(...)`, ...). Their
/// handlers never run inside the initiating call; they run on the handler's
/// associated executor, by default the task's `get_executor()`.
template <class T, class Collection, task_id Id = uuid>
class emitting_task {
    using state_type = detail::emitting_state<T, Collection, Id>;

public:
    using payload_type = T;                               ///< What each event carries.
    using event_type = event<T, Id>;                      ///< The events sent into the task.
    using result_type = final_result<T, Collection, Id>;  ///< What `wait()` hands back.
    using executor_type = asio::any_io_executor;          ///< The type of `get_executor()`.

    /// Adopts a started task's state (used by the builder).
    explicit emitting_task(std::shared_ptr<state_type> state)
        : state_(std::move(state)),
          sender_(state_),
          lifetime_(nullptr, [weak = std::weak_ptr<state_type>(state_)](void*) {
              if (auto alive = weak.lock()) alive->channel().close();
          }) {}

    /// The task's id, generated when it started; every event carries it.
    const Id& id() const noexcept { return state_->id(); }
    /// The task's name, as given to the builder.
    const std::string& name() const noexcept { return state_->options.name; }
    /// The task's priority, as given to the builder.
    task_priority priority() const noexcept { return state_->options.priority; }
    /// Every setting the task was built with.
    const task_options& options() const noexcept { return state_->options; }
    /// The executor the task was built on; completion-token handlers without an associated
    /// executor of their own run there.
    executor_type get_executor() const noexcept { return state_->executor; }

    /// Where the task is now: `running`, then `completed`, `failed`, `cancelled` or
    /// `timed_out`.
    task_status status() const noexcept { return state_->status(); }
    /// True once every event has its outcome and the final result is ready.
    bool is_complete() const noexcept { return state_->done.done(); }
    /// Live statistics; final ones once the task is complete.
    task_stats stats() const { return state_->stats(); }
    /// The strategy's current choice and its decisions so far.
    sweet_async::strategy_report strategy_report() const { return state_->strategy_report(); }

    /// Sends `payload` if a slot is free, without suspending: see `sender::try_send`.
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send(U&& payload) {
        return sender_.try_send(std::forward<U>(payload));
    }

    /// Like `try_send`, setting `event_id` to the event's id on success.
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send(U&& payload, uuid& event_id) {
        return sender_.try_send(std::forward<U>(payload), event_id);
    }

    /// Like `try_send`, for the event that ends the stream: it is processed
    /// too, and nothing can be sent after it.
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send_final(U&& payload) {
        return sender_.try_send_final(std::forward<U>(payload));
    }

    /// Like `try_send_final`, setting `event_id` to the event's id on success.
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send_final(U&& payload,
                                                                       uuid& event_id) {
        return sender_.try_send_final(std::forward<U>(payload), event_id);
    }

    /// Sends `payload`, suspending while the channel is full (backpressure),
    /// and returns the event's id. Throws `async_task_exception` (`closed`)
    /// when the task accepts no more events, or (`full`) at once when the
    /// channel is full under `overflow_policy::reject`.
    asio::awaitable<uuid> send(T payload) { return sender_.send(std::move(payload)); }

    /// Sends the last event of the stream; it is processed like any other.
    /// Returns its id.
    asio::awaitable<uuid> send_final(T payload) { return sender_.send_final(std::move(payload)); }

    /// Completion-token form of `send`, signature `void(error_code,
    /// uuid)`: see `sender::async_send`.
    template <asio::completion_token_for<void(error_code, uuid)> CompletionToken>
    auto async_send(T payload, CompletionToken&& token) {
        return sender_.async_send(std::move(payload), std::forward<CompletionToken>(token));
    }

    /// Completion-token form of `send_final`, signature `void(error_code, uuid)`.
    template <asio::completion_token_for<void(error_code, uuid)> CompletionToken>
    auto async_send_final(T payload, CompletionToken&& token) {
        return sender_.async_send_final(std::move(payload), std::forward<CompletionToken>(token));
    }

    /// The task's write end alone, for producers that should not see (or
    /// depend on the type of) its result. It does not keep the task open.
    sweet_async::sender<T, Id> get_sender() const { return sender_; }

    /// Ends the stream without a final event: nothing more is accepted, what
    /// was sent is processed. Idempotent.
    void close() { sender_.close(); }

    /// Stops the task. `graceful`: accept nothing new, finish what was sent.
    /// `immediate`: interrupt the coroutine processors in flight (Asio
    /// terminal cancellation) and end every event not yet processed as
    /// cancelled. Either way the task ends `cancelled`. Any thread, any time,
    /// any number of times: a graceful stop may be escalated to immediate,
    /// otherwise the first call decides; after the end it has no effect.
    void cancel(cancellation_level level = cancellation_level::graceful) {
        state_->request_stop(level == cancellation_level::graceful
                                 ? detail::stop_request::graceful
                                 : detail::stop_request::immediate);
    }

    /// Waits until the task has ended and returns its final result. The
    /// result is handed out once; a second `wait()` throws
    /// `async_task_exception` (`result_taken`). Throws `abandoned` when the
    /// task's execution context was destroyed before the task finished.
    asio::awaitable<result_type> wait() { return wait_for(state_); }

    /// Completion-token form of `wait`, signature
    /// `void(std::exception_ptr, result_type)` (as `asio::co_spawn` has it):
    /// the final result and a null pointer, or the exception `wait()` would
    /// throw and an empty result. So `asio::use_awaitable` and
    /// `asio::use_future` throw exactly what `wait()` throws. Per-operation
    /// cancellation ends a parked wait with a `system_error`
    /// (`asio::error::operation_aborted`); the task goes on and the result
    /// stays for a later wait.
    template <asio::completion_token_for<void(std::exception_ptr, result_type)> CompletionToken>
    requires std::default_initializable<result_type>
    auto async_wait(CompletionToken&& token) {
        return detail::async_take<detail::deliver_value<result_type>>(
            state_, state_->done, state_->options.name,
            [](const state_type& state) { return state.executor; },
            std::forward<CompletionToken>(token));
    }

private:
    // The coroutines below are static and own a reference to the state: a
    // coroutine starts lazily and may outlive the handle it was called on.

    static asio::awaitable<result_type> wait_for(std::shared_ptr<state_type> state) {
        co_await state->done.wait_until_done(state->options.name);
        co_return state->done.take(state->options.name);
    }

    std::shared_ptr<state_type> state_;
    sweet_async::sender<T, Id> sender_;
    std::shared_ptr<void> lifetime_;  // shared by copies; closes the task when the last goes
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_EMITTING_TASK_HPP
