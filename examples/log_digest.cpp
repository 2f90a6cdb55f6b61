// log_digest: summarises a web server access log with a sweet_async emitting task.
//
//     log_digest [path]      (default: examples/data/access.log)
//
// What it demonstrates:
//   * an emitting task for `std::string` lines on an `asio::thread_pool`, built with the fluent
//     builder (name, channel capacity, `serial` strategy, a plain synchronous processor);
//   * a processor that throws for bad input: each malformed line ends as a `failed` event with
//     the exception's message, and the stream carries on;
//   * a `fold_collector`, so the results are folded into one aggregate as they arrive and the
//     memory used does not grow with the number of lines (no per-line result is kept);
//   * a producer on a plain `std::thread` (file I/O stays off the executor) that sends with
//     `try_send` and blocks on `async_send(..., asio::use_future)` only while the bounded
//     channel is full: backpressure;
//   * the final result: status, statistics (`sent == processed + failed + timed_out +
//     cancelled`), the aggregate and the per-event errors.
//
// The parsing, the digest and the report are in access_log.hpp, which log_flow shares.

#include <sweet_async/sweet_async.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include "access_log.hpp"

namespace sa = sweet_async;
using namespace access_log;

namespace {

template <class Result>
void print_report(const std::string& path, std::size_t lines_read, const Result& result) {
    fmt::print("{}\n", result);
    fmt::print("\naccess log {}: {} lines read\n", path, lines_read);
    print_traffic(result.result());
    print_errors(result.errors());
    print_accounting(result.stats());
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 2) {
        fmt::print(stderr, "usage: {} [access.log]\n", argv[0]);
        return 2;
    }
    const std::string path = argc == 2 ? argv[1] : SWEET_ASYNC_EXAMPLES_DATA_DIR "/access.log";

    // The task: lines in, one `request` per line out, folded into a `digest` as they arrive.
    asio::thread_pool pool(2);
    auto task =
        sa::emitting_builder<std::string>(pool)
            .name("access-log-digest")
            .capacity(256)
            .receiver(sa::serial{}, parse_line)
            .collector(sa::fold_collector{digest{}, [](digest& d, const request& r) { d.add(r); }})
            .start_queue();

    std::ifstream file(path);
    if (!file) {
        fmt::print(stderr, "log_digest: cannot open '{}': {}\n", path, std::strerror(errno));
        task.close();
        return 1;
    }

    // The producer reads the file on its own thread and feeds the task.
    std::size_t lines_read = 0;
    std::thread producer([task, &file, &path, &lines_read]() mutable {
        try {
            send_lines(file, task, lines_read);
        } catch (const std::exception& e) {
            fmt::print(stderr, "log_digest: stopped reading '{}': {}\n", path, e.what());
        }
        task.close();  // no more lines: the task ends once the queued ones are digested
    });

    // wait() is a coroutine; co_spawn + use_future let this plain thread block on it.
    auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
    producer.join();

    print_report(path, lines_read, result);
    return result.status() == sa::task_status::completed && result.stats().balanced() ? 0 : 1;
}
