// Tracing: lifecycle and strategy decisions reach a pluggable sink, and only when on.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include <sweet_async/sweet_async.hpp>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::twice;

namespace {

/// A record kept beyond the sink call (the record's views are not).
struct kept {
    std::string task_name;
    std::string task_id;
    sa::trace_kind kind;
    std::string message;
    std::string line;  // as the default sink writes it, without the newline
};

/// A capturing sink; thread-safe, as the trace_sink contract asks.
class recorder {
public:
    sa::trace_sink sink() {
        return [this](const sa::trace_record& r) {
            std::lock_guard lock(mutex_);
            records_.push_back({std::string(r.task_name), std::string(r.task_id), r.kind,
                                std::string(r.message), fmt::format("{}", r)});
        };
    }
    std::vector<kept> records() const {
        std::lock_guard lock(mutex_);
        return records_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<kept> records_;
};

/// Serial processing that first reports a decision, as a custom strategy may.
struct deciding_strategy {
    std::string_view name() const noexcept { return "deciding"; }
    void validate(const sa::task_options&) const {}
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        receiver.report("deciding: serial", "serial: one event at a time will do");
        receiver.report("deciding: serial");  // no decision: not traced
        for (;;) {
            while (auto e = receiver.try_receive())
                receiver.process(std::move(*e));
            if (!co_await receiver.wait_for_events()) co_return;
        }
    }
};

/// The statistics as formatted, with the elapsed time (which varies) matched loosely.
bool stats_line(const std::string& text, const std::string& prefix) {
    return std::regex_match(text, std::regex(prefix + R"( elapsed=\d+\.\d{3}ms)"));
}

}  // namespace

TEST_CASE("tracing: lifecycle, a strategy decision and cancellation reach the sink", "[tracing]") {
    asio::io_context io;
    recorder rec;
    auto task = sa::emitting_builder<int>(io)
                    .name("traced")
                    .tracing(rec.sink())
                    .receiver(deciding_strategy{}, twice)
                    .start_queue();
    const std::string id = task.id().to_string();
    REQUIRE_FALSE(task.try_send(1));
    REQUIRE_FALSE(task.try_send(2));
    io.poll();  // the consumer reports its decision and processes both events
    task.cancel(sa::cancellation_level::graceful);
    task.cancel(sa::cancellation_level::immediate);  // escalates the graceful request
    task.cancel(sa::cancellation_level::graceful);   // no effect, not traced
    io.run();
    REQUIRE(task.status() == sa::task_status::cancelled);
    task.cancel();  // after the end: not traced

    const auto records = rec.records();
    REQUIRE(records.size() == 5);
    for (const auto& r : records) {
        CHECK(r.task_name == "traced");
        CHECK(r.task_id == id);
        CHECK(r.line == "[sweet_async] task 'traced' " + r.message);
    }
    CHECK(records[0].kind == sa::trace_kind::started);
    CHECK(records[0].message ==
          "started: id=" + id + " strategy=deciding capacity=100 priority=normal");
    CHECK(records[1].kind == sa::trace_kind::strategy_decision);
    CHECK(records[1].message == "strategy: serial: one event at a time will do");
    CHECK(records[2].kind == sa::trace_kind::cancel_requested);
    CHECK(records[2].message == "cancel requested: graceful");
    CHECK(records[3].kind == sa::trace_kind::cancel_requested);
    CHECK(records[3].message == "cancel requested: immediate (escalates graceful)");
    CHECK(records[4].kind == sa::trace_kind::ended);
    CHECK(stats_line(records[4].message, "cancelled: sent=2 processed=2 failed=0 timed_out=0 "
                                         "cancelled=0 retries=0"));
}

TEST_CASE("tracing: the whole-task deadline is traced before the end", "[tracing]") {
    asio::io_context io;
    recorder rec;
    auto task = sa::emitting_builder<int>(io)
                    .name("slow")
                    .timeout(20ms)
                    .tracing(rec.sink())
                    .receiver(sa::serial{}, twice)
                    .start_queue();
    io.run();  // nobody sends nor closes: the deadline ends the task
    REQUIRE(task.status() == sa::task_status::timed_out);

    const auto records = rec.records();
    REQUIRE(records.size() == 3);
    CHECK(records[0].kind == sa::trace_kind::started);
    // A formattable strategy is shown with its settings.
    CHECK(records[0].message ==
          "started: id=" + task.id().to_string() + " strategy=serial capacity=100 priority=normal");
    CHECK(records[1].kind == sa::trace_kind::deadline_reached);
    CHECK(records[1].message == "deadline reached: timeout 20ms");
    CHECK(records[2].kind == sa::trace_kind::ended);
    CHECK(stats_line(records[2].message, "timed_out: sent=0 processed=0 failed=0 timed_out=0 "
                                         "cancelled=0 retries=0"));
}

