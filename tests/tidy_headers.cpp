// tests/tidy_headers.cpp: instantiates every strategy, both kinds of processor, a per-batch
// processor, a fold collector, a linked stage, a flow and its report, the delivery policies
// (overflow, throttle, concurrency limits) and async_task, so that clang-tidy (see .clang-tidy)
// sees the bodies of the library's templates. Compiled with the tests; run by .ci/run's tidy
// stage.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;

void instantiate() {
    asio::io_context io;
    auto sync = [](const int& v) { return v * 2; };
    auto coro = [](int v) -> asio::awaitable<int> { co_return v; };
    auto batch = [](std::span<const int> b) { return std::vector<int>(b.begin(), b.end()); };
    auto builder = sa::emitting_builder<int>(io).name("tidy");
    auto a = builder.receiver(sa::serial{}, sync).start_queue();
    auto b = builder.receiver(sa::parallel{}, coro).start_queue();
    auto c = builder.receiver(sa::batched{}, batch).start_queue();
    auto d = builder.receiver(sa::adaptive{}, batch).start_queue();
    auto e = builder.receiver(sa::adaptive{}, coro).start_queue();
    auto f = builder.receiver(sa::any_strategy{sa::serial{}}, sync)
                 .collector(sa::fold_collector{0, [](int& sum, int v) { sum += v; }})
                 .start_queue();
    auto h = builder.receiver(sa::serial{}, sync)
                 .collector(sa::forward_to(a).failures_as(
                     [](sa::dead_letter<int>&& bad) { return -bad.payload.value_or(0); }))
                 .start_queue();
    const auto flow = sa::flow_report::of(sa::final_result<int, sa::link_report>{},
                                          sa::final_result<int, sa::keyed_collection<int>>{});
    (void)fmt::format("{} {}", flow, flow.stages().front());
    const sa::flow stages(a, h.get_sender());
    stages.cancel(sa::cancellation_level::immediate);
    (void)fmt::format("{}", stages);
    const sa::concurrency_limit limit(4);
    const auto vegas = sa::concurrency_limit::vegas({.initial = 2});
    auto k = sa::emitting_builder<int>(io)
                 .overflow(sa::overflow_policy::drop_oldest)
                 .throttle({.events = 100, .per = std::chrono::seconds(1), .burst = 10})
                 .receiver(sa::per_key([](int v) { return v % 3; }, {.limit = limit}), sync)
                 .start_queue();
    auto m = builder.receiver(sa::per_key([](int v) { return v % 3; }, {.limit = vegas}), coro)
                 .start_queue();
    auto n = builder.receiver(sa::parallel{.limit = vegas}, sync).start_queue();
    limit.set(2);
    (void)fmt::format("{} {}", limit, vegas);
    auto g = sa::async_task<int>::run(io.get_executor(), {.name = "answer", .retry = 2},
                                      []() -> asio::awaitable<int> { co_return 42; });
    (void)a.try_send(1);
    (void)b.try_send(1);
    (void)c.try_send(1);
    (void)d.try_send(1);
    (void)e.try_send(1);
    (void)f.try_send(1);
    (void)h.try_send(1);
    (void)k.try_send(1);
    (void)m.try_send(1);
    (void)n.try_send(1);
    g.cancel();
    io.run();
}
