// bench/tasks.hpp: running one emitting task from start to final result, timed.
#ifndef SWEET_ASYNC_BENCH_TASKS_HPP
#define SWEET_ASYNC_BENCH_TASKS_HPP

#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include "measure.hpp"
#include "workloads.hpp"

namespace bench {

namespace sa = sweet_async;

/// How the producer hands each payload over.
enum class send_path {
    /// `try_send`, and `co_await send` only when the channel is full: what a well-informed user
    /// writes, since a send that finds room then costs no coroutine frame.
    try_first,
    /// `co_await send` for every payload: the obvious code, paying a coroutine per event.
    await_each,
};

/// The producer: sends `make(0) .. make(events - 1)`, the last one as the final event, then
/// returns the task's final result. Takes the handle by value: the coroutine may outlive the
/// caller's frame.
template <class Task, class Make>
asio::awaitable<typename Task::result_type> produce(Task task, std::size_t events, Make make,
                                                    send_path path) {
    for (std::size_t i = 0; i + 1 < events; ++i) {
        auto payload = make(i);
        if (path == send_path::try_first) {
            const sweet_async::error_code sent =
                task.try_send(std::move(payload));  // untouched if not
            if (!sent) continue;
            if (sent != sa::async_task_error::full) throw sweet_async::system_error(sent);
        }
        co_await task.send(std::move(payload));
    }
    co_await task.send_final(make(events - 1));
    co_return co_await task.wait();
}

/// A timed run's figures, and a problem when the task did not process exactly `events` events
/// and collect a result for each.
template <class Result>
run_result summarise(const Result& result, std::size_t events, double seconds) {
    run_result r{.events = result.stats().processed, .seconds = seconds};
    const auto& stats = result.stats();
    if (result.status() != sa::task_status::completed || !stats.balanced() ||
        stats.processed != events || result.collection().size() != events) {
        r.problem = fmt::format("expected {} events processed and collected, got {} ({}; {} "
                                "collected)",
                                events, result.status(), stats, result.collection().size());
    }
    // Only an adaptive strategy makes decisions; what it ended on explains its figure.
    const auto& report = result.strategy_report();
    if (!report.decisions.empty()) {
        r.note = fmt::format("ended on {} ({} decisions in its report, which keeps the last 64)",
                             report.current, report.decisions.size());
    }
    return r;
}

inline double seconds_since(steady::time_point started) {
    return std::chrono::duration<double>(steady::now() - started).count();
}

namespace detail {

/// Builds the task, feeds it from a producer coroutine on `io` and runs `io` on this thread
/// until the task has ended. The time covers building the task, sending every event and
/// receiving the final result.
template <class Task, class Make>
run_result drive(asio::io_context& io, Task task, steady::time_point started, std::size_t events,
                 const Make& make, send_path path) {
    auto future = asio::co_spawn(io, produce(task, events, make, path), asio::use_future);
    io.run();  // returns once the task has ended and nothing is left to do
    const auto result = future.get();
    return summarise(result, events, seconds_since(started));
}

}  // namespace detail

/// Runs the task `start(executor)` makes on a fresh io_context driven by this thread alone, fed
/// by a producer coroutine on the same thread.
template <class Start, class Make>
run_result run_on_io_context(const Start& start, std::size_t events, const Make& make,
                             send_path path = send_path::try_first) {
    asio::io_context io;
    const auto started = steady::now();
    return detail::drive(io, start(io.get_executor()), started, events, make, path);
}

/// Like `run_on_io_context`, for a task whose processors run on an offload pool of `threads`
/// threads: `start(executor, offload_executor)` makes it.
template <class Start, class Make>
run_result run_with_offload(std::size_t threads, const Start& start, std::size_t events,
                            const Make& make) {
    // The io_context outlives the pool: a pool thread that has just handed a result back may
    // still hold a copy of the task's strand, which needs the io_context when released.
    asio::io_context io;
    asio::thread_pool offload(threads);
    const auto started = steady::now();
    const run_result r = detail::drive(io, start(io.get_executor(), offload.get_executor()),
                                       started, events, make, send_path::try_first);
    offload.join();
    return r;
}

/// Like `run_on_io_context`, on a fresh thread pool of `threads` threads that runs the task, its
/// producer and (for `parallel`) its processors.
template <class Start, class Make>
run_result run_on_pool(std::size_t threads, const Start& start, std::size_t events,
                       const Make& make, send_path path = send_path::try_first) {
    asio::thread_pool pool(threads);
    const auto started = steady::now();
    auto task = start(pool.get_executor());
    const auto result =
        asio::co_spawn(pool, produce(task, events, make, path), asio::use_future).get();
    const double seconds = seconds_since(started);
    pool.join();
    return summarise(result, events, seconds);
}

/// How to start one kind of task on an executor: payloads `T`, a strategy, a processor and a
/// collector (`sa::default_collector` for the default keyed collection). Scenarios hand recipes
/// to the runners above, which build a fresh task on a fresh executor for every run.
template <class T, class Strategy, class Processor, class Collector = sa::default_collector>
struct recipe {
    std::string name;
    Strategy strategy;
    Processor processor;
    Collector collector{};

    auto operator()(asio::any_io_executor executor) const {
        return sa::emitting_builder<T>(std::move(executor))
            .name(name)
            .receiver(strategy, processor)
            .collector(collector)
            .start_queue();
    }
};

/// A recipe for payloads `T`, the other types deduced.
template <class T, class Strategy, class Processor, class Collector = sa::default_collector>
recipe<T, Strategy, Processor, Collector>
make_recipe(std::string name, Strategy strategy, Processor processor, Collector collector = {}) {
    return {std::move(name), std::move(strategy), std::move(processor), std::move(collector)};
}

/// The payload of most scenarios: the event's index.
struct index_payload {
    std::uint64_t operator()(std::size_t i) const noexcept { return i; }
};

/// A contestant running `events` events through the task `start` makes, on one thread.
template <class Start, class Make = index_payload>
contestant on_one_thread(std::string label, Start start, std::size_t events, Make make = {},
                         send_path path = send_path::try_first) {
    return {std::move(label), [=] { return run_on_io_context(start, events, make, path); }};
}

/// A contestant running the task `start` makes on a pool of `threads` threads.
template <class Start, class Make = index_payload>
contestant on_pool(std::string label, std::size_t threads, Start start, std::size_t events,
                   Make make = {}) {
    return {std::move(label), [=] { return run_on_pool(threads, start, events, make); }};
}

/// A contestant running the task `start(executor, offload)` makes on one thread, its
/// processors on an offload pool of `threads` threads.
template <class Start, class Make = index_payload>
contestant with_offload(std::string label, std::size_t threads, Start start, std::size_t events,
                        Make make = {}) {
    return {std::move(label), [=] { return run_with_offload(threads, start, events, make); }};
}

/// The trivial processor under `strategy`, into the default keyed collection.
template <class Strategy>
auto trivial_keyed(Strategy strategy) {
    return make_recipe<std::uint64_t>("trivial-keyed", std::move(strategy), trivial_processor{});
}

/// The trivial processor under `strategy`, into a fold collector that keeps only the sum.
template <class Strategy>
auto trivial_fold(Strategy strategy) {
    return make_recipe<std::uint64_t>("trivial-fold", std::move(strategy), trivial_processor{},
                                      sa::fold_collector{std::uint64_t{0}, sum_in_place{}});
}

}  // namespace bench

#endif  // SWEET_ASYNC_BENCH_TASKS_HPP
