// sweet_async/task/detail/operations.hpp: the completion-token operations of the task handles.
#ifndef SWEET_ASYNC_TASK_DETAIL_OPERATIONS_HPP
#define SWEET_ASYNC_TASK_DETAIL_OPERATIONS_HPP

#include <sweet_async/config.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(associator)
#include SWEET_ASYNC_ASIO_HEADER(async_result)

#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/task/detail/completion.hpp>

namespace sweet_async::detail {

/// The completion signature of waiting for a `Value`, as `asio::co_spawn`
/// has it: `void(std::exception_ptr, Value)`, or `void(std::exception_ptr)`.
template <class Value>
struct wait_signature {
    using type = void(std::exception_ptr, Value);
};

template <>
struct wait_signature<void> {
    using type = void(std::exception_ptr);
};

template <class Value>
using wait_signature_t = typename wait_signature<Value>::type;

/// Completes a wait's `handler` with `failure` (and a default value).
template <class Value, class Handler>
void fail_wait(Handler& handler, std::exception_ptr failure) {
    if constexpr (std::is_void_v<Value>) {
        std::move(handler)(std::move(failure));
    } else {
        std::move(handler)(std::move(failure), Value{});
    }
}

/// Hands a taken `Result` to a wait's handler as it is.
template <class Result>
struct deliver_value {
    using value_type = Result;

    template <class Handler>
    static void deliver(Handler& handler, Result&& result) {
        std::move(handler)(std::exception_ptr(), std::move(result));
    }
};

/// Hands a taken outcome, `std::variant<Stored, std::exception_ptr>`, of
/// work producing a `T` (`Stored` is `std::monostate` for `void`) to a wait's
/// handler: the value, or the work's exception unchanged.
template <class T, class Outcome>
struct deliver_outcome {
    using value_type = T;

    template <class Handler>
    static void deliver(Handler& handler, Outcome&& outcome) {
        if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
            fail_wait<T>(handler, *failure);
        } else if constexpr (std::is_void_v<T>) {
            std::move(handler)(std::exception_ptr());
        } else {
            std::move(handler)(std::exception_ptr(), std::get<0>(std::move(outcome)));
        }
    }
};

/// The handler a wait parks in a `completion`: once woken (on the user
/// handler's executor), it takes the result out and completes the user's
/// handler through `Deliver`, or with the exception the wait ended with.
/// Keeps the completion (and the task's state that holds it) alive. Its
/// associated executor, cancellation slot and allocator are the user's.
template <class Result, class Deliver, class Handler>
class take_operation {
public:
    take_operation(std::shared_ptr<completion<Result>> done, std::string_view task_name,
                   Handler handler)
        : done_(std::move(done)),
          task_name_(task_name),
          handler_(std::move(handler)) {}

    void operator()(error_code ec) {
        using value_type = typename Deliver::value_type;
        std::optional<Result> result;
        std::exception_ptr failure;
        if (ec) {
            failure = wait_failure(ec, task_name_);
        } else if (result = done_->try_take(); !result) {
            failure = std::make_exception_ptr(result_taken_error(task_name_));
        }
        // This may be the last reference to the task's state, which holds
        // strands of the task's context. It must go before the user's handler
        // runs: that may let its caller destroy the context (a thread blocked
        // on `use_future` does), while this runs on another executor.
        done_.reset();
        if (failure) {
            fail_wait<value_type>(handler_, std::move(failure));
        } else {
            Deliver::deliver(handler_, std::move(*result));
        }
    }

    const Handler& handler() const noexcept { return handler_; }

private:
    std::shared_ptr<completion<Result>> done_;
    std::string_view task_name_;  // kept alive by done_
    Handler handler_;
};

/// Initiates a wait for the result held in `done`, a member of `*owner`,
/// with the completion signature `wait_signature_t<Deliver::value_type>`.
/// A handler without an associated executor of its own completes on
/// `executor_of(*owner)`, asked when the operation starts. Supports
/// per-operation cancellation: the wait ends with `operation_aborted` and
/// leaves the result where it is.
template <class Deliver, class Owner, class Result, class ExecutorOf, class CompletionToken>
auto async_take(std::shared_ptr<Owner> owner, completion<Result>& done, std::string_view task_name,
                ExecutorOf executor_of, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, wait_signature_t<typename Deliver::value_type>>(
        [waited = std::shared_ptr<completion<Result>>(owner, &done), task_name, executor_of,
         state = owner.get()](auto handler) {
            // `waited` shares ownership of `*state`, so the raw pointer is safe.
            using operation = take_operation<Result, Deliver, decltype(handler)>;
            waited->async_wait(executor_of(*state),
                               operation(waited, task_name, std::move(handler)));
        },
        token);
}

/// The handler of a send: completes `Handler` with the channel's error code
/// and the id of the event sent (nil when it was not), and keeps the task's
/// state `Owner` alive until then. Its associated executor, cancellation
/// slot and allocator are `Handler`'s.
template <class Handler, class Owner>
class send_operation {
public:
    send_operation(Handler handler, std::shared_ptr<Owner> owner, uuid event_id)
        : handler_(std::move(handler)),
          owner_(std::move(owner)),
          event_id_(event_id) {}

    void operator()(error_code ec) {
        // Released before the upcall, for the reason `take_operation` gives.
        owner_.reset();
        std::move(handler_)(ec, ec ? uuid() : event_id_);
    }

    const Handler& handler() const noexcept { return handler_; }

private:
    Handler handler_;
    std::shared_ptr<Owner> owner_;
    uuid event_id_;
};

/// Initiates sending `payload` as an event of `type` into the channel of
/// the emitting task `state`, with the completion signature
/// `void(error_code, uuid)`. The event is made when the operation
/// starts; the state stays alive until the operation has completed.
template <class T, class State, class CompletionToken>
auto async_send_event(std::shared_ptr<State> state, streaming_event_type type, T payload,
                      CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(error_code, uuid)>(
        [state = std::move(state)](auto handler, streaming_event_type type, T payload) {
            auto e = state->inlet().make_event(std::move(payload), type);
            const uuid event_id = e.id();
            state->channel().async_send(
                std::move(e), send_mode_for(type),
                send_operation<decltype(handler), State>(std::move(handler), state, event_id));
        },
        token, type, std::move(payload));
}

}  // namespace sweet_async::detail

template <template <class, class> class Associator, class Result, class Deliver, class Handler,
          class DefaultCandidate>
struct sweet_async::asio::associator<
    Associator, sweet_async::detail::take_operation<Result, Deliver, Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const sweet_async::detail::take_operation<Result, Deliver, Handler>& operation,
        const DefaultCandidate& candidate = DefaultCandidate()) noexcept {
        return Associator<Handler, DefaultCandidate>::get(operation.handler(), candidate);
    }
};

template <template <class, class> class Associator, class Handler, class Owner,
          class DefaultCandidate>
struct sweet_async::asio::associator<
    Associator, sweet_async::detail::send_operation<Handler, Owner>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const sweet_async::detail::send_operation<Handler, Owner>& operation,
        const DefaultCandidate& candidate = DefaultCandidate()) noexcept {
        return Associator<Handler, DefaultCandidate>::get(operation.handler(), candidate);
    }
};

#endif  // SWEET_ASYNC_TASK_DETAIL_OPERATIONS_HPP
