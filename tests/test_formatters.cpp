// Every public type that a user prints has an fmt::formatter with a fixed text.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sweet_async_catch.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;

// A named namespace: in an unnamed one, clang warns that the unused
// operator== of the id is never emitted.
namespace formatters_test {

/// A user's id type; formattable through the library's opt-in base.
struct ticket_id {
    std::uint64_t value = 0;
    static ticket_id generate() { return {7}; }
    std::string to_string() const { return fmt::format("ticket-{}", value); }
    friend bool operator==(const ticket_id&, const ticket_id&) = default;
};

}  // namespace formatters_test

using formatters_test::ticket_id;

template <>
struct fmt::formatter<ticket_id> : sweet_async::task_id_formatter<ticket_id> {};

TEST_CASE("formatters: enumerations print their names and take string specs", "[formatters]") {
    CHECK(fmt::format("{}", sa::task_status::pending) == "pending");
    CHECK(fmt::format("{}", sa::task_status::timed_out) == "timed_out");
    CHECK(fmt::format("{}", sa::task_priority::high) == "high");
    CHECK(fmt::format("{}", sa::cancellation_level::graceful) == "graceful");
    CHECK(fmt::format("{}", sa::streaming_event_type::error) == "error");
    CHECK(fmt::format("{}", sa::outcome::timed_out) == "timed_out");
    CHECK(fmt::format("{}", sa::async_task_error::result_taken) == "result_taken");
    CHECK(fmt::format("{}", sa::processing_mode::parallel) == "parallel");
    CHECK(fmt::format("{}", sa::completion_order::arrival) == "arrival");
    CHECK(fmt::format("{}", sa::trace_kind::strategy_decision) == "strategy_decision");
    // Width and alignment, as for any string.
    CHECK(fmt::format("[{:>9}]", sa::task_status::running) == "[  running]");
    CHECK(fmt::format("[{:<8}]", sa::trace_kind::ended) == "[ended   ]");
    // to_string agrees with the formatter.
    CHECK(sa::to_string(sa::completion_order::completion) == "completion");
    CHECK(sa::to_string(sa::trace_kind::cancel_requested) == "cancel_requested");
}

