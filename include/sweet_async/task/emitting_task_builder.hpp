// sweet_async/task/emitting_task_builder.hpp: the immutable fluent builder of emitting tasks.
#ifndef SWEET_ASYNC_TASK_EMITTING_TASK_BUILDER_HPP
#define SWEET_ASYNC_TASK_EMITTING_TASK_BUILDER_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(execution_context)
#include <fmt/format.h>

#include <sweet_async/base/backoff.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/task_priority.hpp>
#include <sweet_async/base/trace_sink.hpp>
#include <sweet_async/receiver/collector.hpp>
#include <sweet_async/receiver/detail/processor_traits.hpp>
#include <sweet_async/receiver/receiver.hpp>
#include <sweet_async/strategies/processing_strategy.hpp>
#include <sweet_async/task/detail/consumer.hpp>
#include <sweet_async/task/detail/emitter_group.hpp>
#include <sweet_async/task/detail/emitting_state.hpp>
#include <sweet_async/task/detail/task_launch.hpp>
#include <sweet_async/task/emitting_task.hpp>
#include <sweet_async/task/sender.hpp>
#include <sweet_async/task/stream_processor_builder.hpp>

namespace sweet_async {

/// The second stage of the builder: strategy and processor chosen; a
/// collector may still be chosen, then `start_queue()` starts the task.
template <class T, task_id Id, class Strategy, class Processor, class Collector = default_collector>
class receiver_builder {
    using traits = detail::processor_traits<Processor, T, Id>;
    static_assert(traits::valid,
                  "sweet_async: the processor must be callable as R(const T&), "
                  "R(const T&, processor_context<Id>&, uuid) or R(event_view<T, Id>), "
                  "or per batch as std::vector<R>(std::span<const T>), where the result "
                  "may be asio::awaitable<X>");

public:
    /// What the processor produces per event (`std::monostate` for void).
    using result_type = typename traits::result_type;
    /// The collector the task will use: `Collector`, or a `keyed_collector` of the results.
    using collector_type = collector_or_keyed<Collector, result_type>;
    static_assert(collector_for<collector_type, result_type>,
                  "sweet_async: the collector must accept the processor's result "
                  "(see the collector_for concept)");
    using collection_type = typename collector_type::collection_type;  ///< In the final result.
    using task_type = emitting_task<T, collection_type, Id>;  ///< What `start_queue()` returns.

    /// The builder `emitting_task_builder::receiver` returns; rarely built directly.
    receiver_builder(detail::task_plan<T, Id> plan, Strategy strategy, Processor processor,
                     Collector collector = {})
        : plan_(std::move(plan)),
          strategy_(std::move(strategy)),
          processor_(std::move(processor)),
          collector_(std::move(collector)) {}

    /// Collects results into `collector` instead of a `keyed_collector`.
    template <class OtherCollector>
    [[nodiscard]] receiver_builder<T, Id, Strategy, Processor, OtherCollector>
    collector(OtherCollector collector) const {
        return {plan_, strategy_, processor_, std::move(collector)};
    }

    /// Validates the configuration and starts the task: its consumer begins
    /// draining the channel under the strategy. Throws `async_task_exception`
    /// (`invalid_configuration`) naming the first field whose value cannot
    /// work.
    [[nodiscard]] task_type start_queue() const {
        using state_type = detail::emitting_state<T, collection_type, Id>;
        using receiver_type = receiver_for<T, collection_type, Id, Processor, collector_type>;
        static_assert(strategy_for<Strategy, receiver_type>,
                      "sweet_async: the strategy must provide "
                      "asio::awaitable<void> run(Receiver&) const (see processing_strategy)");
        plan_.options.validate();
        strategy_.validate(plan_.options);
        auto state = detail::make_task_state<state_type>(
            plan_, traits::takes_event || reads_creation_time<Strategy>());
        detail::announce_started(
            state,
            [&] {
                if constexpr (fmt::is_formattable<Strategy>::value) {
                    return fmt::format("{}", strategy_);  // with its settings
                } else {
                    return std::string(strategy_.name());
                }
            },
            collector_);
        detail::start_consumer(state, strategy_, processor_,
                               detail::initial_collector<result_type>(collector_), plan_.emitters);
        return task_type(std::move(state));
    }

private:
    detail::task_plan<T, Id> plan_;
    Strategy strategy_;
    Processor processor_;
    Collector collector_;
};

/// Builds an emitting task whose events carry payloads of type `T`. Every
/// setter returns a new builder, so a configured builder can be reused as a
/// template for several tasks.
///
/// ```cpp
/// auto task = sa::emitting_builder<std::string>(pool)
///                 .name("word-lengths")
///                 .capacity(256)
///                 .receiver(sa::serial{}, [](const std::string& s) { return s.size(); })
///                 .start_queue();
/// ```
template <class T, task_id Id = uuid>
class emitting_task_builder {
public:
    /// A builder of tasks running on `executor`, starting from `options` (validated only by
    /// `start_queue()`).
    explicit emitting_task_builder(asio::any_io_executor executor, task_options options = {})
        : plan_{std::move(executor), std::move(options), {}, {}} {}

