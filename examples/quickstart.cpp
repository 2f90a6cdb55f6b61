#include <sweet_async/sweet_async.hpp>

#include <asio.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

int main() {
    asio::thread_pool pool(2);
    auto task = sa::emitting_builder<std::string>(pool)
                    .name("word-lengths")
                    .timeout(30s)
                    .receiver(sa::serial{}, [](const std::string& word) { return word.size(); })
                    .start_queue();

    auto result = asio::co_spawn(
                      pool,
                      [&]() -> asio::awaitable<decltype(task)::result_type> {
                          for (std::string word : {"a", "bb", "ccc"})
                              co_await task.send(word);
                          co_await task.send_final("dddd");  // processed too; then the stream ends
                          co_return co_await task.wait();
                      },
                      asio::use_future)
                      .get();

    fmt::print("{}\n", result);  // task 'word-lengths' completed: sent=4 processed=4 ...
    for (const auto& [event_id, length] : result.collection()) {
        fmt::print("{} -> {}\n", event_id, length);
    }
}
