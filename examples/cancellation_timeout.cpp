// cancellation_timeout: how events and tasks end when things go wrong, and what the final result
// reports.
//
// What it demonstrates, one task per scenario:
//   1. per-event timeout and retries: `sa::serial{.timeout = 20ms}` interrupts a coroutine
//      processor that overruns (the event ends `timed_out`); `.retry(2, backoff)` gives a failing
//      event two more attempts: a flaky one succeeds on its second, a broken one fails on all
//      three and keeps its last exception's message. The task itself still ends `completed`;
//   2. whole-task deadline: `.timeout(150ms)` on the builder. When it passes, the event in flight
//      is interrupted, the queued ones end cancelled, sends fail with `closed`, and the task ends
//      `timed_out`;
//   3. `cancel(graceful)`: nothing new is accepted, everything already sent is still processed;
//   4. `cancel(immediate)`: the coroutine processor in flight is interrupted (Asio terminal
//      cancellation) and every event not yet processed ends cancelled.
// In every case `stats()` accounts for every event sent (`balanced()`), and `errors()` says for
// each event that was not processed how it ended and why.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

struct job {
    int id = 0;
    std::chrono::milliseconds work{1};  // how long the job waits (a stand-in for a remote call)
    unsigned failing_attempts = 0;      // the job throws on its first N attempts
};

/// The processor: waits `work`, failing on the job's first `failing_attempts` attempts. It takes
/// the processor context to know which attempt this is. While it waits on the timer, a timeout
/// or an immediate stop cancels the wait, and the coroutine ends with `operation_aborted`.
asio::awaitable<int> run_job(const job& j, sa::processor_context<>& context, sa::uuid /*event*/) {
    asio::steady_timer timer(co_await asio::this_coro::executor, j.work);
    co_await timer.async_wait(asio::use_awaitable);
    if (context.attempt() <= j.failing_attempts)
        throw std::runtime_error(fmt::format("job {}: upstream answered 503", j.id));
    co_return j.id;
}

/// Sends `jobs`, waits `pause`, then calls `task.cancel(*stop)` or, without `stop`, `close()`
/// (which does nothing if the deadline already ended the task). Then tries one more send, and
/// waits for the result.
template <class Task>
asio::awaitable<typename Task::result_type> feed(Task task, std::vector<job> jobs,
                                                 std::chrono::milliseconds pause = 0ms,
                                                 std::optional<sa::cancellation_level> stop = {}) {
    for (const job& j : jobs)
        co_await task.send(j);
    asio::steady_timer timer(co_await asio::this_coro::executor, pause);
    co_await timer.async_wait(asio::use_awaitable);
    if (stop) {
        task.cancel(*stop);
    } else {
        task.close();
    }
    // Sending after the end is an error the coroutine API reports with an exception.
    try {
        const job late{.id = 999};
        co_await task.send(late);
    } catch (const sa::async_task_exception& e) {
        fmt::print("  one more send throws: {}\n", e.what());  // e.code() == closed
    }
    co_return co_await task.wait();
}

/// Runs `feed` on `io` (a fresh io_context per scenario), driven by this thread.
template <class Task, class... Args>
typename Task::result_type run(asio::io_context& io, Task task, Args... args) {
    auto future = asio::co_spawn(io, feed(task, std::move(args)...), asio::use_future);
    io.run();
    return future.get();
}

/// What a final result says: status and counts, then each error (the first few).
template <class Result>
void print_result(const Result& result) {
    fmt::print("  {}\n", result);  // task '...' <status>: sent=... processed=... failed=...
    const auto errors = result.errors();
    const std::size_t shown = std::min<std::size_t>(errors.size(), 4);
    for (std::size_t i = 0; i < shown; ++i) {
        fmt::print("    #{} {} after {} attempt(s): {}\n", errors[i].sequence, errors[i].kind,
                   errors[i].attempts, errors[i].message);
    }
    if (errors.size() > shown) fmt::print("    ... and {} more\n", errors.size() - shown);
}