    /// Shown in tracing, statistics and error messages.
    [[nodiscard]] emitting_task_builder name(std::string value) const {
        return with([&](task_options& o) { o.name = std::move(value); });
    }
    /// Deadline for the whole task; when it passes, events not yet processed
    /// end as cancelled and the task ends `timed_out`.
    [[nodiscard]] emitting_task_builder timeout(std::chrono::nanoseconds value) const {
        return with([&](task_options& o) { o.timeout = value; });
    }
    /// Extra attempts for an event whose processor throws, each after the
    /// `wait` of the backoff (none by default). The event's outcome is its
    /// last attempt's.
    [[nodiscard]] emitting_task_builder retry(unsigned attempts, backoff wait = {}) const {
        return with([&](task_options& o) {
            o.retry = attempts;
            o.retry_backoff = wait;
        });
    }
    /// Traces the task's lifecycle (started, cancel requested, deadline
    /// reached, ended with status and statistics) and its strategy's
    /// decisions to the sink chosen so far, `stderr_trace_sink` by default.
    /// Off by default; when off, nothing is formatted.
    [[nodiscard]] emitting_task_builder tracing(bool enabled = true) const {
        return with([&](task_options& o) { o.tracing = enabled; });
    }
    /// Turns tracing on and sends the records to `sink` instead of stderr
    /// (see `trace_sink` for its contract: thread-safe, best effort). An
    /// empty `trace_sink` means the default sink.
    template <std::invocable<const trace_record&> Sink>
    [[nodiscard]] emitting_task_builder tracing(Sink sink) const {
        return with([&](task_options& o) {
            o.tracing = true;
            o.trace_to = trace_sink(std::move(sink));
        });
    }
    /// The task's priority, shown in tracing (default `normal`).
    [[nodiscard]] emitting_task_builder priority(task_priority value) const {
        return with([&](task_options& o) { o.priority = value; });
    }
    /// How many events may wait in the channel before `send` suspends
    /// (default 100).
    [[nodiscard]] emitting_task_builder capacity(std::size_t events) const {
        return with([&](task_options& o) { o.capacity = events; });
    }
    /// What a send into the full channel does (see `overflow_policy`):
    /// `wait` (the default), `reject`, `drop_newest` or `drop_oldest`. A
    /// dropped event ends `dropped`, counted in `stats().dropped` and listed
    /// in the final result's errors.
    [[nodiscard]] emitting_task_builder overflow(overflow_policy policy) const {
        return with([&](task_options& o) { o.overflow = policy; });
    }
    /// Takes events off the channel at most at the rate of `limit` (see
    /// `throttle`), whatever the strategy: the others wait their turn in the
    /// channel.
    [[nodiscard]] emitting_task_builder throttle(sweet_async::throttle limit) const {
        return with([&](task_options& o) { o.throttle = limit; });
    }
    /// How many event errors the final result keeps in full (default 1000):
    /// the first to end; later ones are only counted
    /// (`final_result::errors_not_retained`), so that a stream that keeps
    /// failing runs in bounded memory. `SIZE_MAX` keeps every one.
    [[nodiscard]] emitting_task_builder retain_errors(std::size_t errors) const {
        return with([&](task_options& o) { o.retained_errors = errors; });
    }

    /// Adds a coroutine that the task runs to produce events of its own,
    /// besides (or instead of) producers outside: `emit` is called once, as
    /// `asio::awaitable<void>(sa::sender<T, Id>&)`, on a strand of the task's
    /// executor when the task starts. Several may be added; they run
    /// concurrently. The stream ends when the last of them returns (or
    /// earlier, by a final event, `close()` or a stop). An emitter that
    /// throws ends the stream: what was sent is still processed, the others
    /// are interrupted, and the task ends `failed` with the exception's
    /// message in `final_result::failure()`. Any stop request, graceful
    /// included, and the end of the stream interrupt the emitters still
    /// running at their next `co_await` (Asio terminal cancellation; a send
    /// then throws), and the task ends only once every emitter has returned.
    template <class Emitter>
    requires std::is_invocable_r_v<asio::awaitable<void>, Emitter&,
                                   sweet_async::sender<T, Id>&> [[nodiscard]] emitting_task_builder
    emitter(Emitter emit) const {
        emitting_task_builder copy = *this;
        copy.plan_.emitters.add(std::move(emit), &detail::start_emitter_group<T, Id>);
        return copy;
    }

