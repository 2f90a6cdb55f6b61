// custom_strategy: writing your own processing strategy, here a rate limiter.
//
// What it demonstrates:
//   * `rate_limited{.per_second = 200, .burst = 1}`, a strategy of our own that satisfies the
//     `sa::processing_strategy` concept: a copyable value with `name()`, `validate(options)` and
//     a coroutine `run(receiver)`;
//   * `run` uses only the documented receiver API: `try_receive()` first, `co_await
//     wait_for_events()` only when nothing is ready, then `process(e)`, which applies retries and
//     timeouts and records the outcome, whatever kind of processor the task has (a coroutine
//     processor continues in flight: `co_await wait_in_flight_below(1)` waits for it). Between
//     events it waits for a token from a token bucket, on an `asio::steady_timer` made on the
//     strategy's own executor (`co_await asio::this_coro::executor`), so the wait suspends the
//     consumer without blocking a thread;
//   * `receiver.report(current, decision)`: a strategy may publish what it is doing; the task's
//     `strategy_report()` shows it. The report starts with the strategy formatted by fmt, so
//     giving the strategy a `fmt::formatter` makes the report show its settings;
//   * `validate` rejects settings that cannot work with `options.invalid(...)`, an
//     `sa::async_task_exception` whose message names the task and the field.
//
// What to look at in the output: the table (serial processes the 100 events as fast as it can;
// rate_limited keeps to ~200 events/s, and with a burst of 25 the first 25 go at once), the
// reports, and the validation error at the end.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using steady = std::chrono::steady_clock;

namespace {

// ----- the strategy --------------------------------------------------------------------------

/// Tokens flow in at `per_second`, up to `burst` of them; every event takes one. When none is
/// left the event takes one on credit, and the caller waits until the credit is repaid.
class token_bucket {
public:
    token_bucket(double per_second, double burst, steady::time_point now)
        : per_second_(per_second),
          burst_(burst),
          tokens_(burst),
          last_(now) {}

    /// Takes a token at `now`; returns how long to wait before using it (zero: at once).
    steady::duration take(steady::time_point now) {
        const std::chrono::duration<double> elapsed = now - last_;
        last_ = now;
        tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_) - 1;
        if (tokens_ >= 0) return steady::duration::zero();
        return std::chrono::duration_cast<steady::duration>(
            std::chrono::duration<double>(-tokens_ / per_second_));
    }

private:
    double per_second_;
    double burst_;
    double tokens_;
    steady::time_point last_;
};

/// Processes events one at a time, in arrival order, no faster than `per_second` on average,
/// letting up to `burst` events through at once after a quiet spell.
///
/// Once the task is stopping (`cancel(immediate)`, its deadline), queued events no longer wait
/// for tokens: they would only end cancelled.
struct rate_limited {
    double per_second = 100;
    std::size_t burst = 1;

    std::string_view name() const noexcept { return "rate_limited"; }

    /// "rate_limited(per_second=200, burst=1)": what the fmt formatter below prints.
    std::string settings() const {
        return fmt::format("rate_limited(per_second={:g}, burst={})", per_second, burst);
    }

    /// Called when the task is built; throws naming the first setting that cannot work.
    void validate(const sa::task_options& options) const {
        if (!(per_second > 0) || !std::isfinite(per_second)) {  // also rejects NaN
            throw options.invalid(fmt::format(
                "rate_limited.per_second must be positive and finite, got {}", per_second));
        }
        if (burst == 0) throw options.invalid("rate_limited.burst must be at least 1, got 0");
    }

    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        token_bucket bucket(per_second, static_cast<double>(burst), steady::now());
        std::size_t events = 0;
        std::size_t paced = 0;  // events that had to wait for their token
        steady::duration waited{};
        for (;;) {
            auto e = receiver.try_receive();
            if (!e) {
                if (!co_await receiver.wait_for_events()) break;  // the stream has ended
                continue;
            }
            ++events;
            if (const auto delay = bucket.take(steady::now());
                delay > steady::duration::zero() && !receiver.stopping()) {
                ++paced;
                waited += delay;
                timer.expires_after(delay);
                co_await timer.async_wait(asio::use_awaitable);
            }
            receiver.process(std::move(*e));
            // A coroutine processor, or a retry that waits its backoff, continues in flight:
            // one at a time.
            if (receiver.in_flight() != 0) co_await receiver.wait_in_flight_below(1);
        }
        receiver.report(settings(),
                        fmt::format("{} of {} events waited for a token, {:.1f} ms in all", paced,
                                    events,
                                    std::chrono::duration<double, std::milli>(waited).count()));
    }
};

}  // namespace

/// Makes the strategy printable with fmt; the task's strategy report starts with this text (the
/// library formats the strategy when the task starts, or uses `name()` if it cannot).
template <>
struct fmt::formatter<rate_limited> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const rate_limited& r, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(r.settings(), ctx);
    }
};