std::vector<job> jobs(int count, std::chrono::milliseconds work) {
    std::vector<job> list;
    for (int id = 0; id < count; ++id)
        list.push_back(job{.id = id, .work = work});
    return list;
}

// ----- the scenarios -----------------------------------------------------------------------

bool per_event_timeout_and_retries() {
    fmt::print("1. per-event timeout 20ms, 2 retries\n");
    std::vector<job> list = jobs(8, 2ms);
    list[2].work = 200ms;          // overruns the timeout: interrupted, timed_out, not retried
    list[4].failing_attempts = 1;  // flaky: fails once, then succeeds
    list[6].failing_attempts = 9;  // broken: fails on all 3 attempts

    asio::io_context io;
    auto task = sa::emitting_builder<job>(io)
                    .name("jobs")
                    .retry(2, sa::backoff{.initial = 1ms})
                    .receiver(sa::serial{.timeout = 20ms}, run_job)
                    .start_queue();
    const auto result = run(io, task, list);
    print_result(result);
    const sa::task_stats& s = result.stats();
    return result.status() == sa::task_status::completed && s.balanced() && s.processed == 6 &&
           s.timed_out == 1 && s.failed == 1 && s.retries == 3 && result.errors().size() == 2 &&
           result.errors()[0].kind == sa::outcome::timed_out &&
           result.errors()[1].kind == sa::outcome::failed && result.errors()[1].attempts == 3;
}

bool task_deadline() {
    fmt::print("2. task deadline 150ms, 40 jobs of 20ms\n");
    asio::io_context io;
    auto task = sa::emitting_builder<job>(io)
                    .name("deadline")
                    .timeout(150ms)
                    .receiver(sa::serial{}, run_job)
                    .start_queue();
    // The feeder sends everything, then pauses past the deadline: by then the task has ended.
    const auto result = run(io, task, jobs(40, 20ms), 200ms);
    print_result(result);
    const sa::task_stats& s = result.stats();
    return result.status() == sa::task_status::timed_out && s.balanced() && s.sent == 40 &&
           s.processed > 0 && s.processed < 40 && s.cancelled == 40 - s.processed;
}

bool graceful_cancel() {
    fmt::print("3. cancel(graceful) 30ms after sending 10 jobs of 5ms\n");
    asio::io_context io;
    auto task = sa::emitting_builder<job>(io)
                    .name("graceful")
                    .receiver(sa::serial{}, run_job)
                    .start_queue();
    const auto result =
        run(io, task, jobs(10, 5ms), 30ms, std::optional{sa::cancellation_level::graceful});
    print_result(result);
    const sa::task_stats& s = result.stats();
    return result.status() == sa::task_status::cancelled && s.balanced() && s.sent == 10 &&
           s.processed == 10 && result.errors().empty();
}

bool immediate_cancel() {
    fmt::print("4. cancel(immediate) 30ms after sending 10 jobs of 20ms\n");
    asio::io_context io;
    auto task = sa::emitting_builder<job>(io)
                    .name("immediate")
                    .receiver(sa::serial{}, run_job)
                    .start_queue();
    const auto result =
        run(io, task, jobs(10, 20ms), 30ms, std::optional{sa::cancellation_level::immediate});
    print_result(result);
    const sa::task_stats& s = result.stats();
    const auto interrupted = [](const sa::event_error& e) {
        return e.message.find("interrupted") != std::string::npos;
    };
    return result.status() == sa::task_status::cancelled && s.balanced() && s.sent == 10 &&
           s.processed < 10 && s.cancelled == 10 - s.processed &&
           std::count_if(result.errors().begin(), result.errors().end(), interrupted) == 1;
}

}  // namespace

int main() {
    fmt::print("cancellation_timeout: how events and tasks end, and what the result reports\n\n");
    bool ok = true;
    for (bool (*scenario)() :
         {per_event_timeout_and_retries, task_deadline, graceful_cancel, immediate_cancel}) {
        const bool passed = scenario();
        fmt::print("  -> {}\n\n", passed ? "as expected" : "NOT as expected");
        ok = ok && passed;
    }
    return ok ? 0 : 1;
}