    /// Names where the task's events that fail or time out (after their
    /// retries) go besides `final_result::errors()`: each is handed on as a
    /// `sa::dead_letter<T>`, its error and its payload, and counted in
    /// `stats().dead_lettered`. `target` is another task taking
    /// `dead_letter<T>` events (an `emitting_task` or its `sender`: the
    /// letters wait for its room like a link's results, it is not closed by
    /// this task, and a letter it refuses is not counted), or a function
    /// `void(sa::dead_letter<T>&&)` called on the task's consumer strand,
    /// which must not block (one that throws loses nothing: the event's
    /// outcome stands, the letter is not counted). Cancelled events are not
    /// dead letters: nothing was wrong with them.
    template <class Target>
    [[nodiscard]] emitting_task_builder dead_letter(Target target) const {
        emitting_task_builder copy = *this;
        copy.plan_.dead_letters = [target = std::move(target)] {
            return detail::dead_letter_route_to<T>(target);
        };
        return copy;
    }

    /// Chooses how events are processed (`serial`, ...) and by what.
    template <processing_strategy Strategy, class Processor>
    [[nodiscard]] receiver_builder<T, Id, Strategy, std::decay_t<Processor>>
    receiver(Strategy strategy, Processor&& processor) const {
        return {plan_, std::move(strategy), std::forward<Processor>(processor)};
    }

    /// Hands the task's whole event stream to one coroutine that pulls the
    /// events itself, for work that keeps state across events or sets its own
    /// pace (sessions, joins, windows): `processor` is called once, as
    /// `asio::awaitable<void>(sa::event_stream<T, R, Id>&)`, on the task's
    /// consumer strand, and gives every event it pulls one outcome (see
    /// `pulled_event`). `R` is read from the processor's parameter, or named
    /// here when the processor is generic (`stream_processor<R>(...)`);
    /// `std::monostate` for a stream without results.
    ///
    /// The task's retries re-deliver a failed event after the backoff; its
    /// deadline and `cancel(immediate)` end `next()` and interrupt the
    /// coroutine at its next `co_await`. Events it never pulled (it returned
    /// early, threw or was stopped) end cancelled, with the reason. The task
    /// ends `failed` when the processor throws; otherwise as a receiver's
    /// would, with the same final result.
    template <class R = void, class StreamProcessor>
    [[nodiscard]] auto stream_processor(StreamProcessor&& processor) const {
        using F = std::decay_t<StreamProcessor>;
        using read = typename detail::stream_result_of<F>::type;
        static_assert(!std::is_void_v<R> || !std::is_void_v<read>,
                      "sweet_async: the stream processor is generic: name its result type, "
                      "stream_processor<R>(...) (std::monostate for none)");
        using named = std::conditional_t<std::is_void_v<R>, read, R>;
        using result = std::conditional_t<std::is_void_v<named>, std::monostate, named>;
        return stream_processor_builder<T, Id, result, F>{plan_,
                                                          std::forward<StreamProcessor>(processor)};
    }

    /// The settings chosen so far.
    const task_options& options() const noexcept { return plan_.options; }
    /// The executor the task will run on.
    const asio::any_io_executor& get_executor() const noexcept { return plan_.executor; }

private:
    template <class Change>
    emitting_task_builder with(Change&& change) const {
        emitting_task_builder copy = *this;
        change(copy.plan_.options);
        return copy;
    }

    detail::task_plan<T, Id> plan_;
};

/// Starts building an emitting task for payloads `T` on `executor`.
template <class T, task_id Id = uuid>
emitting_task_builder<T, Id> emitting_builder(asio::any_io_executor executor) {
    return emitting_task_builder<T, Id>(std::move(executor));
}

/// Starts building an emitting task for payloads `T` on an execution context
/// (`asio::io_context`, `asio::thread_pool`, ...).
template <class T, task_id Id = uuid, class ExecutionContext>
requires std::derived_from<ExecutionContext, asio::execution_context> emitting_task_builder<T, Id>
emitting_builder(ExecutionContext& context) {
    return emitting_task_builder<T, Id>(context.get_executor());
}

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_EMITTING_TASK_BUILDER_HPP
