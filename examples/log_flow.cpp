// log_flow: the access log digested by a flow of three linked stages.
//
//     log_flow [path]      (default: examples/data/access.log)
//
//   lines --> parse --------> enrich ------------------> store
//             serial          parallel coroutines,       batched: one simulated database
//               |             a ~1 ms lookup each         call per batch (2 ms + 5 us a row)
//               +--> quarantine: the malformed lines (dead letters), with their errors
//
// What it demonstrates:
//   * `forward_to`: each stage's results are the next stage's events, each with its own
//     strategy; backpressure runs end to end (the file is read no faster than the slowest stage
//     drains, and memory is bounded by the channels' capacities);
//   * completion propagation: closing the first stage ends the others after what it forwarded;
//   * a dead-letter stage: parse hands every malformed line, with the error that says what is
//     wrong with it, to a task of its own instead of losing it;
//   * `sa::flow`: the stages as one handle, for live progress per stage from any thread (and to
//     cancel them together);
//   * `sa::flow_report`: where every line that entered the flow ended, stage by stage.
//
// It prints the same traffic report as log_digest, from the store's aggregate, plus the
// regions the lookup found. The parsing, the digest and the report are in access_log.hpp.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include "access_log.hpp"

namespace sa = sweet_async;
using namespace access_log;
using namespace std::chrono_literals;

namespace {

// ----- enrich: a lookup in a slow service ----------------------------------------------------

/// A request with what the lookup found out about its client.
struct located_request {
    request r;
    std::string region;
};

/// The region a (simulated) geo-IP service gives for `ip`.
std::string_view region_of(std::string_view ip) {
    if (ip.find(':') != std::string_view::npos) return "ipv6";
    if (ip.starts_with("10.")) return "internal";
    if (ip.starts_with("192.0.2.")) return "eu-west";
    if (ip.starts_with("198.51.100.")) return "us-east";
    if (ip.starts_with("203.0.113.")) return "ap-south";
    return "elsewhere";
}

/// The enrich stage's processor: asks the service, which answers after about a millisecond
/// (a timer here; a network round trip in life). Many run at once on the parallel strategy,
/// so the stage keeps up with parse although each lookup takes a thousand times longer.
asio::awaitable<located_request> look_up(request r) {
    asio::steady_timer service(co_await asio::this_coro::executor, 1ms);
    co_await service.async_wait(asio::use_awaitable);
    std::string region(region_of(r.ip));
    co_return located_request{std::move(r), std::move(region)};
}

// ----- store: a database that wants batches --------------------------------------------------

/// Database calls made, for the report (the processor runs on the pool's threads).
std::atomic<std::size_t> inserts{0};

/// The store stage's per-batch processor: one simulated insert of the whole batch, costing
/// 2 ms per call plus 5 us per row, so batches of 200 pay the call's cost once per 200 rows.
/// It hands back the rows it stored, which the stage folds into the report.
asio::awaitable<std::vector<located_request>> insert_rows(std::span<const located_request> rows) {
    std::vector<located_request> stored(rows.begin(), rows.end());  // before suspending
    asio::steady_timer database(co_await asio::this_coro::executor,
                                2ms + 5us * static_cast<long>(rows.size()));
    co_await database.async_wait(asio::use_awaitable);
    inserts.fetch_add(1, std::memory_order_relaxed);
    co_return stored;
}

/// What the store's fold collector keeps: the traffic digest, and requests per region.
struct stored_digest {
    digest traffic;
    std::map<std::string, std::size_t> regions;

    void add(const located_request& row) {
        traffic.add(row.r);
        ++regions[row.region];
    }
};

// ----- quarantine: the malformed lines -------------------------------------------------------

/// A line parse could not read, as the quarantine stage keeps it.
struct quarantined_line {
    std::uint64_t line_number = 0;
    std::string reason;
};

// ----- reporting -----------------------------------------------------------------------------

void print_regions(const stored_digest& d) {
    fmt::print("\nregions (from the lookup stage)\n");
    for (const auto& [region, count] : d.regions)
        fmt::print("  {:<10} {:>7} {:5.1f}%\n", region, count, percent(count, d.traffic.requests));
}

template <class Result>
void print_quarantine(const Result& quarantine) {
    std::vector<quarantined_line> lines;
    for (const auto& entry : quarantine.collection())
        lines.push_back(entry.value);
    std::sort(lines.begin(), lines.end(),
              [](const auto& a, const auto& b) { return a.line_number < b.line_number; });
    constexpr std::size_t shown = 5;
    fmt::print("\nquarantined lines: {}\n", lines.size());
    for (std::size_t i = 0; i < std::min(shown, lines.size()); ++i)
        fmt::print("  line {:>5}: {}\n", lines[i].line_number, lines[i].reason);
    if (lines.size() > shown) fmt::print("  ... and {} more\n", lines.size() - shown);
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 2) {
        fmt::print(stderr, "usage: {} [access.log]\n", argv[0]);
        return 2;
    }
    const std::string path = argc == 2 ? argv[1] : SWEET_ASYNC_EXAMPLES_DATA_DIR "/access.log";
    std::ifstream file(path);
    if (!file) {
        fmt::print(stderr, "log_flow: cannot open '{}': {}\n", path, std::strerror(errno));
        return 1;
    }

