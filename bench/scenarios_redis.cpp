// bench/scenarios_redis.cpp: a Redis Streams consumer group drained by sweet_async workers
// (redis::stream_source -> decoding + trivial processor -> acknowledging collector) against a
// hand-written hiredis loop (XREADGROUP COUNT 100, then one XACK for those 100) on the same
// server, which the benchmark starts on a free loopback port (integrations/redis/tests'
// fixture). Every run drains a stream filled beforehand (the filling is not timed), through a
// group created at its start. Built when sweet_async::redis is and redis-server is installed;
// with sweet_async::redis_tls, one worker over TLS is measured against the same one over TCP.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>
#ifdef SWEET_ASYNC_BENCH_REDIS_TLS
#include <sweet_async/redis/tls.hpp>
#endif

#include "measure.hpp"
#include "redis_server.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

#include <hiredis/hiredis.h>

namespace bench {

namespace {

namespace redis = sweet_async::redis;

const std::string stream = "bench";
const std::string group = "drain";

/// Fills the stream with `entries` entries {n: i} and creates the group at its start.
void prepare(redis_test::scene& redis_cli, std::size_t entries) {
    redis_cli({"DEL", stream});
    for (std::size_t first = 0; first < entries; first += 1000) {
        redis_cli.add(stream, static_cast<int>(first),
                      static_cast<int>(std::min<std::size_t>(1000, entries - first)));
    }
    redis_cli({"XGROUP", "CREATE", stream, group, "0"});
}

std::uint64_t decode_n(const redis::stream_entry& e) {
    const auto n = e.field("n");
    if (!n) throw std::invalid_argument(fmt::format("entry {} has no field 'n'", e.id));
    return std::strtoull(std::string(*n).c_str(), nullptr, 10);
}

using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

reply_ptr command(redisContext* c, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
        argv.push_back(a.c_str());
        lengths.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (r == nullptr) throw std::runtime_error(fmt::format("hiredis: {}", c->errstr));
    if (r->type == REDIS_REPLY_ERROR) {
        const std::string error(r->str, r->len);
        freeReplyObject(r);
        throw std::runtime_error(fmt::format("{}: {}", args[0], error));
    }
    return {r, freeReplyObject};
}

/// The loop a user writes with hiredis alone: read 100, process them, acknowledge them, one
/// round trip each, until a read finds nothing new.
run_result hand_loop(const asio::ip::tcp::endpoint& server, std::size_t entries) {
    const auto started = steady::now();
    std::unique_ptr<redisContext, decltype(&redisFree)> c(
        redisConnect(server.address().to_string().c_str(), server.port()), redisFree);
    if (!c || c->err) throw std::runtime_error("hiredis: cannot connect");
    const std::vector<std::string> read{"XREADGROUP", "GROUP",   group,  "hand", "COUNT",
                                        "100",        "STREAMS", stream, ">"};
    std::size_t done = 0;
    std::uint64_t sum = 0;
    for (;;) {
        const reply_ptr r = command(c.get(), read);
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) break;  // nil: nothing new
        const redisReply* items = r->element[0]->element[1];
        if (items->elements == 0) break;
        std::vector<std::string> ack{"XACK", stream, group};
        for (std::size_t i = 0; i < items->elements; ++i) {
            const redisReply* item = items->element[i];
            const redisReply* fields = item->element[1];
            for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
                if (std::string_view(fields->element[f]->str, fields->element[f]->len) == "n")
                    sum += trivial_work(std::strtoull(fields->element[f + 1]->str, nullptr, 10));
            }
            ack.emplace_back(item->element[0]->str, item->element[0]->len);
        }
        const reply_ptr acked = command(c.get(), ack);
        done += static_cast<std::size_t>(acked->integer);
    }
    run_result result{.events = done, .seconds = seconds_since(started)};
    if (done != entries) result.problem = fmt::format("acknowledged {} of {}", done, entries);
    result.note = fmt::format("checksum {}", sum % 1000);
    return result;
}

