// bench/compile/quickstart_by_hand.cpp: examples/quickstart.cpp's job written by hand on Asio, the
// baseline of the compile-time benchmark: a producer coroutine sends the words through a channel,
// a consumer coroutine stores each word's length, on a thread_pool(2).
#include <map>
#include <string>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/channel.hpp>
#include <fmt/format.h>

int main() {
    asio::thread_pool pool(2);
    using channel_type = asio::experimental::channel<void(std::error_code, std::string)>;
    channel_type channel(pool, 100);
    std::map<std::size_t, std::size_t> lengths;
    auto consumer = asio::co_spawn(
        pool,
        [&]() -> asio::awaitable<void> {
            std::size_t index = 0;
            for (;;) {
                auto [ec, word] = co_await channel.async_receive(
                    asio::experimental::as_tuple(asio::use_awaitable));
                if (ec) break;
                lengths.emplace(index++, word.size());
            }
        },
        asio::use_future);
    asio::co_spawn(
        pool,
        [&]() -> asio::awaitable<void> {
            for (std::string word : {"a", "bb", "ccc", "dddd"})
                co_await channel.async_send(std::error_code{}, word, asio::use_awaitable);
            channel.close();
        },
        asio::use_future)
        .get();
    consumer.get();
    fmt::print("processed={}\n", lengths.size());
    for (const auto& [index, length] : lengths)
        fmt::print("{} -> {}\n", index, length);
}
