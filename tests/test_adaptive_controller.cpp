// The adaptive strategy's policy, driven by a synthetic workload model: no clock, no executor.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/strategies/adaptive_controller.hpp>

#include "sweet_async_catch.hpp"

namespace sa = sweet_async;

namespace adaptive_test {

using choice = sa::adaptive_choice;

/// What a workload costs, in nanoseconds. A processor call pays `call_cpu`
/// and waits `call_wait` (an I/O round trip that uses no CPU) once, and
/// `item_cpu` per event it handles; the parallel path adds `dispatch` CPU per
/// event; `cores` CPUs run the work; at most `wait_cap` calls can wait at once
/// (a downstream limit, e.g. a connection pool).
struct workload {
    double call_cpu = 0;
    double item_cpu = 0;
    double call_wait = 0;
    double dispatch = 0;
    double cores = 4;
    double wait_cap = std::numeric_limits<double>::infinity();
};

/// Steady-state throughput (events per ns) and mean latency (ns) of `c` on `w`.
struct rates {
    double throughput = 0;
    double latency = 0;
};

rates evaluate(const workload& w, const choice& c) {
    switch (c.mode) {
    case sa::processing_mode::serial: {
        const double t = w.call_cpu + w.item_cpu + w.call_wait;
        return {1 / t, t};
    }
    case sa::processing_mode::parallel: {
        // n events in flight, each taking t when nothing else limits them;
        // the cores and the downstream cap limit the rate; latency follows
        // from Little's law (in flight = rate x latency), so queueing shows.
        const double n = static_cast<double>(c.concurrency);
        const double cpu = w.call_cpu + w.item_cpu + w.dispatch;
        const double t = cpu + w.call_wait;
        const double throughput = std::min({n / t, w.cores / cpu, w.wait_cap / t});
        return {throughput, n / throughput};
    }
    case sa::processing_mode::batched: {
        const double b = static_cast<double>(c.batch_size);
        const double t = w.call_cpu + b * w.item_cpu + w.call_wait;
        return {b / t, t};
    }
    }
    return {};
}

/// The window `c` would achieve on `w`: `events` events; `noise` scales the
/// busy time (and so the throughput) as a real measurement would wobble.
sa::window_measurement measure(const workload& w, const choice& c, double noise = 1.0,
                               std::size_t events = 1000) {
    const rates r = evaluate(w, c);
    const double busy = static_cast<double>(events) / r.throughput * noise;
    return {events, std::chrono::nanoseconds(static_cast<std::int64_t>(busy)),
            std::chrono::nanoseconds(static_cast<std::int64_t>(r.latency))};
}

// Workloads of the tests (see each test for the figures they imply).
constexpr double us = 1e3;
constexpr double ms = 1e6;

/// 200 ns of CPU per event: parallel dispatch (2 us) costs ten times the work.
const workload tiny_cpu{.item_cpu = 200, .dispatch = 2 * us};
/// 1 ms of CPU per event on 4 cores.
const workload heavy_cpu{.item_cpu = 1 * ms, .dispatch = 2 * us};
/// A 10 ms wait per event, little CPU: concurrency pays until the limit.
const workload waiting_io{.item_cpu = 20 * us, .call_wait = 10 * ms, .dispatch = 2 * us};
/// A 4 ms round trip per call and 1 us per event: batching pays.
const workload per_call{.item_cpu = 1 * us, .call_wait = 4 * ms, .dispatch = 2 * us};

/// One window of a run: what it ran with, and the controller after it.
struct step {
    std::size_t window = 0;
    choice ran;
    choice next;
    std::string phase;  // phase() after the window
};

/// Drives `controller` for `windows` windows on `workload_at(window)`, with
/// `noise_at(window)` scaling the busy time.
std::vector<step> drive(
    sa::adaptive_controller& controller, std::size_t windows,
    const std::function<workload(std::size_t)>& workload_at,
    const std::function<double(std::size_t)>& noise_at = [](std::size_t) { return 1.0; }) {
    std::vector<step> steps;
    for (std::size_t i = 0; i < windows; ++i) {
        const choice ran = controller.current();
        const std::size_t window = controller.windows();
        // one after the other: the callbacks may share a random generator
        const workload w = workload_at(window);
        const double noise = noise_at(window);
        const choice next = controller.observe(measure(w, ran, noise));
        CHECK(next == controller.current());
        steps.push_back({window, ran, next, std::string(controller.phase())});
    }
    return steps;
}

std::vector<step> drive(sa::adaptive_controller& controller, std::size_t windows,
                        const workload& w) {
    return drive(controller, windows, [&](std::size_t) { return w; });
}

/// The choices the windows of `steps` ran with, from `first` on, as text.
std::vector<std::string> ran(const std::vector<step>& steps, std::size_t first = 0,
                             std::size_t count = std::numeric_limits<std::size_t>::max()) {
    std::vector<std::string> out;
    for (std::size_t i = first; i < steps.size() && out.size() < count; ++i)
        out.push_back(fmt::format("{}", steps[i].ran));
    return out;
}

/// The choices the settled windows of `steps` (from `first` on) ran with.
std::vector<choice> settled_choices(const std::vector<step>& steps, std::size_t first = 0) {
    std::vector<choice> out;
    for (std::size_t i = first; i + 1 < steps.size(); ++i) {
        // the window after one that ended settled runs the settled choice
        if (steps[i].phase == "settled") out.push_back(steps[i + 1].ran);
    }
    return out;
}

/// Index of the first window of `steps` from `first` on after which the
/// controller is settled on `target`; `steps.size()` if there is none.
std::size_t first_settled_on(const std::vector<step>& steps, const choice& target,
                             std::size_t first) {
    for (std::size_t i = first; i < steps.size(); ++i) {
        if (steps[i].phase == "settled" && steps[i].next == target) return i;
    }
    return steps.size();
}

/// A small deterministic generator (no seeding from the environment).
struct lcg {
    std::uint64_t state = 0x2545f4914f6cdd1dULL;
    std::uint64_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return state >> 33;
    }
    /// Uniform in [-1, 1].
    double symmetric() { return static_cast<double>(next() % 2001) / 1000.0 - 1.0; }
};

}  // namespace adaptive_test

