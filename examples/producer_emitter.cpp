// producer_emitter: producers written as emitter coroutines, paced by the channel.
//
// What it demonstrates:
//   * an emitter coroutine, `asio::awaitable<void> upload_part(task, ...)`, that produces chunks
//     and `co_await task.send(chunk)`s each one. When the bounded channel is full (`capacity(8)`
//     here), `send` suspends the emitter until the consumer frees a slot: backpressure, without
//     blocking a thread. The emitters produce far faster than the consumer stores, so the backlog
//     (`stats().sent - stats().finished()`) sits at the capacity plus the one chunk being stored,
//     and never grows beyond it;
//   * several emitters feeding one task: three parts of an upload run concurrently, joined with
//     Asio's awaitable operators (`a && b && c`); their chunks interleave in the channel, and each
//     part's chunks stay in the order that part sent them;
//   * `send_final`: once every part is in, the coordinator sends the commit record as the final
//     event. It is processed like any other (after every chunk, under `serial`), it is handed
//     back in `result.final_event()`, and nothing can be sent after it: a late `send` throws
//     `async_task_exception` with code `closed`.
//
// Everything runs on one thread (an io_context run by main), so the emitters, the processor and
// the progress counters need no locks.

#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t capacity = 8;
constexpr std::size_t chunks_per_part = 150;

struct chunk {
    std::string part;  // "a", "b", "c", or "commit" for the final record
    std::size_t index = 0;
    std::size_t bytes = 0;  // for the commit record: the total the upload must have stored
};

std::size_t chunk_bytes(std::size_t index) {
    return 4096 + index % 7 * 512;
}

/// The processor: "stores" a chunk (a ~0.5 ms wait, a stand-in for a write to remote storage)
/// and returns how many bytes it stored. The commit record stores nothing.
asio::awaitable<std::size_t> store(const chunk& c) {
    if (c.part == "commit") co_return 0;
    asio::steady_timer write(co_await asio::this_coro::executor, 500us);
    co_await write.async_wait(asio::use_awaitable);
    co_return c.bytes;
}

/// What the emitters saw: chunks sent per part, and the largest backlog.
struct progress {
    std::map<std::string, std::size_t> sent_by_part;
    std::size_t sent = 0;
    std::size_t max_backlog = 0;
    bool late_send_rejected = false;

    template <class Task>
    void after_send(const Task& task, const std::string& part) {
        ++sent_by_part[part];
        const sa::task_stats stats = task.stats();
        const std::size_t backlog = stats.sent - stats.finished();  // queued + being stored
        if (backlog > max_backlog) max_backlog = backlog;
        if (++sent % 100 == 0) {
            fmt::print("  sent {:>3}: a {:>3}, b {:>3}, c {:>3} | stored {:>3} | backlog {}\n",
                       sent, sent_by_part["a"], sent_by_part["b"], sent_by_part["c"],
                       stats.processed, backlog);
        }
    }
};

/// An emitter: produces the chunks of one part and sends them in order. `send` suspends while
/// the channel is full. The task handle is taken by value (a coroutine must not hold references
/// to its caller's locals); `seen` outlives every emitter (main runs the io_context to the end).
template <class Task>
asio::awaitable<void> upload_part(Task task, std::string part, progress& seen) {
    for (std::size_t i = 0; i < chunks_per_part; ++i) {
        // A named chunk, not `send(chunk{...})`: GCC 12 miscompiles a braced aggregate temporary
        // inside a co_await expression (its string is freed twice).
        chunk next{part, i, chunk_bytes(i)};
        co_await task.send(std::move(next));
        seen.after_send(task, part);
    }
}

/// The coordinator: runs the three emitters concurrently, then ends the stream with the commit
/// record, then waits for the result.
template <class Task>
asio::awaitable<typename Task::result_type> upload(Task task, progress& seen) {
    using namespace asio::experimental::awaitable_operators;
    co_await (upload_part(task, "a", seen) && upload_part(task, "b", seen) &&
              upload_part(task, "c", seen));

    std::size_t total = 0;
    for (std::size_t i = 0; i < chunks_per_part; ++i)
        total += 3 * chunk_bytes(i);
    chunk commit{"commit", 0, total};
    co_await task.send_final(std::move(commit));

    try {
        chunk late{"a", chunks_per_part, 1};
        co_await task.send(std::move(late));  // too late: the stream has ended
        fmt::print("a send after send_final was accepted\n");
    } catch (const sa::async_task_exception& e) {
        fmt::print("  a send after send_final throws: {}\n", e.what());
        seen.late_send_rejected = e.code() == sa::async_task_error::closed;
    }
    co_return co_await task.wait();
}

}  // namespace

int main() {
    fmt::print("producer_emitter: 3 emitter coroutines upload {} chunks each into a task with a "
               "channel of {} slots\n\n",
               chunks_per_part, capacity);
    asio::io_context io;
    // A fold collector adds up the stored bytes; per-chunk results are not kept.
    auto task = sa::emitting_builder<chunk>(io)
                    .name("upload")
                    .capacity(capacity)
                    .receiver(sa::serial{}, store)
                    .collector(sa::fold_collector{std::size_t{0}, std::plus<>{}})
                    .start_queue();
    progress seen;
    auto future = asio::co_spawn(io, upload(task, seen), asio::use_future);
    io.run();  // returns once the upload has finished
    const auto result = future.get();

    const auto& commit = result.final_event();
    fmt::print("\n{}\n", result);
    fmt::print("stored {} bytes in {} chunks; the commit record expected {} bytes\n",
               result.result(), result.collection().size() - 1,
               commit ? commit->payload().bytes : 0);
    fmt::print("largest backlog seen by the emitters: {} (capacity {} + 1 being stored)\n",
               seen.max_backlog, capacity);

    const bool ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
                    result.stats().processed == 3 * chunks_per_part + 1 && commit &&
                    commit->payload().part == "commit" && commit->completed().has_value() &&
                    result.result() == commit->payload().bytes &&
                    seen.max_backlog <= capacity + 1 && seen.max_backlog >= capacity &&
                    seen.late_send_rejected;
    if (!ok) fmt::print("\nsomething is off: see the lines above\n");
    return ok ? 0 : 1;
}