TEST_CASE("formatters: ids", "[formatters]") {
    const sa::uuid id(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    CHECK(fmt::format("{}", id) == "01234567-89ab-cdef-fedc-ba9876543210");
    CHECK(fmt::format("{:>40}", id) == "    01234567-89ab-cdef-fedc-ba9876543210");
    CHECK(fmt::format("{}", ticket_id{42}) == "ticket-42");
    CHECK(fmt::format("[{:^11}]", ticket_id{3}) == "[ ticket-3  ]");
}

TEST_CASE("formatters: events and what processors see of them", "[formatters]") {
    const sa::uuid task(0, 1);
    const auto e = sa::event<int>::builder(task, 5).id(sa::uuid(0, 2)).build();
    const std::string text = "event{id=00000000-0000-0000-0000-000000000002, "
                             "task=00000000-0000-0000-0000-000000000001, type=continuing, "
                             "payload=5}";
    CHECK(fmt::format("{}", e) == text);
    CHECK(fmt::format("{}", sa::event_view<int>(e)) == text);

    // A user id shows its to_string(); a payload without a formatter is left out.
    struct opaque {};
    const auto custom = sa::event<opaque, ticket_id>::builder(ticket_id{9}, opaque{})
                            .id(sa::uuid(0, 3))
                            .type(sa::streaming_event_type::final)
                            .build();
    CHECK(fmt::format("{}", custom) ==
          "event{id=00000000-0000-0000-0000-000000000003, task=ticket-9, type=final}");
}

TEST_CASE("formatters: statistics, errors and results", "[formatters]") {
    sa::task_stats stats;
    stats.sent = 5;
    stats.processed = 3;
    stats.failed = 1;
    stats.cancelled = 1;
    stats.retries = 2;
    stats.elapsed = 1250us;
    CHECK(fmt::format("{}", stats) == "sent=5 processed=3 failed=1 timed_out=0 cancelled=1 "
                                      "retries=2 elapsed=1.250ms");

    const sa::event_error error{sa::uuid(0, 4), 12, sa::outcome::failed, "boom", 3};
    CHECK(fmt::format("{}", error) ==
          "event #12 (00000000-0000-0000-0000-000000000004) failed: boom");

    const sa::strategy_report report{"adaptive: parallel(4)",
                                     {"serial -> parallel(2): exploring", "parallel(2) -> "
                                                                          "parallel(4): faster"}};
    CHECK(fmt::format("{}", report) == "adaptive: parallel(4)\n"
                                       "  serial -> parallel(2): exploring\n"
                                       "  parallel(2) -> parallel(4): faster");

    const sa::final_result<int, sa::keyed_collection<int>> result(
        sa::uuid(0, 5), "sum", sa::task_status::cancelled, std::nullopt, {}, {}, stats);
    CHECK(fmt::format("{}", result) == "task 'sum' cancelled: sent=5 processed=3 failed=1 "
                                       "timed_out=0 cancelled=1 retries=2 elapsed=1.250ms");

    CHECK(fmt::format("{}", sa::async_task_exception(sa::async_task_error::timeout,
                                                     "task 'fetch' did not finish within 50ms")) ==
          "timeout: task 'fetch' did not finish within 50ms");
    CHECK(fmt::format("{}",
                      sa::async_task_exception(std::make_error_code(std::errc::timed_out), "io")) ==
          fmt::format("{}: io", std::make_error_code(std::errc::timed_out).message()));
}

TEST_CASE("formatters: strategies and their settings", "[formatters]") {
    CHECK(fmt::format("{}", sa::serial{}) == "serial");
    CHECK(fmt::format("{}", sa::serial{.timeout = 5ms}) == "serial(timeout=5ms)");
    CHECK(fmt::format("{}", sa::parallel{.workers = {2, 8}, .ordered = true}) ==
          "parallel(workers=2..8, ordered)");
    CHECK(fmt::format("{}", sa::batched{.batch_size = 64, .window = 2ms}) ==
          "batched(size=64, window=2ms)");
    CHECK(fmt::format("{}", sa::adaptive{}) ==
          "adaptive(sample_size=100, workers=1..8, batch_sizes=8..512)");
    CHECK(fmt::format("{}", sa::any_strategy(sa::parallel{})) == "parallel(workers=1..4)");
    CHECK(fmt::format("{}", sa::min_max<int>{2, 8}) == "2..8");
    CHECK(fmt::format("{:02}", sa::min_max<int>{2, 8}) == "02..08");

    CHECK(fmt::format("{}", sa::backoff{}) == "backoff(none)");
    CHECK(fmt::format("{}", sa::backoff{10ms, 2.0, 30ms}) == "backoff(10ms x2 max 30ms)");

    sa::task_options options;
    CHECK(fmt::format("{}", options) ==
          "task_options(name='task', timeout=none, retry=0, retry_backoff=backoff(none), "
          "tracing=off, priority=normal, capacity=100, retained_errors=1000)");
    options.name = "fetch";
    options.timeout = 50ms;
    options.retry = 2;
    options.tracing = true;
    options.priority = sa::task_priority::critical;
    CHECK(fmt::format("{}", options) ==
          "task_options(name='fetch', timeout=50ms, retry=2, retry_backoff=backoff(none), "
          "tracing=stderr, priority=critical, capacity=100, retained_errors=1000)");
    options.trace_to = [](const sa::trace_record&) {};
    CHECK(fmt::format("{}", options).find("tracing=custom") != std::string::npos);
}

TEST_CASE("formatters: the adaptive strategy's figures", "[formatters]") {
    using choice = sa::adaptive_choice;
    CHECK(fmt::format("{}", choice::serial()) == "serial");
    CHECK(fmt::format("{}", choice::parallel(4)) == "parallel(4)");
    CHECK(fmt::format("{:>12}", choice::batched(64)) == " batched(64)");

    const sa::adaptive_decision decision{3, choice::parallel(2), choice::parallel(4), 1990.0,
                                         "exploring"};
    CHECK(fmt::format("{}", decision) ==
          "window 3: parallel(2) -> parallel(4) (1.99k events/s): exploring");

    sa::window_measurement window;
    window.events = 120;
    window.busy = 10ms;
    window.mean_latency = 850ns;
    CHECK(fmt::format("{}", window) ==
          "events=120 busy=10ms mean_latency=850ns throughput=12.00k events/s");
    CHECK(fmt::format("{}", sa::window_measurement{}) ==
          "events=0 busy=0ns mean_latency=0ns throughput=0.0 events/s");

    CHECK(fmt::format("{}", sa::adaptive_limits{}) ==
          "adaptive_limits(workers=1..8, batch_sizes=8..512, can_batch=false, "
          "recheck_every=20, tolerance=0.05)");

    sa::processing_measurement measured;
    measured.finished = 16;
    measured.latency_samples = 2;
    measured.total_latency = 3us;
    CHECK(fmt::format("{}", measured) == "finished=16 latency_samples=2 mean_latency=1500ns");
}

TEST_CASE("formatters: trace records and processor contexts", "[formatters]") {
    const sa::trace_record record{"ingest", "ticket-1", sa::trace_kind::cancel_requested,
                                  "cancel requested: graceful"};
    CHECK(fmt::format("{}", record) == "[sweet_async] task 'ingest' cancel requested: graceful");

    const ticket_id task{11};
    const sa::processor_context<ticket_id> context(task, "ingest", asio::any_io_executor());
    CHECK(fmt::format("{}", context) ==
          "processor_context(task='ingest', id=ticket-11, attempt=1)");
}