using namespace adaptive_test;

TEST_CASE("adaptive: modes and choices format as serial, parallel(n), batched(n)", "[adaptive]") {
    CHECK(fmt::format("{}", sa::processing_mode::batched) == "batched");
    CHECK(sa::to_string(sa::processing_mode::parallel) == "parallel");
    CHECK(fmt::format("{}", choice::serial()) == "serial");
    CHECK(fmt::format("{}", choice::parallel(4)) == "parallel(4)");
    CHECK(fmt::format("{}", choice::batched(64)) == "batched(64)");
    CHECK(fmt::format("{:>12}", choice::parallel(4)) == " parallel(4)");
    CHECK(choice{} == choice::serial());
    CHECK(choice::parallel(4) == choice{sa::processing_mode::parallel, 4, 1});
    CHECK(simpler(choice::serial(), choice::parallel(2)));
    CHECK(simpler(choice::parallel(8), choice::batched(8)));
    CHECK(simpler(choice::parallel(2), choice::parallel(3)));
    CHECK_FALSE(simpler(choice::batched(16), choice::batched(16)));

    const sa::window_measurement m{500, std::chrono::milliseconds(250), {}};
    CHECK(m.informative());
    CHECK(m.throughput() == Approx(2000.0));
    CHECK_FALSE(sa::window_measurement{0, std::chrono::seconds(1), {}}.informative());
    CHECK(sa::window_measurement{5, {}, {}}.throughput() == 0.0);
}

