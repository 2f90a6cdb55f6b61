// One worker process of the kill-a-worker test (test_worker_processes.cpp): reads a stream as one
// consumer of a group and writes, for every entry, an entry {entry: <id>, n: <n>, worker: <name>}
// to an output stream, acknowledging each input entry only after its output entry is written.
// It ends once the group has nothing left (end_when_drained) and prints what it did.
//
//   sweet_async_redis_stream_worker URL STREAM GROUP CONSUMER OUTPUT CLAIM_IDLE_MS [CA_FILE]
//
// URL: redis://[user:password@]host:port, or rediss://... with CA_FILE the authority to trust.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>
#ifdef SWEET_ASYNC_REDIS_TESTS_TLS
#include <sweet_async/redis/tls.hpp>
#endif

namespace sa = sweet_async;
namespace redis = sweet_async::redis;

int main(int argc, char** argv) try {
    if (argc != 7 && argc != 8) {
        fmt::print(stderr, "usage: {} URL STREAM GROUP CONSUMER OUTPUT CLAIM_IDLE_MS [CA_FILE]\n",
                   argv[0]);
        return 2;
    }
    const std::string consumer = argv[4];
    auto server = redis::server::from_url(argv[1]);
    if (argc == 8 && server.tls) server.tls->ca_file = argv[7];
    asio::io_context io;
    redis::stream_source source(io.get_executor(), server,
                                {.stream = argv[2],
                                 .group = argv[3],
                                 .consumer = consumer,
                                 .count = 100,
                                 .claim_idle = std::chrono::milliseconds(std::stoi(argv[6])),
                                 .end_when_drained = true});
    redis::stream_sink sink(io.get_executor(), server, {.stream = argv[5]});
    auto write = sink.writer([&consumer](const redis::stream_entry& e) {
        return std::vector<std::pair<std::string, std::string>>{
            {"entry", e.id}, {"n", std::string(e.field("n").value_or(""))}, {"worker", consumer}};
    });
    // Each batch's outputs are written before its entries count as processed, so that an entry
    // is acknowledged only once its output is on the server: a worker killed in between leaves
    // it pending, for a survivor to claim.
    auto forward = [&write](std::span<const redis::stream_entry> batch)
        -> asio::awaitable<std::vector<redis::processed<std::string>>> {
        std::vector<std::string> written = co_await write(batch);
        std::vector<redis::processed<std::string>> out;
        out.reserve(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i)
            out.push_back({batch[i].id, std::move(written[i])});
        co_return out;
    };
    auto task =
        sa::emitting_builder<redis::stream_entry>(io)
            .name(consumer)
            .capacity(400)
            .retry(3, sa::backoff{.initial = std::chrono::milliseconds(20)})
            .emitter(source.reader())
            .dead_letter(source.dead_letters())
            .receiver(sa::batched{.batch_size = 100, .window = std::chrono::milliseconds(2)},
                      forward)
            .collector(redis::acknowledging<std::string>(source, /*keep_results=*/false))
            .start_queue();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    const auto r = result.get();
    io.restart();
    auto settled = source.async_settle(asio::use_future);
    io.run();
    settled.get();
    fmt::print("{}: {}; {}\n", consumer, r.stats(), source.stats());
    return r.status() == sa::task_status::completed && r.stats().processed == r.stats().sent ? 0
                                                                                             : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", argc > 4 ? argv[4] : "worker", e.what());
    return 1;
}
