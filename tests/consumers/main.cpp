// The program both consumer projects build: it proves that a project outside this repository gets
// a working sweet_async (headers, C++20, Asio, {fmt}, threads) from the CMake package, from
// add_subdirectory() or from pkg-config. Exits non-zero when the task's result is not the expected
// one, so that CI notices.

// First (clang-format keeps it there): with Clang, it defines the macros that turn on Asio's
// coroutine support before any Asio header reads them. The CMake target passes them anyway; the
// pkg-config build relies on this.
#include <sweet_async/sweet_async.hpp>

#include <cstddef>
#include <cstdio>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

int main() {
    asio::thread_pool pool(2);
    auto task = sa::emitting_builder<std::string>(pool)
                    .name("consumer")
                    .timeout(30s)
                    .receiver(sa::serial{}, [](const std::string& word) { return word.size(); })
                    .start_queue();

    auto result = asio::co_spawn(
                      pool,
                      [&]() -> asio::awaitable<decltype(task)::result_type> {
                          for (std::string word : {"a", "bb", "ccc"})
                              co_await task.send(word);
                          co_await task.send_final("dddd");
                          co_return co_await task.wait();
                      },
                      asio::use_future)
                      .get();

    std::size_t total_length = 0;
    for (const auto& [event_id, length] : result.collection()) {
        total_length += length;
    }
    const bool ok = result.status() == sa::task_status::completed &&
                    result.stats().processed == 4 && result.collection().size() == 4 &&
                    total_length == 10;
    fmt::print("{}\n{}: {} results, total length {}\n", result, ok ? "OK" : "FAILED",
               result.collection().size(), total_length);
    return ok ? 0 : 1;
}