TEST_CASE("adaptive: invalid limits throw std::invalid_argument naming the field and the value",
          "[adaptive]") {
    const auto message = [](sa::adaptive_limits limits) -> std::string {
        try {
            sa::adaptive_controller controller(limits);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(no exception)";
    };
    CHECK(message({.workers = {0, 8}}) == "adaptive_limits.workers.min must be at least 1, got 0");
    CHECK(message({.workers = {5, 3}}) == "adaptive_limits.workers must have min <= max, got 5..3");
    CHECK(message({.batch_sizes = {0, 64}}) ==
          "adaptive_limits.batch_sizes.min must be at least 1, got 0");
    CHECK(message({.batch_sizes = {600, 512}}) ==
          "adaptive_limits.batch_sizes must have min <= max, got 600..512");
    CHECK(message({.recheck_every = 0}) ==
          "adaptive_limits.recheck_every must be at least 1, got 0");
    CHECK(message({.tolerance = -0.1}) == "adaptive_limits.tolerance must be in [0, 1), got -0.1");
    CHECK(message({.tolerance = 1.0}) == "adaptive_limits.tolerance must be in [0, 1), got 1");
    CHECK_THAT(message({.tolerance = std::numeric_limits<double>::quiet_NaN()}),
               Catch::Contains("adaptive_limits.tolerance") && Catch::Contains("nan"));
    // the edges that do work
    CHECK(
        message({.workers = {1, 1}, .batch_sizes = {1, 1}, .recheck_every = 1, .tolerance = 0.0}) ==
        "(no exception)");

    const sa::adaptive_controller controller({.workers = {2, 16}, .can_batch = true});
    CHECK(controller.limits().workers == sa::min_max<std::size_t>{2, 16});
    CHECK(controller.limits().can_batch);
    CHECK(controller.current() == choice::serial());
    CHECK(controller.phase() == "exploring");
    CHECK(controller.decisions().empty());
}

TEST_CASE("adaptive: tiny CPU work settles on serial", "[adaptive]") {
    // serial: 200 ns per event, 5M events/s. parallel(2): 2.2 us per event
    // split over 2 = 909k events/s, no gain, so the parallel ladder stops.
    // batched(8): 8 events per 1.6 us = 5M events/s, a tie with serial that
    // the lower latency (200 ns against 1.6 us) settles for serial.
    for (const bool can_batch : {false, true}) {
        CAPTURE(can_batch);
        sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = can_batch});
        const auto steps = drive(controller, 200, tiny_cpu);
        const std::vector<std::string> exploration =
            can_batch ? std::vector<std::string>{"serial", "parallel(2)", "batched(8)"}
                      : std::vector<std::string>{"serial", "parallel(2)"};
        CHECK(ran(steps, 0, exploration.size()) == exploration);
        const std::size_t explored = exploration.size() - 1;
        CHECK(steps[explored].phase == "settled");
        CHECK(steps[explored].next == choice::serial());
        const sa::adaptive_decision& settling = controller.decisions().at(explored);
        CHECK(settling.window == explored);
        CHECK(settling.to == choice::serial());
        CHECK_THAT(settling.reason, Catch::Contains("settled on serial"));
        // serial has nothing to tune: the only other choices run are the re-checks'
        const auto settled = settled_choices(steps, explored);
        CHECK(std::all_of(settled.begin(), settled.end(),
                          [](const choice& c) { return c == choice::serial(); }));
        const auto serial_windows = std::count_if(
            steps.begin(), steps.end(), [](const step& s) { return s.ran == choice::serial(); });
        CHECK(serial_windows >= 180);
    }
}

TEST_CASE("adaptive: heavy CPU work on 4 cores settles on parallel(4)", "[adaptive]") {
    // serial 1.00k/s; parallel(2) 2.00k/s and parallel(4) 3.99k/s gain;
    // parallel(8) is capped by the 4 cores at 3.99k/s: a tie, which the lower
    // latency of parallel(4) (1 ms against 2 ms: 8 in flight queue for 4 cores)
    // decides. The climb then probes parallel(5) (a tie at 25% more latency)
    // and parallel(3) (0.75x): neither wins, so parallel(4) stays.
    for (const bool can_batch : {false, true}) {
        CAPTURE(can_batch);
        sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = can_batch});
        const auto steps = drive(controller, 300, heavy_cpu);
        // batched(8) (if allowed) is 8 events per 8 ms: no gain over serial
        std::vector<std::string> exploration{"serial", "parallel(2)", "parallel(4)", "parallel(8)"};
        if (can_batch) exploration.push_back("batched(8)");
        CHECK(ran(steps, 0, exploration.size()) == exploration);
        const std::size_t explored = exploration.size() - 1;
        CHECK(steps[explored].next == choice::parallel(4));
        CHECK(steps[explored].phase == "settled");
        const auto settled = settled_choices(steps, explored);
        REQUIRE(settled.size() > 200);
        CHECK(std::all_of(settled.begin(), settled.end(),
                          [](const choice& c) { return c == choice::parallel(4); }));
        // the probes are parallel(4)'s neighbours
        for (const step& s : steps) {
            if (s.phase == "climbing") {
                CHECK((s.next == choice::parallel(3) || s.next == choice::parallel(5)));
            }
        }
        const auto on_four = std::count_if(
            steps.begin(), steps.end(), [](const step& s) { return s.ran == choice::parallel(4); });
        CHECK(on_four >= 200);  // probing and re-checking cost at most a third of the windows
    }
}