TEST_CASE("tracing: the adaptive strategy's decisions are traced as reported", "[tracing]") {
    asio::io_context io;
    recorder rec;
    // 1 ms windows over events of 100 us: the exploration decides within a few windows.
    auto task = sa::emitting_builder<int>(io)
                    .name("adapting")
                    .capacity(400)
                    .tracing(rec.sink())
                    .receiver(sa::adaptive{.window_time = 1ms},
                              [](const int& x) {
                                  std::this_thread::sleep_for(100us);
                                  return x;
                              })
                    .start_queue();
    for (int i = 0; i < 300; ++i)
        REQUIRE_FALSE(task.try_send(i));
    task.close();
    io.run();
    REQUIRE(task.status() == sa::task_status::completed);

    std::vector<std::string> traced;
    for (const auto& r : rec.records()) {
        if (r.kind == sa::trace_kind::strategy_decision) traced.push_back(r.message);
    }
    REQUIRE_FALSE(traced.empty());
    CHECK(traced.front().starts_with("strategy: serial -> "));
    // Every decision in the report was traced, in order, and nothing else.
    std::vector<std::string> reported;
    for (const auto& d : task.strategy_report().decisions)
        reported.push_back("strategy: " + d);
    CHECK(traced == reported);
}

TEST_CASE("tracing: off means no sink call at all", "[tracing]") {
    asio::io_context io;
    recorder rec;
    auto task = sa::emitting_builder<int>(io)
                    .tracing(rec.sink())
                    .tracing(false)  // the sink stays installed, tracing is off
                    .timeout(1s)
                    .receiver(deciding_strategy{}, twice)
                    .start_queue();
    REQUIRE_FALSE(task.try_send(1));
    io.poll();
    task.cancel(sa::cancellation_level::immediate);
    io.run();
    CHECK(task.status() == sa::task_status::cancelled);

    sa::task_options options;
    options.trace_to = rec.sink();
    auto single = sa::async_task<int>::run(io.get_executor(), options,
                                           []() -> asio::awaitable<int> { co_return 1; });
    io.restart();
    io.run();
    CHECK(single.status() == sa::task_status::completed);
    CHECK(rec.records().empty());
}

TEST_CASE("tracing: a throwing sink does not disturb the task", "[tracing]") {
    asio::io_context io;
    std::size_t calls = 0;
    auto task = sa::emitting_builder<int>(io)
                    .tracing([&calls](const sa::trace_record&) {
                        ++calls;
                        throw std::runtime_error("sink is broken");
                    })
                    .receiver(deciding_strategy{}, twice)
                    .start_queue();
    REQUIRE_FALSE(task.try_send(1));
    io.poll();
    REQUIRE_NOTHROW(task.cancel());
    io.run();
    CHECK(task.status() == sa::task_status::cancelled);
    CHECK(task.stats().processed == 1);
    CHECK(calls == 4);  // started, decision, cancel requested, ended
}

TEST_CASE("tracing: async_task traces start, cancellation, deadline and end", "[tracing]") {
    asio::io_context io;
    recorder rec;
    sa::task_options options;
    options.name = "single";
    options.tracing = true;
    options.trace_to = rec.sink();
    const auto forever = []() -> asio::awaitable<int> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
        co_await timer.async_wait(asio::use_awaitable);
        co_return 1;
    };

    auto cancelled = sa::async_task<int>::run(io.get_executor(), options, forever);
    io.poll();
    cancelled.cancel();
    cancelled.cancel();  // already requested: not traced again
    io.run();
    REQUIRE(cancelled.status() == sa::task_status::cancelled);

    options.name = "bounded";
    options.timeout = 10ms;
    auto bounded = sa::async_task<int>::run(io.get_executor(), options, forever);
    io.restart();
    io.run();
    REQUIRE(bounded.status() == sa::task_status::timed_out);

    const auto records = rec.records();
    REQUIRE(records.size() == 6);
    const std::string first = cancelled.id().to_string();
    const std::string second = bounded.id().to_string();
    CHECK(records[0].line == "[sweet_async] task 'single' started: id=" + first);
    CHECK(records[1].line == "[sweet_async] task 'single' cancel requested");
    CHECK(records[1].kind == sa::trace_kind::cancel_requested);
    CHECK(records[2].line == "[sweet_async] task 'single' cancelled");
    CHECK(records[2].kind == sa::trace_kind::ended);
    CHECK(records[3].line == "[sweet_async] task 'bounded' started: id=" + second);
    CHECK(records[4].line == "[sweet_async] task 'bounded' deadline reached: timeout 10ms");
    CHECK(records[4].kind == sa::trace_kind::deadline_reached);
    CHECK(records[5].line == "[sweet_async] task 'bounded' timed_out");
    CHECK(records[5].task_id == second);
}

#if __has_include(<unistd.h>)
TEST_CASE("tracing: the default sink writes one line per record to stderr", "[tracing]") {
    // stderr (file descriptor 2) is pointed at a file for the duration of the task.
    char path[] = "/tmp/sweet_async_trace_XXXXXX";
    const int file = ::mkstemp(path);
    REQUIRE(file >= 0);
    std::fflush(stderr);
    const int saved = ::dup(2);
    ::dup2(file, 2);
    std::string id;
    {
        asio::io_context io;
        auto task = sa::async_task<int>::run(io.get_executor(), {.name = "plain", .tracing = true},
                                             []() -> asio::awaitable<int> { co_return 1; });
        id = task.id().to_string();
        io.run();
    }
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(file);
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    std::remove(path);
    CHECK(text.str() == "[sweet_async] task 'plain' started: id=" + id +
                            "\n[sweet_async] task 'plain' completed\n");
}
#endif