/// `workers` sweet_async workers, each an emitting task on an io_context thread of its own (as
/// worker processes would be), draining the group together.
run_result sweet_async_workers(const redis::server& server, std::size_t entries, unsigned workers) {
    const auto started = steady::now();
    std::vector<std::size_t> processed(workers);
    std::vector<std::string> problems(workers);
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            asio::io_context io;
            redis::stream_source source(io.get_executor(), server,
                                        {.stream = stream,
                                         .group = group,
                                         .consumer = fmt::format("worker-{}", w),
                                         .count = 100,
                                         .end_when_drained = true});
            auto task =
                sa::emitting_builder<redis::stream_entry>(io)
                    .capacity(256)
                    .emitter(source.reader())
                    .dead_letter(source.dead_letters())
                    .receiver(sa::serial{}, redis::decoding(decode_n, trivial_processor{}))
                    .collector(redis::acknowledging<std::uint64_t>(source, /*keep_results=*/false))
                    .start_queue();
            auto done = asio::co_spawn(
                io,
                [](auto task, redis::stream_source source)
                    -> asio::awaitable<typename decltype(task)::result_type> {
                    auto result = co_await task.wait();
                    co_await source.async_settle(asio::use_awaitable);  // every XACK confirmed
                    co_return result;
                }(task, source),
                asio::use_future);
            io.run();
            const auto r = done.get();
            processed[w] = r.stats().processed;
            if (r.status() != sa::task_status::completed || !r.stats().balanced() ||
                r.stats().processed != r.stats().sent ||
                source.stats().acknowledged != r.stats().sent) {
                problems[w] = fmt::format("worker {}: {}; {}", w, r.stats(), source.stats());
            }
        });
    }
    for (auto& t : threads)
        t.join();
    run_result result{.events = 0, .seconds = seconds_since(started)};
    for (unsigned w = 0; w < workers; ++w) {
        result.events += processed[w];
        if (result.problem.empty()) result.problem = problems[w];
    }
    if (result.problem.empty() && result.events != entries)
        result.problem = fmt::format("processed {} of {}", result.events, entries);
    return result;
}

}  // namespace

std::vector<row> run_redis_group(const settings& s) {
    const std::size_t entries = s.pick<std::size_t>(100'000, 20'000);
#ifdef SWEET_ASYNC_BENCH_REDIS_TLS
    redis_test::redis_server server(false, {}, {}, redis_test::tls_listener{});
#else
    redis_test::redis_server server;
#endif
    redis_test::scene redis_cli(server);
    const auto endpoint = server.endpoint();
    const auto tcp = redis::server::at(endpoint);
    auto prepared = [&](auto run) {
        return [&, run] {
            prepare(redis_cli, entries);
            return run();
        };
    };
    std::vector<contestant> contestants{
        {"sweet_async: 1 worker (source, serial trivial processor, acknowledging)",
         prepared([&] { return sweet_async_workers(tcp, entries, 1); })},
        {"sweet_async: 2 workers", prepared([&] { return sweet_async_workers(tcp, entries, 2); })},
        {"hiredis loop: XREADGROUP COUNT 100 + XACK",
         prepared([&] { return hand_loop(endpoint, entries); })},
    };
#ifdef SWEET_ASYNC_BENCH_REDIS_TLS
    const auto tls = server.tls_address();
    contestants.push_back({"sweet_async: 1 worker over TLS (same server, its TLS port)",
                           prepared([&] { return sweet_async_workers(tls, entries, 1); })});
#endif
    const auto m = round_robin(contestants, s.repetitions);
    std::vector<row> rows{compare("redis.one_worker.trivial", m[0], m[2], 0.8),
                          compare("redis.two_workers.trivial", m[1], m[2], std::nullopt)};
#ifdef SWEET_ASYNC_BENCH_REDIS_TLS
    // TLS's cost: the same worker, the same server, against its own TCP run (reported).
    rows.push_back(compare("redis.one_worker.tls", m[3], m[0], std::nullopt));
#endif
    return rows;
}

}  // namespace bench