TEST_CASE("adaptive: waiting (I/O) work climbs to the concurrency limit", "[adaptive]") {
    // Every event waits 10 ms: n in flight give n x 99.8 events/s, far below
    // the cores' limit. Each doubling gains 2x, up to the limit of 64; the
    // climb's only probe, parallel(48), loses 25%.
    sa::adaptive_controller controller({.workers = {1, 64}});
    const auto steps = drive(controller, 200, waiting_io);
    CHECK(ran(steps, 0, 7) == std::vector<std::string>{"serial", "parallel(2)", "parallel(4)",
                                                       "parallel(8)", "parallel(16)",
                                                       "parallel(32)", "parallel(64)"});
    CHECK(steps[6].next == choice::parallel(64));
    const auto settled = settled_choices(steps, 6);
    CHECK(std::all_of(settled.begin(), settled.end(),
                      [](const choice& c) { return c == choice::parallel(64); }));
}

TEST_CASE("adaptive: with a downstream cap, the climb homes in on the knee", "[adaptive]") {
    // Only 40 calls can wait at once: throughput grows with the concurrency up
    // to 40 and stays flat above, while latency grows (the extra calls queue).
    // Exploration picks parallel(64) (1.25x parallel(32)); the climb then
    // steps down while latency falls beyond tolerance at the same throughput,
    // and refines its steps until the next step gains less than tolerance:
    // from 42 a step to 40 lowers latency by only 5%, so it stops at 42.
    workload capped = waiting_io;
    capped.wait_cap = 40;
    sa::adaptive_controller controller({.workers = {1, 64}, .recheck_every = 20});
    const auto steps = drive(controller, 400, capped);
    CHECK(steps[6].next == choice::parallel(64));
    const auto settled = settled_choices(steps, 200);
    REQUIRE_FALSE(settled.empty());
    for (const choice& c : settled) {
        CHECK(c.mode == sa::processing_mode::parallel);
        CHECK(c.concurrency >= 40);
        CHECK(c.concurrency <= 42);
    }
}

TEST_CASE("adaptive: a per-call cost is batched away when a batch processor exists", "[adaptive]") {
    SECTION("can_batch: batched at the largest size") {
        // A 4 ms round trip per call: serial 250 events/s, parallel(8) 2.00k/s,
        // batched(b) b per (4 ms + b us): every doubling gains, 512 makes
        // 113k/s. Probes below 512 (256, 384, 448, 480) all lose more than
        // tolerance; 496 and above tie without a latency gain. So it stays.
        sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = true});
        const auto steps = drive(controller, 300, per_call);
        CHECK(ran(steps, 0, 11) ==
              std::vector<std::string>{"serial", "parallel(2)", "parallel(4)", "parallel(8)",
                                       "batched(8)", "batched(16)", "batched(32)", "batched(64)",
                                       "batched(128)", "batched(256)", "batched(512)"});
        CHECK(steps[10].next == choice::batched(512));
        const auto settled = settled_choices(steps, 10);
        REQUIRE(settled.size() > 200);
        CHECK(std::all_of(settled.begin(), settled.end(),
                          [](const choice& c) { return c == choice::batched(512); }));
    }
    SECTION("without can_batch: never batched") {
        sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = false});
        const auto steps = drive(controller, 300, per_call);
        for (const step& s : steps) {
            CHECK(s.ran.mode != sa::processing_mode::batched);
            CHECK(s.next.mode != sa::processing_mode::batched);
        }
        // waiting dominates: the most concurrency allowed
        const auto settled = settled_choices(steps, 4);
        CHECK(std::all_of(settled.begin(), settled.end(),
                          [](const choice& c) { return c == choice::parallel(8); }));
    }
}

