// bench/compile/every_strategy.cpp: one task of every strategy (serial, parallel, batched,
// adaptive, per_key) and a three-stage flow in one file: what a service using the whole library
// pays per file.
#include <sweet_async/sweet_async.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;

namespace {

std::size_t length(const std::string& word) {
    return word.size();
}

template <class Task>
void feed(asio::thread_pool& pool, Task& task) {
    asio::co_spawn(
        pool,
        [&]() -> asio::awaitable<void> {
            for (std::string word : {"a", "bb", "ccc"})
                co_await task.send(word);
            co_await task.send_final("dddd");
            fmt::print("{}\n", co_await task.wait());
        },
        asio::use_future)
        .get();
}

}  // namespace

int main() {
    asio::thread_pool pool(2);
    auto words = sa::emitting_builder<std::string>(pool);

    auto serial = words.receiver(sa::serial{}, length).start_queue();
    auto parallel = words.receiver(sa::parallel{.workers = {2, 8}}, length).start_queue();
    auto batched = words
                       .receiver(sa::batched{.batch_size = 16},
                                 [](std::span<const std::string> batch) {
                                     std::vector<std::size_t> lengths;
                                     for (const auto& word : batch)
                                         lengths.push_back(word.size());
                                     return lengths;
                                 })
                       .start_queue();
    auto adaptive = words.receiver(sa::adaptive{}, length).start_queue();
    auto per_key =
        words.receiver(sa::per_key([](const std::string& word) { return word.front(); }), length)
            .start_queue();
    feed(pool, serial);
    feed(pool, parallel);
    feed(pool, batched);
    feed(pool, adaptive);
    feed(pool, per_key);

    // parse -> enrich -> store
    auto store = sa::emitting_builder<std::string>(pool)
                     .name("store")
                     .receiver(sa::batched{.batch_size = 32},
                               [](std::span<const std::string> rows) {
                                   return std::vector<std::size_t>(rows.size(), 1);
                               })
                     .start_queue();
    auto enrich = sa::emitting_builder<int>(pool)
                      .name("enrich")
                      .receiver(sa::parallel{.workers = {1, 8}},
                                [](int id) -> asio::awaitable<std::string> {
                                    co_return fmt::format("user-{}", id);
                                })
                      .collector(sa::forward_to(store))
                      .start_queue();
    auto parse =
        sa::emitting_builder<std::string>(pool)
            .name("parse")
            .receiver(sa::serial{}, [](const std::string& line) { return std::stoi(line); })
            .collector(sa::forward_to(enrich))
            .start_queue();
    asio::co_spawn(
        pool,
        [&]() -> asio::awaitable<void> {
            for (std::string line : {"1", "2", "3"})
                co_await parse.send(line);
            parse.close();
            fmt::print("{}\n", co_await store.wait());
        },
        asio::use_future)
        .get();
}