    // The stages, built from the last: each is given the next one to forward to.
    asio::thread_pool pool(2);
    auto quarantine =
        sa::emitting_builder<sa::dead_letter<std::string>>(pool)
            .name("quarantine")
            .receiver(sa::serial{},
                      [](const sa::dead_letter<std::string>& bad) {
                          // Lines are sent in order: arrival index = line - 1.
                          return quarantined_line{bad.error.sequence + 1, bad.error.message};
                      })
            .start_queue();
    auto store =
        sa::emitting_builder<located_request>(pool)
            .name("store")
            .capacity(512)
            .receiver(sa::batched{.batch_size = 200, .window = 20ms}, insert_rows)
            .collector(sa::fold_collector{
                stored_digest{}, [](stored_digest& d, const located_request& row) { d.add(row); }})
            .start_queue();
    auto enrich = sa::emitting_builder<request>(pool)
                      .name("enrich")
                      .capacity(256)
                      .receiver(sa::parallel{.workers = {8, 128}}, look_up)
                      .collector(sa::forward_to(store))
                      .start_queue();
    auto parse = sa::emitting_builder<std::string>(pool)
                     .name("parse")
                     .capacity(256)
                     .dead_letter(quarantine)
                     .receiver(sa::serial{}, parse_line)
                     .collector(sa::forward_to(enrich))
                     .start_queue();

    // The file is read on a thread of its own, into the first stage only; closing it ends the
    // flow stage after stage, once each has handed on what it had.
    std::size_t lines_read = 0;
    std::thread producer([parse, &file, &path, &lines_read]() mutable {
        try {
            send_lines(file, parse, lines_read);
        } catch (const std::exception& e) {
            fmt::print(stderr, "log_flow: stopped reading '{}': {}\n", path, e.what());
        }
        parse.close();
    });

    // Live progress of every stage ("'parse' running 11479/11735 | ..."), read from this thread
    // while the pool runs the stages; `stages.cancel(...)` would stop them together.
    const sa::flow stages(parse, enrich, store);
    const auto started = std::chrono::steady_clock::now();
    while (!stages.ended()) {
        const std::chrono::duration<double, std::milli> elapsed =
            std::chrono::steady_clock::now() - started;
        fmt::print("  {:>6.0f} ms  {}\n", elapsed.count(), stages);
        std::this_thread::sleep_for(100ms);  // this is main's thread, not an executor's
    }
    producer.join();

    auto wait = [&pool](auto& task) { return asio::co_spawn(pool, task.wait(), asio::use_future); };
    const auto parsed = wait(parse).get();
    const auto enriched = wait(enrich).get();
    const auto stored = wait(store).get();
    quarantine.close();  // a dead-letter task is not closed by the stages that feed it
    const auto quarantined = wait(quarantine).get();

    fmt::print("\naccess log {}: {} lines read, through parse -> enrich -> store\n", path,
               lines_read);
    print_traffic(stored.result().traffic);
    print_regions(stored.result());
    print_quarantine(quarantined);

    const auto flow = sa::flow_report::of(parsed, enriched, stored);
    fmt::print("\nstages\n");
    for (const auto& stage : flow.stages())
        fmt::print("  {}\n", stage);
    fmt::print("  {}\n", quarantined);
    fmt::print("\n{}\n", flow);
    fmt::print("store: {} inserts for {} rows\n", inserts.load(std::memory_order_relaxed),
               stored.stats().processed);

    // Every line read entered the flow and ended as a stored row or a quarantined line.
    const bool accounted = flow.balanced() && flow.completed() && flow.entered() == lines_read &&
                           flow.results() + flow.failed() == lines_read &&
                           stored.result().traffic.requests == flow.results() &&
                           quarantined.stats().processed == flow.failed() &&
                           flow.dead_lettered() == flow.failed();
    fmt::print("accounting: {}\n",
               accounted ? "every line is a stored row or quarantined" : "LINES UNACCOUNTED FOR");
    return accounted ? 0 : 1;
}