TEST_CASE("adaptive: a change of workload shape is followed within a bounded number of windows",
          "[adaptive]") {
    // Heavy CPU work, then a per-call round trip from window 40, then heavy
    // CPU again from window 120. Each switch moves the settled throughput by
    // far more than 25% (parallel(4): 3.99k/s -> 1.00k/s; batched(512):
    // 113k/s -> 1.00k/s), so it is seen after 2 windows (plus at most the 2
    // windows of a probe round in flight), and a full exploration takes one
    // window per step: serial, parallel 2..8, batched 8..512 = 11.
    constexpr std::size_t switch_to_batching = 40, switch_back = 120;
    constexpr std::size_t bound = 2 + 2 + 11;
    sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = true});
    const auto steps = drive(controller, 200, [](std::size_t window) {
        return window >= switch_to_batching && window < switch_back ? per_call : heavy_cpu;
    });
    REQUIRE(steps[switch_to_batching - 1].next == choice::parallel(4));
    const std::size_t batching = first_settled_on(steps, choice::batched(512), switch_to_batching);
    CHECK(batching - switch_to_batching <= bound);
    const std::size_t back = first_settled_on(steps, choice::parallel(4), switch_back);
    CHECK(back - switch_back <= bound);
    // and it stays with each choice while its workload lasts
    for (std::size_t i = batching; i < switch_back; ++i) {
        if (steps[i].phase == "settled") CHECK(steps[i].next == choice::batched(512));
    }
    CHECK_THAT(steps[back].phase, Catch::Equals("settled"));
    const auto changed = std::any_of(
        controller.decisions().begin(), controller.decisions().end(),
        [](const sa::adaptive_decision& d) { return d.reason.find("workload changed") == 0; });
    CHECK(changed);
}

TEST_CASE("adaptive: a change that keeps the throughput is found by the periodic re-check",
          "[adaptive]") {
    // From window 40 a 1 ms CPU cost per call replaces the 1 ms per event:
    // parallel(4) still runs 3.98k/s, so nothing departs, but batched(512)
    // now makes 253k/s. Only a re-check can find it. batched(8) ran at 1/4 of
    // parallel(4) before the change, one of 3 steps slower than it (serial,
    // parallel(2), batched(8)), so re-checks measure it on every 12th only
    // (all slower steps together cost about one window's time per re-check);
    // a re-check cycle is recheck_every settled windows + at most 2 probe
    // windows + the re-check's own windows (parallel(8), and a slower step
    // now and then). Once batched(8) is measured, the batched ladder runs to
    // 512: 7 windows.
    const workload per_call_cpu{.call_cpu = 1 * ms, .item_cpu = 2 * us, .dispatch = 2 * us};
    constexpr std::size_t change = 40;
    const sa::adaptive_limits limits{.workers = {1, 8}, .can_batch = true, .recheck_every = 20};
    const std::size_t bound = 12 * (limits.recheck_every + 2 + 2) + 7;
    sa::adaptive_controller controller(limits);
    const auto steps = drive(controller, change + bound + 20, [](std::size_t window) {
        return window >= change
                   ? workload{.call_cpu = 1 * ms, .item_cpu = 2 * us, .dispatch = 2 * us}
                   : heavy_cpu;
    });
    CHECK(evaluate(per_call_cpu, choice::parallel(4)).throughput /
              evaluate(heavy_cpu, choice::parallel(4)).throughput ==
          Approx(1.0).margin(0.01));
    REQUIRE(steps[change - 1].next.mode == sa::processing_mode::parallel);
    const std::size_t followed = first_settled_on(steps, choice::batched(512), change);
    REQUIRE(followed < steps.size());
    CHECK(followed - change <= bound);
    const auto rechecked = std::any_of(
        controller.decisions().begin(), controller.decisions().end(),
        [](const sa::adaptive_decision& d) { return d.reason.find("re-checking") == 0; });
    CHECK(rechecked);
}

