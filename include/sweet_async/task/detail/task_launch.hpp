// sweet_async/task/detail/task_launch.hpp: the steps every builder takes to start a task.
#ifndef SWEET_ASYNC_TASK_DETAIL_TASK_LAUNCH_HPP
#define SWEET_ASYNC_TASK_DETAIL_TASK_LAUNCH_HPP

#include <sweet_async/config.hpp>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)

#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/base/detail/task_registry.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/trace_sink.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/receiver/collector.hpp>
#include <sweet_async/task/detail/emitter_plan.hpp>
#include <sweet_async/task/sender.hpp>

namespace sweet_async::detail {

/// The route of dead letters to `target`: a task's sender, an emitting task
/// (through its sender), or a function of a `dead_letter<T>&&`.
template <class T, class Target>
dead_letter_route<T> dead_letter_route_to(const Target& target) {
    using letter = dead_letter<T>;
    if constexpr (requires { target.get_sender(); }) {
        return dead_letter_route_to<T>(target.get_sender());
    } else if constexpr (requires(letter l) { target.try_send(std::move(l)); }) {
        auto box =
            std::make_shared<outbox<letter, typename Target::task_id_type>>(target.inlet(), false);
        return {[box](letter&& l) { box->push(std::move(l)); }, box};
    } else {
        static_assert(std::is_invocable_v<const Target&, letter&&>,
                      "sweet_async: a dead-letter target is an emitting task or a sender of "
                      "dead_letter<T> events, or a function void(sweet_async::dead_letter<T>&&)");
        return {[target](letter&& l) mutable { target(std::move(l)); }, nullptr};
    }
}

/// What the first stage of the builder gathers for the task: where it runs,
/// its settings, the emitters it runs, and how to route its dead letters
/// (a new route per task: an outbox belongs to one task).
template <class T, class Id>
struct task_plan {
    asio::any_io_executor executor;
    task_options options;
    emitter_plan<T, Id> emitters;
    std::function<dead_letter_route<T>()> dead_letters;
};

/// The state of a new task of `plan` with its channel; a capacity the
/// channel refuses is reported as this task's configuration error.
/// `stamps_creation`: whether anything may read `event::created()`.
template <class State, class T, class Id>
std::shared_ptr<State> make_task_state(const task_plan<T, Id>& plan, bool stamps_creation) {
    std::shared_ptr<State> state;
    try {
        state = std::make_shared<State>(plan.executor, plan.options, stamps_creation);
    } catch (const async_task_exception& e) {
        if (e.code() != async_task_error::invalid_configuration) throw;
        throw plan.options.invalid(e.what());
    }
    if (plan.dead_letters) {
        state->route_dead_letters(plan.dead_letters());
    }
    return state;
}

/// Traces the start of the task of `state`, which runs what `describe()`
/// says (called only when tracing is on) and collects into `collector`
/// (named when it links the task to others), and registers it with its
/// context, which tells it when the context is destroyed first (see
/// `task_registry`).
template <class State, class Describe, class Collector>
void announce_started(const std::shared_ptr<State>& state, Describe&& describe,
                      const Collector& collector) {
    const task_options& options = state->options;
    if (options.tracing) {
        std::string links;
        if constexpr (requires { collector.describe(); }) links = " links=" + collector.describe();
        trace(options, state->id(), trace_kind::started,
              "started: id={} strategy={} capacity={} priority={}{}", state->id().to_string(),
              describe(), options.capacity, options.priority, links);
    }
    task_registry::of(state->executor).add(state);
}

/// The collector the task starts with: `given`, or a new keyed collector.
/// A collector that feeds other tasks opens its hand-offs now, while the
/// task starts, so that every feeder of a task is counted before any ends.
template <class R, class Collector>
collector_or_keyed<Collector, R> initial_collector(const Collector& given) {
    if constexpr (std::is_same_v<Collector, default_collector>) {
        return keyed_collector<R>{};
    } else if constexpr (requires(Collector c) { c.open(); }) {
        Collector opened = given;
        opened.open();
        return opened;
    } else {
        return given;
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_TASK_LAUNCH_HPP
