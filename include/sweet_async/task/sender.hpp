// sweet_async/task/sender.hpp: the write end of an emitting task.
#ifndef SWEET_ASYNC_TASK_SENDER_HPP
#define SWEET_ASYNC_TASK_SENDER_HPP

#include <sweet_async/config.hpp>

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/error.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/receiver/detail/emitting_core.hpp>
#include <sweet_async/task/detail/operations.hpp>

namespace sweet_async {

/// The write end of an emitting task's channel: what producers need, and
/// nothing of what the task collects, so code that only sends takes a
/// `sender<T>` whatever the task's result. An emitter the task runs is given
/// one; `emitting_task::get_sender()` hands out others. Cheap to copy, safe
/// from any thread. A sender does not keep the task open: when the task's
/// last handle goes, or the stream ends otherwise, sends fail with `closed`.
///
/// Asynchronous model as for `emitting_task`: `send` and `send_final` are
/// coroutine conveniences that throw `async_task_exception`; `async_send`
/// and `async_send_final` take any Asio completion token.
template <class T, task_id Id = uuid>
class sender {
    using core_type = detail::emitting_core<T, Id>;

public:
    using payload_type = T;   ///< What each event carries.
    using task_id_type = Id;  ///< The type of the id of the task it sends into.

    /// The write end of the task whose state is `core` (used by the library).
    explicit sender(std::shared_ptr<core_type> core) : core_(std::move(core)) {}

    /// Sends `payload` if a slot is free, without suspending. Returns an empty
    /// error code on success, `async_task_error::full` when the channel is
    /// full, `async_task_error::closed` when the task accepts no more events.
    /// On failure `payload` is left untouched (an rvalue is not moved from).
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send(U&& payload)
    const {
        uuid unused;
        return try_send_as(*core_, streaming_event_type::continuing, std::forward<U>(payload),
                           unused);
    }

    /// Like `try_send`, and on success sets `event_id` to the id of the event
    /// it made: the key of its result in the collection, of its error in
    /// `final_result::errors()`, and of its dead letter. Untouched on failure.
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send(U&& payload, uuid& event_id)
    const {
        return try_send_as(*core_, streaming_event_type::continuing, std::forward<U>(payload),
                           event_id);
    }

    /// Like `try_send`, for the event that ends the stream: it is processed
    /// too, and nothing can be sent after it.
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send_final(U&& payload)
    const {
        uuid unused;
        return try_send_as(*core_, streaming_event_type::final, std::forward<U>(payload), unused);
    }

    /// Like `try_send_final`, setting `event_id` on success (see `try_send`).
    template <class U = T>
    requires std::constructible_from<T, U&&> error_code try_send_final(U&& payload, uuid& event_id)
    const {
        return try_send_as(*core_, streaming_event_type::final, std::forward<U>(payload), event_id);
    }

    /// Sends `payload`, suspending while the channel is full (backpressure),
    /// and returns the id of the event it made (see `try_send`). Throws
    /// `async_task_exception` (`closed`) when the task accepts no more events,
    /// or (`full`) at once when the channel is full under
    /// `overflow_policy::reject`.
    asio::awaitable<uuid> send(T payload) const {
        return send_as(core_, streaming_event_type::continuing, std::move(payload));
    }

    /// Sends the last event of the stream; it is processed like any other.
    /// Returns its id.
    asio::awaitable<uuid> send_final(T payload) const {
        return send_as(core_, streaming_event_type::final, std::move(payload));
    }

    /// Completion-token form of `send`, signature `void(error_code,
    /// uuid)`: completes with an empty code and the event's id once the event
    /// is in the channel (after waiting for room while it is full), or with
    /// `async_task_error::closed` and a nil id (the payload is dropped).
    /// Under `overflow_policy::reject` a full channel completes it at once
    /// with `async_task_error::full` and a nil id (the payload is dropped).
    /// Per-operation cancellation while waiting for room completes it with
    /// `asio::error::operation_aborted` (dropped too).
    template <asio::completion_token_for<void(error_code, uuid)> CompletionToken>
    auto async_send(T payload, CompletionToken&& token) const {
        return detail::async_send_event(core_, streaming_event_type::continuing, std::move(payload),
                                        std::forward<CompletionToken>(token));
    }

    /// Completion-token form of `send_final`, signature `void(error_code,
    /// uuid)` as for `async_send`.
    template <asio::completion_token_for<void(error_code, uuid)> CompletionToken>
    auto async_send_final(T payload, CompletionToken&& token) const {
        return detail::async_send_event(core_, streaming_event_type::final, std::move(payload),
                                        std::forward<CompletionToken>(token));
    }

    /// Ends the stream without a final event: nothing more is accepted, what
    /// was sent is processed. Idempotent.
    void close() const { core_->channel().close(); }

    /// True once the task accepts no more events.
    bool is_closed() const noexcept { return core_->channel().is_closed(); }

    /// The name of the task it sends into.
    const std::string& task_name() const noexcept { return core_->options.name; }
    /// The id of the task it sends into.
    const Id& task_id() const noexcept { return core_->id(); }

    /// Where it writes: the task's inlet (its channel and the tasks that
    /// feed it), shared with the task. The library's links (`forward_to`,
    /// dead-letter routes) write into a task through it.
    std::shared_ptr<detail::task_inlet<T, Id>> inlet() const noexcept {
        return {core_, &core_->inlet()};
    }

    /// The task's settings, status and stop requests, shared with the task:
    /// what a `flow` stops and watches.
    std::shared_ptr<detail::task_control> control() const noexcept { return core_; }

private:
    // The coroutine is static and owns a reference to the state: a coroutine
    // starts lazily and may outlive the sender it was called on.

    template <class U>
    static error_code try_send_as(core_type& core, streaming_event_type type, U&& payload,
                                  uuid& event_id) {
        // The factory runs only once the channel has a place for the event.
        return core.channel().try_send_with(
            [&] {
                auto e = core.inlet().make_event(T(std::forward<U>(payload)), type);
                event_id = e.id();
                return e;
            },
            send_mode_for(type));
    }

    static asio::awaitable<uuid> send_as(std::shared_ptr<core_type> core, streaming_event_type type,
                                         T payload) {
        uuid event_id;
        error_code ec = try_send_as(*core, type, std::move(payload), event_id);
        if (ec == async_task_error::full) {
            auto e = core->inlet().make_event(std::move(payload), type);
            event_id = e.id();
            co_await core->channel().async_send(std::move(e), send_mode_for(type),
                                                asio::redirect_error(asio::use_awaitable, ec));
        }
        if (ec) {
            throw async_task_exception(
                ec, fmt::format("task '{}': cannot send: {}", core->options.name, ec.message()));
        }
        co_return event_id;
    }

    std::shared_ptr<core_type> core_;
};

/// A coroutine that an emitting task runs to produce its own events (see
/// `emitting_task_builder::emitter`): it sends through the sender it is
/// given, and the stream ends when the last of the task's emitters returns.
template <class T, task_id Id = uuid>
using emitter = std::function<asio::awaitable<void>(sender<T, Id>&)>;

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_SENDER_HPP