TEST_CASE("adaptive: windows with no events or no busy time change nothing", "[adaptive]") {
    const sa::adaptive_limits limits{.workers = {1, 8}, .can_batch = true};
    sa::adaptive_controller plain(limits);
    sa::adaptive_controller interrupted(limits);
    const std::vector<sa::window_measurement> empty{
        {0, std::chrono::milliseconds(5), std::chrono::milliseconds(1)},
        {100, std::chrono::nanoseconds(0), std::chrono::milliseconds(1)},
        {100, std::chrono::nanoseconds(-5), std::chrono::milliseconds(1)},
        {0, std::chrono::nanoseconds(0), std::chrono::nanoseconds(0)},
    };
    for (std::size_t window = 0; window < 150; ++window) {
        const workload& w = window < 60 ? heavy_cpu : per_call;
        plain.observe(measure(w, plain.current()));
        interrupted.observe(measure(w, interrupted.current()));
        // every few windows, empty ones: the stream starved, or nothing finished
        if (window % 3 == 0) {
            for (const auto& m : empty) {
                const choice before = interrupted.current();
                const std::string phase(interrupted.phase());
                const std::size_t decisions = interrupted.decision_count();
                CHECK(interrupted.observe(m) == before);
                CHECK(interrupted.current() == before);
                CHECK(interrupted.phase() == phase);
                CHECK(interrupted.decision_count() == decisions);
            }
        }
        REQUIRE(interrupted.current() == plain.current());
        REQUIRE(interrupted.phase() == plain.phase());
    }
    // the empty windows were counted, but they changed no verdict
    CHECK(interrupted.windows() == plain.windows() + 50 * empty.size());
    REQUIRE(interrupted.decisions().size() == plain.decisions().size());
    for (std::size_t i = 0; i < plain.decisions().size(); ++i) {
        CHECK(interrupted.decisions()[i].from == plain.decisions()[i].from);
        CHECK(interrupted.decisions()[i].to == plain.decisions()[i].to);
        CHECK(interrupted.decisions()[i].reason == plain.decisions()[i].reason);
    }
}

TEST_CASE("adaptive: every choice stays inside the limits", "[adaptive]") {
    const std::vector<workload> workloads{
        tiny_cpu,
        heavy_cpu,
        waiting_io,
        per_call,
        {.call_cpu = 300 * us, .item_cpu = 5 * us, .dispatch = 1 * us, .cores = 2},
        {.item_cpu = 50 * us, .call_wait = 2 * ms, .dispatch = 3 * us, .wait_cap = 10},
    };
    const std::vector<sa::adaptive_limits> all_limits{
        {.workers = {1, 8}, .batch_sizes = {8, 512}, .can_batch = true},
        {.workers = {3, 13}, .batch_sizes = {5, 300}, .can_batch = true, .recheck_every = 7},
        {.workers = {1, 1}, .batch_sizes = {7, 7}, .can_batch = true, .recheck_every = 3},
        {.workers = {2, 2}, .batch_sizes = {1, 3}, .can_batch = true, .tolerance = 0.0},
        {.workers = {1, 100}, .can_batch = false, .recheck_every = 1, .tolerance = 0.3},
        {.workers = {6, 64}, .batch_sizes = {100, 1000}, .can_batch = true, .tolerance = 0.9},
    };
    for (const auto& limits : all_limits) {
        CAPTURE(limits.workers, limits.batch_sizes, limits.can_batch, limits.recheck_every,
                limits.tolerance);
        sa::adaptive_controller controller(limits);
        lcg random;
        std::size_t current_workload = 0;
        const auto steps = drive(
            controller, 1500,
            [&](std::size_t window) {
                if (window % 37 == 0) current_workload = random.next() % workloads.size();
                return workloads[current_workload];
            },
            [&](std::size_t) { return 1.0 + 0.1 * random.symmetric(); });
        std::size_t parallel_windows = 0, batched_windows = 0;
        for (const step& s : steps) {
            const choice& c = s.next;
            switch (c.mode) {
            case sa::processing_mode::serial: CHECK(c == choice::serial()); break;
            case sa::processing_mode::parallel:
                ++parallel_windows;
                CHECK(limits.workers.contains(c.concurrency));
                CHECK(c.concurrency >= 2);  // parallel(1) would be serial with extra cost
                CHECK(c.batch_size == 1);
                break;
            case sa::processing_mode::batched:
                ++batched_windows;
                CHECK(limits.can_batch);
                CHECK(limits.batch_sizes.contains(c.batch_size));
                CHECK(c.concurrency == 1);
                break;
            }
        }
        if (limits.workers.max < 2)
            CHECK(parallel_windows == 0);
        else
            CHECK(parallel_windows > 0);
        CHECK((batched_windows > 0) == limits.can_batch);
        CHECK(controller.decisions().size() <= sa::adaptive_controller::decision_log_size);
    }
}

