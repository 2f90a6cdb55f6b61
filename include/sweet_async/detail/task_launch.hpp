// sweet_async/detail/task_launch.hpp: the steps every builder takes to start a task.
#ifndef SWEET_ASYNC_DETAIL_TASK_LAUNCH_HPP
#define SWEET_ASYNC_DETAIL_TASK_LAUNCH_HPP

#include <sweet_async/config.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <sweet_async/collector.hpp>
#include <sweet_async/detail/task_registry.hpp>
#include <sweet_async/detail/trace.hpp>
#include <sweet_async/error.hpp>
#include <sweet_async/sender.hpp>
#include <sweet_async/task_options.hpp>
#include <sweet_async/trace_sink.hpp>

namespace sweet_async::detail {

/// What the first stage of the builder gathers for the task: where it runs,
/// its settings, and the emitters it runs.
template <class T, class Id>
struct task_plan {
    asio::any_io_executor executor;
    task_options options;
    std::vector<emitter<T, Id>> emitters;
};

/// The state of a new task on `executor` with its channel; a capacity the
/// channel refuses is reported as this task's configuration error.
/// `stamps_creation`: whether anything may read `event::created()`.
template <class State>
std::shared_ptr<State> make_task_state(const asio::any_io_executor& executor,
                                       const task_options& options, bool stamps_creation) {
    try {
        return std::make_shared<State>(executor, options, stamps_creation);
    } catch (const async_task_exception& e) {
        if (e.code() != async_task_error::invalid_configuration) throw;
        throw options.invalid(e.what());
    }
}

/// Traces the start of the task of `state`, which runs what `describe()`
/// says (called only when tracing is on), and registers it with its context,
/// which tells it when the context is destroyed first (see `task_registry`).
template <class State, class Describe>
void announce_started(const std::shared_ptr<State>& state, Describe&& describe) {
    const task_options& options = state->options;
    if (options.tracing) {
        trace(options, state->id, trace_kind::started,
              "started: id={} strategy={} capacity={} priority={}", state->id.to_string(),
              describe(), options.capacity, options.priority);
    }
    task_registry::of(state->executor).add(state);
}

/// The collector the task starts with: `given`, or a new keyed collector.
template <class R, class Collector>
collector_or_keyed<Collector, R> initial_collector(const Collector& given) {
    if constexpr (std::is_same_v<Collector, default_collector>) {
        return keyed_collector<R>{};
    } else {
        return given;
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_TASK_LAUNCH_HPP