namespace {

static_assert(sa::processing_strategy<rate_limited>);

// ----- running it ----------------------------------------------------------------------------

constexpr std::size_t events_per_run = 100;

/// The processor: a stand-in for a call to a rate-limited API.
std::size_t call_api(const std::size_t& request) {
    return request * request;
}

/// What one run achieved, for the table.
struct measurement {
    std::string label;
    std::size_t events = 0;
    double seconds = 0;
    bool ok = false;
    sa::strategy_report report;

    double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0.0; }
};

/// The producer: sends every request at once (the strategy does the pacing), the last as the
/// final event, then waits for the result.
template <class Task>
asio::awaitable<typename Task::result_type> send_all(Task task, std::size_t events) {
    for (std::size_t request = 0; request + 1 < events; ++request)
        co_await task.send(request);
    co_await task.send_final(events - 1);
    co_return co_await task.wait();
}

/// Runs `events_per_run` requests under `strategy` on an io_context run by this thread.
template <class Strategy>
measurement run(std::string label, Strategy strategy) {
    fmt::print("running {} ...\n", label);
    asio::io_context io;
    auto task = sa::emitting_builder<std::size_t>(io)
                    .name(label)
                    .receiver(std::move(strategy), call_api)
                    .start_queue();
    auto future = asio::co_spawn(io, send_all(task, events_per_run), asio::use_future);
    io.run();  // returns once the task has ended and nothing is left to do
    const auto result = future.get();
    fmt::print("  {}\n", result);
    return measurement{
        .label = std::move(label),
        .events = result.stats().sent,
        .seconds = std::chrono::duration<double>(result.stats().elapsed).count(),
        .ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
              result.stats().processed == events_per_run,
        .report = result.strategy_report(),
    };
}

/// The rows as a table; "vs serial" compares each row's events/s with the first row's.
void print_table(std::span<const measurement> rows) {
    fmt::print("\n{:<30} {:>7} {:>8} {:>10} {:>10}\n", "strategy", "events", "seconds", "events/s",
               "vs serial");
    const double serial_rate = rows.front().rate();
    for (const measurement& m : rows) {
        fmt::print("{:<30} {:>7} {:>8.3f} {:>10.0f} {:>9.4f}x\n", m.label, m.events, m.seconds,
                   m.rate(), serial_rate > 0 ? m.rate() / serial_rate : 0.0);
    }
}

/// The rate a run kept to once its burst was spent: the events beyond the burst each waited for
/// a token, so they took (nearly) all of the run's time.
void print_paced_rate(const measurement& m, const rate_limited& strategy) {
    const std::size_t paced = m.events - std::min(m.events, strategy.burst);
    fmt::print("{}: {} events after the burst of {} in {:.3f} s: {:.1f} events/s (limit {:g}/s)\n",
               m.label, paced, strategy.burst, m.seconds,
               m.seconds > 0 ? static_cast<double>(paced) / m.seconds : 0.0, strategy.per_second);
}

/// Builds a task with `per_second = 0`: `start_queue()` validates the strategy and throws.
bool show_validation_error() {
    asio::io_context io;
    try {
        auto task = sa::emitting_builder<std::size_t>(io)
                        .name("paced-api")
                        .receiver(rate_limited{.per_second = 0}, call_api)
                        .start_queue();
        task.close();
        fmt::print("\nper_second = 0 was accepted: the validation is missing\n");
        return false;
    } catch (const sa::async_task_exception& e) {
        fmt::print("\nper_second = 0 is rejected when the task is built:\n  {}\n  (code: {})\n",
                   e.what(), e.code().message());
        return e.code() == sa::async_task_error::invalid_configuration;
    }
}

}  // namespace

int main() {
    fmt::print("custom_strategy: {} requests sent at once, processed under each strategy\n\n",
               events_per_run);
    const rate_limited steady_pace{.per_second = 200};
    const rate_limited with_burst{.per_second = 200, .burst = 25};
    std::vector<measurement> rows;
    rows.push_back(run("serial", sa::serial{}));
    rows.push_back(run("rate_limited{200/s}", steady_pace));
    rows.push_back(run("rate_limited{200/s, burst 25}", with_burst));
    print_table(rows);
    fmt::print("\n");
    print_paced_rate(rows[1], steady_pace);
    print_paced_rate(rows[2], with_burst);

    for (const measurement& m : rows)
        fmt::print("\n{} report: {}\n", m.label, m.report);

    const bool rejected = show_validation_error();
    const bool ok = rejected && std::all_of(rows.begin(), rows.end(),
                                            [](const measurement& m) { return m.ok; });
    return ok ? 0 : 1;
}