TEST_CASE("adaptive: the decision log explains every change of choice", "[adaptive]") {
    sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = true});
    const auto steps = drive(controller, 45,
                             [](std::size_t window) { return window < 25 ? heavy_cpu : per_call; });
    std::vector<step> changes;
    for (const step& s : steps) {
        if (!(s.next == s.ran)) changes.push_back(s);
    }
    REQUIRE(controller.decision_count() == changes.size());
    REQUIRE(controller.decisions().size() == changes.size());  // fewer than 64
    for (std::size_t i = 0; i < changes.size(); ++i) {
        const sa::adaptive_decision& d = controller.decisions()[i];
        CAPTURE(i, d.window, d.reason);
        CHECK(d.window == changes[i].window);
        CHECK(d.from == changes[i].ran);
        CHECK(d.to == changes[i].next);
        const workload w = d.window < 25 ? heavy_cpu : per_call;
        CHECK(d.throughput == Approx(measure(w, d.from).throughput()));
        CHECK_FALSE(d.reason.empty());
        // it says what it measured and where it goes
        CHECK_THAT(d.reason, Catch::Contains(fmt::format("{}", d.to)));
        CHECK_THAT(d.reason, Catch::Contains("events/s"));
        if (i > 0) CHECK(d.from == controller.decisions()[i - 1].to);
    }
    // the first exploration, in words
    REQUIRE(controller.decisions().size() >= 5);
    CHECK(controller.decisions()[0].reason ==
          "exploring: serial ran 1.00k events/s (latency 1.00ms); trying parallel(2)");
    CHECK(controller.decisions()[1].reason ==
          "exploring: parallel(2) ran 2.00k events/s, 2.00x serial; trying parallel(4)");
    CHECK_THAT(controller.decisions()[3].reason,
               Catch::StartsWith("exploring: parallel(8) ran 3.99k events/s, 1.00x parallel(4): "
                                 "no gain; trying batched(8)"));
    CHECK_THAT(controller.decisions()[4].reason,
               Catch::Contains("settled on parallel(4), the best of 5 choices (lowest latency"));
    CHECK_THAT(controller.decisions()[4].reason, Catch::Contains("3.99x serial"));
    CHECK(fmt::format("{}", controller.decisions()[0]) ==
          "window 0: serial -> parallel(2) (1.00k events/s): " + controller.decisions()[0].reason);
    CHECK_FALSE(controller.last_reason().empty());

    SECTION("the log keeps the last 64 changes") {
        drive(controller, 2000,
              [](std::size_t window) { return (window / 50) % 2 == 0 ? heavy_cpu : per_call; });
        CHECK(controller.decision_count() > sa::adaptive_controller::decision_log_size);
        REQUIRE(controller.decisions().size() == sa::adaptive_controller::decision_log_size);
        CHECK(controller.decisions().back().to == controller.current());
        for (std::size_t i = 1; i < controller.decisions().size(); ++i) {
            CHECK(controller.decisions()[i].from == controller.decisions()[i - 1].to);
            CHECK(controller.decisions()[i].window > controller.decisions()[i - 1].window);
        }
    }
}

TEST_CASE("adaptive: measurement noise within tolerance does not move a settled choice",
          "[adaptive]") {
    // +/-3% on every window (tolerance 5%): heavy CPU work keeps parallel(4)
    // (parallel(8) ties on throughput but doubles the latency; parallel(5)
    // adds 25% latency; parallel(3) loses 25%), and no noisy window passes
    // for a change of workload.
    sa::adaptive_controller controller({.workers = {1, 8}, .can_batch = true});
    lcg random;
    const auto steps = drive(
        controller, 400, [](std::size_t) { return heavy_cpu; },
        [&](std::size_t) { return 1.0 + 0.03 * random.symmetric(); });
    const auto settled = settled_choices(steps, 4);
    REQUIRE(settled.size() > 250);
    CHECK(std::all_of(settled.begin(), settled.end(),
                      [](const choice& c) { return c == choice::parallel(4); }));
    for (const auto& d : controller.decisions())
        CHECK(d.reason.find("workload changed") == std::string::npos);
}
