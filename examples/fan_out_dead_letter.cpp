// fan_out_dead_letter: one stage's results copied to two sinks, its bad input to a dead-letter
// queue.
//
//   lines --> validate --+--> warehouse   serial: picks each order
//             serial     +--> billing     batched: one call per batch of orders
//               |
//               +--> dead-letters: the lines validate could not read, with their errors
//
// What it demonstrates:
//   * `broadcast_to(warehouse, billing)`: every valid order reaches both sinks, each with its own
//     strategy; backpressure from either holds validate;
//   * `.dead_letter(task)`: a line that fails to parse is not lost: the dead-letter task receives
//     it with its payload and its error (what was wrong, which line), to inspect or replay;
//   * `sa::flow_report`: every line that entered ended in exactly one place (a broadcast result
//     counts once more as a copy), and the dead letters are counted where they failed.
//
// It prints the dead letters, what each sink did, and the flow's accounting, then checks them.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

/// A valid order line, "id,cents".
struct order {
    int id = 0;
    long cents = 0;
};

/// Reads "id,cents"; throws std::invalid_argument saying what is wrong.
order parse_order(const std::string& line) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) throw std::invalid_argument("no comma: expected id,cents");
    const char* const end = line.data() + line.size();
    order o;
    const auto id = std::from_chars(line.data(), line.data() + comma, o.id);
    if (id.ec != std::errc{} || id.ptr != line.data() + comma)
        throw std::invalid_argument("the order id is not a number");
    const auto cents = std::from_chars(line.data() + comma + 1, end, o.cents);
    if (cents.ec != std::errc{} || cents.ptr != end)
        throw std::invalid_argument("the amount is not a number");
    if (o.cents <= 0) throw std::invalid_argument("the amount must be positive");
    return o;
}

/// 60 lines, three of them malformed.
std::vector<std::string> input() {
    std::vector<std::string> lines;
    for (int i = 1; i <= 60; ++i)
        lines.push_back(fmt::format("{},{}", i, i * 100));
    lines[9] = "10;1000";
    lines[24] = "25,twenty";
    lines[41] = "42,-5";
    return lines;
}

}  // namespace

int main() {
    asio::thread_pool pool(2);

    // Built from the last: a stage is given the tasks it forwards to.
    auto dead_letters =
        sa::emitting_builder<sa::dead_letter<std::string>>(pool)
            .name("dead-letters")
            .receiver(sa::serial{},
                      [](const sa::dead_letter<std::string>& bad) {
                          // Lines are sent in order: arrival index = line - 1.
                          return fmt::format("line {} '{}': {}", bad.error.sequence + 1,
                                             bad.payload.value_or(""), bad.error.message);
                      })
            .start_queue();
    auto warehouse = sa::emitting_builder<order>(pool)
                         .name("warehouse")
                         .receiver(sa::serial{}, [](const order& o) { return o.id; })  // picked
                         .start_queue();
    auto billing = sa::emitting_builder<order>(pool)
                       .name("billing")
                       .receiver(sa::batched{.batch_size = 16, .window = 5ms},
                                 [](std::span<const order> batch) {  // one call per batch
                                     std::vector<long> billed;
                                     for (const order& o : batch)
                                         billed.push_back(o.cents);
                                     return billed;
                                 })
                       .collector(sa::fold_collector{0L, [](long& total, long c) { total += c; }})
                       .start_queue();
    auto validate = sa::emitting_builder<std::string>(pool)
                        .name("validate")
                        .dead_letter(dead_letters)
                        .receiver(sa::serial{}, parse_order)
                        .collector(sa::broadcast_to(warehouse, billing))
                        .start_queue();

    auto wait = [&pool](auto& task) { return asio::co_spawn(pool, task.wait(), asio::use_future); };
    for (const std::string& line : input())
        asio::co_spawn(pool, validate.send(line), asio::use_future).get();
    validate.close();  // ends warehouse and billing too, once validate has forwarded everything
    const auto validated = wait(validate).get();
    const auto picked = wait(warehouse).get();
    const auto billed = wait(billing).get();
    dead_letters.close();  // a dead-letter task is not closed by the stages that feed it
    const auto letters = wait(dead_letters).get();

    std::vector<std::string> lines;
    for (const auto& [event_id, text] : letters.collection())
        lines.push_back(text);
    std::sort(lines.begin(), lines.end());
    fmt::print("dead letters: {}\n", lines.size());
    for (const auto& text : lines)
        fmt::print("  {}\n", text);
    fmt::print("warehouse: picked {} orders\n", picked.collection().size());
    fmt::print("billing: billed {} orders, {} cents\n", billed.stats().processed, billed.result());

    const auto flow = sa::flow_report::of(validated, picked, billed);
    fmt::print("{}\n", flow);
    const bool ok = flow.balanced() && flow.completed() && flow.entered() == 60 &&
                    flow.failed() == 3 && flow.dead_lettered() == 3 && lines.size() == 3 &&
                    picked.collection().size() == 57 && billed.stats().processed == 57;
    fmt::print("accounting: {}\n", ok ? "every line was delivered to both sinks or dead-lettered"
                                      : "LINES UNACCOUNTED FOR");
    return ok ? 0 : 1;
}
