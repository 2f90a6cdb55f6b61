// sweet_async/task/stream_processor_builder.hpp: the builder's second stage for a stream processor.
#ifndef SWEET_ASYNC_TASK_STREAM_PROCESSOR_BUILDER_HPP
#define SWEET_ASYNC_TASK_STREAM_PROCESSOR_BUILDER_HPP

#include <sweet_async/config.hpp>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)

#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/receiver/collector.hpp>
#include <sweet_async/task/detail/emitting_state.hpp>
#include <sweet_async/task/detail/stream_consumer.hpp>
#include <sweet_async/task/detail/task_launch.hpp>
#include <sweet_async/task/emitting_task.hpp>
#include <sweet_async/task/event_stream.hpp>

namespace sweet_async {

namespace detail {

template <class A>
struct stream_result_of_argument {
    using type = void;
};
template <class T, class R, class Id>
struct stream_result_of_argument<event_stream<T, R, Id>&> {
    using type = R;
};

template <class Function>
struct stream_result_of_function {
    using type = void;
};
template <class Ret, class A>
struct stream_result_of_function<std::function<Ret(A)>> : stream_result_of_argument<A> {};

/// The result type `R` of the `event_stream<T, R, Id>&` that the stream
/// processor `F` takes, read from its one signature (through
/// `std::function`'s deduction guide); `void` when there is none to read (a
/// generic lambda), so that the user names it.
template <class F, class = void>
struct stream_result_of {
    using type = void;
};
template <class F>
struct stream_result_of<F, std::void_t<decltype(std::function(std::declval<F>()))>>
    : stream_result_of_function<decltype(std::function(std::declval<F>()))> {};

}  // namespace detail

/// The second stage of the builder for a task whose events a stream
/// processor pulls itself (see `emitting_task_builder::stream_processor`): a
/// collector may still be chosen, then `start_queue()` starts the task.
template <class T, task_id Id, class R, class StreamProcessor, class Collector = default_collector>
class stream_processor_builder {
    static_assert(
        std::is_invocable_r_v<asio::awaitable<void>, StreamProcessor&, event_stream<T, R, Id>&>,
        "sweet_async: a stream processor must be callable as "
        "asio::awaitable<void>(sweet_async::event_stream<T, R, Id>&); when it is generic, name "
        "R: stream_processor<R>(...)");

public:
    using result_type = R;  ///< What a completed event collects.
    /// The collector the task will use: `Collector`, or a `keyed_collector` of the results.
    using collector_type = collector_or_keyed<Collector, R>;
    static_assert(collector_for<collector_type, R>,
                  "sweet_async: the collector must accept the stream's results "
                  "(see the collector_for concept)");
    using collection_type = typename collector_type::collection_type;  ///< In the final result.
    using task_type = emitting_task<T, collection_type, Id>;  ///< What `start_queue()` returns.

    /// The builder `emitting_task_builder::stream_processor` returns; rarely built directly.
    stream_processor_builder(detail::task_plan<T, Id> plan, StreamProcessor processor,
                             Collector collector = {})
        : plan_(std::move(plan)),
          processor_(std::move(processor)),
          collector_(std::move(collector)) {}

    /// Collects results into `collector` instead of a `keyed_collector`.
    template <class OtherCollector>
    [[nodiscard]] stream_processor_builder<T, Id, R, StreamProcessor, OtherCollector>
    collector(OtherCollector collector) const {
        return {plan_, processor_, std::move(collector)};
    }

    /// Validates the configuration and starts the task: the stream processor
    /// starts on the task's consumer strand. Throws `async_task_exception`
    /// (`invalid_configuration`) naming the first field whose value cannot
    /// work.
    [[nodiscard]] task_type start_queue() const {
        using state_type = detail::emitting_state<T, collection_type, Id>;
        plan_.options.validate();
        // The processor sees whole events, their creation time included.
        auto state = detail::make_task_state<state_type>(plan_, true);
        detail::announce_started(
            state, [] { return std::string("stream_processor"); }, collector_);
        detail::start_stream_consumer<R>(state, processor_,
                                         detail::initial_collector<R>(collector_), plan_.emitters);
        return task_type(std::move(state));
    }

private:
    detail::task_plan<T, Id> plan_;
    StreamProcessor processor_;
    Collector collector_;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_STREAM_PROCESSOR_BUILDER_HPP
