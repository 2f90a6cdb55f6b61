// sweet_async/strategies/adaptive_controller.hpp: the decisions of the adaptive strategy.
#ifndef SWEET_ASYNC_STRATEGIES_ADAPTIVE_CONTROLLER_HPP
#define SWEET_ASYNC_STRATEGIES_ADAPTIVE_CONTROLLER_HPP

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/detail/duration_text.hpp>
#include <sweet_async/detail/enum_formatter.hpp>
#include <sweet_async/detail/plain_formatter.hpp>
#include <sweet_async/min_max.hpp>

namespace sweet_async {

/// How the adaptive strategy runs the processor during a window.
enum class processing_mode {
    serial,    ///< One event at a time, in arrival order.
    parallel,  ///< Up to `concurrency` processors in flight.
    batched,   ///< One per-batch processor call for `batch_size` events.
};

/// The name of `mode`: "serial", "parallel" or "batched".
constexpr std::string_view to_string(processing_mode mode) noexcept {
    switch (mode) {
    case processing_mode::serial: return "serial";
    case processing_mode::parallel: return "parallel";
    case processing_mode::batched: return "batched";
    }
    return "unknown";
}

/// What the adaptive strategy runs a window with: a mode and its one knob.
/// Formats as "serial", "parallel(4)" or "batched(64)".
struct adaptive_choice {
    processing_mode mode = processing_mode::serial;  ///< How events are processed.
    /// Processors in flight (parallel); 1 otherwise.
    std::size_t concurrency = 1;
    /// Events per processor call (batched); 1 otherwise.
    std::size_t batch_size = 1;

    /// One event at a time.
    static constexpr adaptive_choice serial() noexcept { return {}; }
    /// Up to `concurrency` processors in flight.
    static constexpr adaptive_choice parallel(std::size_t concurrency) noexcept {
        return {processing_mode::parallel, concurrency, 1};
    }
    /// `batch_size` events per processor call.
    static constexpr adaptive_choice batched(std::size_t batch_size) noexcept {
        return {processing_mode::batched, 1, batch_size};
    }

    /// True when `a` is the simpler of the two: serial before parallel before
    /// batched, then the lower concurrency or batch size. Ties of throughput
    /// and latency go to the simpler choice, which costs less to run.
    friend constexpr bool simpler(const adaptive_choice& a, const adaptive_choice& b) noexcept {
        if (a.mode != b.mode) return a.mode < b.mode;
        if (a.concurrency != b.concurrency) return a.concurrency < b.concurrency;
        return a.batch_size < b.batch_size;
    }

    friend bool operator==(const adaptive_choice&, const adaptive_choice&) = default;
};

/// "serial", "parallel(4)" or "batched(64)".
inline std::string to_string(const adaptive_choice& choice) {
    switch (choice.mode) {
    case processing_mode::serial: return "serial";
    case processing_mode::parallel: return fmt::format("parallel({})", choice.concurrency);
    case processing_mode::batched: return fmt::format("batched({})", choice.batch_size);
    }
    return "unknown";
}

/// What one window achieved, as the strategy runner measured it.
struct window_measurement {
    /// Events finished in the window.
    std::size_t events = 0;
    /// Time in the window during which work was available (the stream was not
    /// starved): a slow producer must not make a choice look slow.
    std::chrono::nanoseconds busy{0};
    /// Mean of the per-event started -> completed times.
    std::chrono::nanoseconds mean_latency{0};

    /// False when the window says nothing about the choice it ran under (no
    /// event finished, or no busy time); such windows are ignored.
    constexpr bool informative() const noexcept {
        return events > 0 && busy > std::chrono::nanoseconds::zero();
    }
    /// Events per busy second; 0 when not `informative()`.
    constexpr double throughput() const noexcept {
        if (!informative()) return 0.0;
        return static_cast<double>(events) * 1e9 / static_cast<double>(busy.count());
    }
};

/// One change of choice, with the reason for it.
struct adaptive_decision {
    /// Index of the window that was just measured (counting every `observe()`).
    std::size_t window = 0;
    /// The choice the window ran under.
    adaptive_choice from{};
    /// The choice of the next window.
    adaptive_choice to{};
    /// Events per busy second measured under `from` in that window.
    double throughput = 0;
    /// Why, with the figures it was decided on, e.g.
    /// "exploring: parallel(2) ran 1.99k events/s, 2.00x serial; trying parallel(4)".
    std::string reason{};
};

/// The bounds the adaptive strategy moves within.
struct adaptive_limits {
    /// Concurrency bounds of `parallel`.
    min_max<std::size_t> workers{1, 8};
    /// Batch size bounds of `batched`.
    min_max<std::size_t> batch_sizes{8, 512};
    /// True when a per-batch processor exists; without it `batched` is never chosen.
    bool can_batch = false;
    /// Windows spent on a settled choice before everything is measured again.
    std::size_t recheck_every = 20;
    /// Relative throughput (or latency) difference treated as noise.
    double tolerance = 0.05;

    /// Throws `std::invalid_argument` naming the first field whose value cannot work, as a
    /// member of `owner` (the adaptive strategy passes "adaptive", the fields users set there).
    void validate(std::string_view owner = "adaptive_limits") const {
        const auto fail = [owner](std::string_view field, const auto& rule) {
            throw std::invalid_argument(fmt::format("{}.{} {}", owner, field, rule));
        };
        if (workers.min == 0) fail("workers.min", "must be at least 1, got 0");
        if (!workers.valid()) fail("workers", fmt::format("must have min <= max, got {}", workers));
        if (batch_sizes.min == 0) fail("batch_sizes.min", "must be at least 1, got 0");
        if (!batch_sizes.valid())
            fail("batch_sizes", fmt::format("must have min <= max, got {}", batch_sizes));
        if (recheck_every == 0) fail("recheck_every", "must be at least 1, got 0");
        // Written so that NaN fails too.
        if (!(tolerance >= 0.0 && tolerance < 1.0))
            fail("tolerance", fmt::format("must be in [0, 1), got {}", tolerance));
    }
};

namespace detail {

/// "950 events/s", "3.99k events/s", "1.20M events/s".
inline std::string rate_text(double per_second) {
    if (per_second >= 1e6) return fmt::format("{:.2f}M events/s", per_second / 1e6);
    if (per_second >= 1e3) return fmt::format("{:.2f}k events/s", per_second / 1e3);
    return fmt::format("{:.1f} events/s", per_second);
}

/// "850ns", "12.50us", "1.00ms", "2.50s".
inline std::string latency_text(double nanoseconds) {
    if (nanoseconds >= 1e9) return fmt::format("{:.2f}s", nanoseconds / 1e9);
    if (nanoseconds >= 1e6) return fmt::format("{:.2f}ms", nanoseconds / 1e6);
    if (nanoseconds >= 1e3) return fmt::format("{:.2f}us", nanoseconds / 1e3);
    return fmt::format("{:.0f}ns", nanoseconds);
}

}  // namespace detail

/// The policy of the adaptive strategy: fed what each window achieved under
/// `current()`, it answers with the choice for the next window. It is pure and
/// deterministic (it never reads a clock), so it can be driven by synthetic
/// measurements; the strategy runner does the measuring and the switching.
///
/// The score of a window is its throughput (events per busy second). Two
/// scores within `tolerance` of each other are a tie, broken by the lower mean
/// latency (also within `tolerance`), then by the simpler choice.
///
/// - **Exploring**: serial is measured; then parallel from
///   `max(workers.min, 2)`, doubling while each step beats the one before
///   beyond tolerance (the first step must beat serial); then, when
///   `can_batch`, batched from `batch_sizes.min`, doubling the same way. The
///   best of everything measured is chosen.
/// - **Settled**: the choice runs; every few windows (a quarter of
///   `recheck_every` at first, backing off to half of it while nothing is
///   gained) a neighbour is probed: concurrency +/- a quarter, batch size x2
///   or /2. A probe that wins is kept and the climb goes on in that direction;
///   one that does not is undone and the other direction tried. When a round
///   gains nothing the steps are halved (down to 1), so the climb homes in on
///   the knee of the curve; one that gains doubles them back. On a throughput
///   tie, a probe is kept only for a lower latency, and only within tolerance
///   of the best throughput seen since the exploration, so that ties cannot
///   walk it downhill.
/// - **Following change**: a settled window whose throughput departs from the
///   settled level by more than a factor of 1 - max(0.25, 3 x tolerance) (down
///   or up), twice in a row, means the workload changed: everything is
///   measured again. After `recheck_every` settled windows the exploration is
///   run again anyway, keeping what is known: the settled choice competes
///   with its current level without being run, a step that ran at 1/k of that
///   level last time, one of n such slower steps, is measured again on every
///   (n x k)-th re-check only (a window of it costs k settled windows' time),
///   and when the settled choice wins again, the climb keeps its step sizes.
///
/// ```cpp
/// sa::adaptive_controller controller({.workers = {1, 16}, .can_batch = true});
/// for (;;) {
///     const sa::window_measurement m = run_window(controller.current());
///     controller.observe(m);  // the next window runs under controller.current()
/// }
/// ```
class adaptive_controller {
public:
    /// How many entries `decisions()` keeps (the most recent ones).
    static constexpr std::size_t decision_log_size = 64;

    /// Starts exploring with serial. Throws `std::invalid_argument` for limits
    /// that cannot work (see `adaptive_limits::validate()`).
    explicit adaptive_controller(adaptive_limits limits) : limits_(limits) {
        limits_.validate();
        last_reason_ = "exploring: measuring serial first";
    }

    /// The choice to run the next window with.
    const adaptive_choice& current() const noexcept { return current_; }

    /// Reports the window that ran under `current()`; returns the choice for
    /// the next window, which becomes `current()`. A window that is not
    /// `informative()` changes nothing.
    adaptive_choice observe(const window_measurement& m) {
        const std::size_t window = windows_++;
        if (!m.informative()) return current_;
        const sample s{current_, m.throughput(),
                       static_cast<double>(
                           std::max(m.mean_latency.count(), std::chrono::nanoseconds::rep{0}))};
        switch (phase_) {
        case phase_id::exploring: on_exploring(window, s); break;
        case phase_id::settled: on_settled(window, s); break;
        case phase_id::climbing: on_climbing(window, s); break;
        }
        return current_;
    }

    /// "exploring" (measuring the candidates), "climbing" (`current()` is a
    /// probe next to the settled choice) or "settled".
    std::string_view phase() const noexcept {
        switch (phase_) {
        case phase_id::exploring: return "exploring";
        case phase_id::settled: return "settled";
        case phase_id::climbing: return "climbing";
        }
        return "unknown";
    }

    /// The most recent changes of choice (at most `decision_log_size`), oldest first.
    const std::vector<adaptive_decision>& decisions() const noexcept { return decisions_; }
    /// How many changes of choice there were in all, including those no longer in `decisions()`.
    std::size_t decision_count() const noexcept { return decision_count_; }
    /// Why `current()` is what it is: the reason of the latest verdict, also
    /// when it kept the choice (e.g. an exploration that ends on its last step).
    const std::string& last_reason() const noexcept { return last_reason_; }
    /// How many windows were observed, informative or not.
    std::size_t windows() const noexcept { return windows_; }
    /// The limits it was built with.
    const adaptive_limits& limits() const noexcept { return limits_; }

private:
    /// A choice with what it achieved: one window, or a smoothed level.
    struct sample {
        adaptive_choice choice;
        double throughput = 0;
        double latency = 0;  // nanoseconds
    };

    /// A step of an exploration, and how many re-checks in a row took it from memory.
    struct remembered {
        sample figures;
        std::size_t skipped = 0;
    };

    enum class phase_id { exploring, settled, climbing };
    enum class stage_id { serial, parallel, batched };

    // Weight of a new settled window in the settled level: smooths noise but
    // follows a slow drift within a few windows.
    static constexpr double smoothing = 0.25;
    // Consecutive departing windows that mean the workload changed: one could be a hiccup.
    static constexpr unsigned departures_to_reexplore = 2;

    // --- comparisons -----------------------------------------------------------------------

    /// True when throughput `a` beats `b` beyond the tolerance.
    bool faster(double a, double b) const noexcept { return a > b * (1.0 + limits_.tolerance); }
    /// True when latency `a` is lower than `b` beyond the tolerance.
    bool quicker(double a, double b) const noexcept { return a * (1.0 + limits_.tolerance) < b; }

    /// The best of `candidates` (not empty): highest throughput; among those
    /// within tolerance of it, lowest latency; among those within tolerance of
    /// that, the simplest. Sets `how` to the rule that decided.
    sample best_of(const std::vector<sample>& candidates, std::string& how) const {
        double top = 0;
        for (const sample& c : candidates)
            top = std::max(top, c.throughput);
        std::vector<sample> tied;
        for (const sample& c : candidates) {
            if (!faster(top, c.throughput)) tied.push_back(c);
        }
        double lowest = tied.front().latency;
        for (const sample& c : tied)
            lowest = std::min(lowest, c.latency);
        std::vector<sample> quickest;
        for (const sample& c : tied) {
            if (!quicker(lowest, c.latency)) quickest.push_back(c);
        }
        const sample best = *std::min_element(
            quickest.begin(), quickest.end(),
            [](const sample& a, const sample& b) { return simpler(a.choice, b.choice); });
        if (tied.size() == 1) {
            how = "highest throughput";
        } else if (quickest.size() == 1) {
            how = fmt::format("lowest latency of {} tied within {:g}% on throughput", tied.size(),
                              limits_.tolerance * 100);
        } else {
            how = fmt::format("simplest of {} tied within {:g}% on throughput and latency",
                              quickest.size(), limits_.tolerance * 100);
        }
        return best;
    }

    /// "1.99k events/s, 2.00x serial"
    std::string versus(const sample& s, const sample& base) const {
        return fmt::format("{}, {:.2f}x {}", detail::rate_text(s.throughput),
                           base.throughput > 0 ? s.throughput / base.throughput : 0.0,
                           to_string(base.choice));
    }

    // --- decisions --------------------------------------------------------------------------

    /// Makes `next` current; logs it when it is a change.
    void decide(std::size_t window, const sample& measured, const adaptive_choice& next,
                std::string reason) {
        if (!(next == current_)) {
            if (decisions_.size() == decision_log_size) decisions_.erase(decisions_.begin());
            decisions_.push_back({window, current_, next, measured.throughput, reason});
            ++decision_count_;
            current_ = next;
        }
        last_reason_ = std::move(reason);
    }

    // --- exploring --------------------------------------------------------------------------

    /// Lowest concurrency parallel is tried with: parallel(1) is serial with
    /// extra dispatch cost, so it is never worth measuring.
    std::size_t lowest_concurrency() const noexcept {
        return std::max<std::size_t>(limits_.workers.min, 2);
    }
    bool parallel_allowed() const noexcept { return limits_.workers.max >= 2; }

    /// `value` doubled within `max`, if that moves it.
    static std::optional<std::size_t> doubled(std::size_t value, std::size_t max) noexcept {
        const std::size_t next = value > max / 2 ? max : value * 2;
        if (next > value) return next;
        return std::nullopt;
    }

    std::optional<adaptive_choice> start_parallel_stage() {
        stage_ = stage_id::parallel;
        if (!parallel_allowed()) return start_batched_stage();
        rung_base_ = *serial_;
        return adaptive_choice::parallel(lowest_concurrency());
    }

    std::optional<adaptive_choice> start_batched_stage() {
        stage_ = stage_id::batched;
        if (!limits_.can_batch) return std::nullopt;
        rung_base_ = *serial_;
        return adaptive_choice::batched(limits_.batch_sizes.min);
    }

    /// Records `s` as the figures of the current step (`skipped` counts the
    /// re-checks in a row that took them from memory) and returns the next
    /// choice to measure, if any; appends what it saw to `note` ("serial ran
    /// ...", `verb` being how the figures were obtained; nothing if it is empty).
    std::optional<adaptive_choice> advance(const sample& s, std::size_t skipped,
                                           std::string_view verb, std::string& note) {
        measured_.push_back({s, skipped});
        std::string ignored;
        std::string& out = verb.empty() ? ignored : note;
        if (!out.empty()) out += "; ";
        if (stage_ == stage_id::serial) {
            serial_ = s;
            out += fmt::format("serial {} {} (latency {})", verb, detail::rate_text(s.throughput),
                               detail::latency_text(s.latency));
            return start_parallel_stage();
        }
        // Each step of a ladder has to beat the one before it (serial for the
        // first): past the first step that does not, bigger is not better.
        const bool gain = faster(s.throughput, rung_base_.throughput);
        out += fmt::format("{} {} {}{}", to_string(s.choice), verb, versus(s, rung_base_),
                           gain ? "" : ": no gain");
        if (stage_ == stage_id::parallel) {
            if (gain) {
                if (auto next = doubled(s.choice.concurrency, limits_.workers.max)) {
                    rung_base_ = s;
                    return adaptive_choice::parallel(*next);
                }
            }
            return start_batched_stage();
        }
        if (gain) {
            if (auto next = doubled(s.choice.batch_size, limits_.batch_sizes.max)) {
                rung_base_ = s;
                return adaptive_choice::batched(*next);
            }
        }
        return std::nullopt;
    }

    /// What the previous exploration found for `choice`, if it was a step of it.
    const remembered* recall(const adaptive_choice& choice) const noexcept {
        for (const remembered& r : memory_) {
            if (r.figures.choice == choice) return &r;
        }
        return nullptr;
    }

    /// True when a periodic re-check may take `r` from memory instead of
    /// running it. A window costs time in inverse proportion to its
    /// throughput: with n steps slower than the settled level, one that ran
    /// at 1/k of it is measured on every (n x k)-th re-check only, so that on
    /// average all of them together cost about one settled window's time per
    /// re-check. Without this, a re-check of a choice a hundred times slower
    /// would cost a hundred windows' time, and a long ladder of slower steps
    /// a window each. Steps about as fast as the settled choice are always
    /// measured.
    bool may_skip(const remembered& r) const noexcept {
        if (!slower_than_settled(r)) return false;
        const auto slower = static_cast<double>(
            std::count_if(memory_.begin(), memory_.end(),
                          [this](const remembered& m) { return slower_than_settled(m); }));
        return static_cast<double>(r.skipped + 1) <
               slower * settled_.throughput / r.figures.throughput;
    }

    bool slower_than_settled(const remembered& r) const noexcept {
        return faster(settled_.throughput, r.figures.throughput);
    }

    /// Moves past the steps that need no window: the settled choice (its
    /// figures are current) and, in a periodic re-check, steps taken from memory.
    std::optional<adaptive_choice> skip_known(std::optional<adaptive_choice> next,
                                              std::string& note) {
        std::string skipped;  // "serial, parallel(2)"
        const auto flush_skipped = [&] {
            if (skipped.empty()) return;
            note += fmt::format("{}{} as last time (far slower: not measured on every re-check)",
                                note.empty() ? "" : "; ", skipped);
            skipped.clear();
        };
        while (next) {
            if (carried_ && *next == carried_->choice) {
                flush_skipped();
                next = advance(*carried_, 0, "runs", note);
            } else if (const remembered* r = recall(*next); r && may_skip(*r)) {
                skipped += (skipped.empty() ? "" : ", ") + to_string(r->figures.choice);
                next = advance(r->figures, r->skipped + 1, {}, note);
            } else {
                break;
            }
        }
        flush_skipped();
        return next;
    }

    /// Starts an exploration after window `window` (which measured `s`); `known`
    /// is the settled choice with its latest figures, which competes without
    /// being measured again. When the workload `changed`, what the last
    /// exploration found is stale: every step is measured.
    void begin_exploration(std::size_t window, const sample& s, const sample& known, bool changed,
                           const std::string& why) {
        phase_ = phase_id::exploring;
        stage_ = stage_id::serial;
        measured_.clear();
        serial_.reset();
        carried_ = known;
        if (changed) memory_.clear();
        std::string note;
        if (auto next = skip_known(adaptive_choice::serial(), note)) {
            decide(window, s, *next,
                   fmt::format("{}: exploring again{}{}; trying {}", why, note.empty() ? "" : ", ",
                               note, to_string(*next)));
            return;
        }
        finish_exploration(window, s, fmt::format("{}: exploring again", why));
    }

    void on_exploring(std::size_t window, const sample& s) {
        std::string note;
        auto next = skip_known(advance(s, 0, "ran", note), note);
        if (next) {
            decide(window, s, *next,
                   fmt::format("exploring: {}; trying {}", note, to_string(*next)));
            return;
        }
        finish_exploration(window, s, fmt::format("exploring: {}", note));
    }

    void finish_exploration(std::size_t window, const sample& s, const std::string& prefix) {
        // The steps of this exploration are the memory of the next one.
        memory_ = measured_;
        if (carried_ && !recall(carried_->choice)) memory_.push_back({*carried_, 0});
        std::vector<sample> candidates;
        for (const remembered& r : memory_)
            candidates.push_back(r.figures);
        std::string how;
        const sample best = best_of(candidates, how);
        std::string reason =
            fmt::format("{}; settled on {}, the best of {} choices ({}): {}, latency {}", prefix,
                        to_string(best.choice), candidates.size(), how,
                        detail::rate_text(best.throughput), detail::latency_text(best.latency));
        if (serial_ && !(best.choice == serial_->choice))
            reason += fmt::format(", {:.2f}x serial", best.throughput / serial_->throughput);
        const bool confirmed = settled_once_ && best.choice == settled_.choice;
        settle(best, confirmed);
        decide(window, s, best.choice, std::move(reason));
    }

    /// Settles on `best`. When the exploration `confirmed` the previous choice,
    /// the climb keeps its step sizes and pace: they were learnt on it.
    void settle(const sample& best, bool confirmed) {
        phase_ = phase_id::settled;
        settled_ = best;
        settled_once_ = true;
        peak_ = best.throughput;
        since_exploration_ = 0;
        held_ = 0;
        departures_ = 0;
        carried_.reset();
        if (!confirmed) {
            refinement_ = 0;
            direction_ = 1;
            hold_ = base_hold();
        }
    }

    // --- settled and climbing ----------------------------------------------------------------

    /// Settled windows before the first probe round (and after a round that gained).
    std::size_t base_hold() const noexcept {
        return std::max<std::size_t>(1, limits_.recheck_every / 4);
    }
    /// The longest wait between probe rounds: a round that keeps failing costs
    /// throughput, but a re-check must leave room for at least one round.
    std::size_t max_hold() const noexcept {
        return std::max(base_hold(), limits_.recheck_every / 2);
    }

    /// A climbing step whose unrefined size is `full`: halved once per
    /// refinement, never below 1.
    std::size_t step(std::size_t full) const noexcept {
        const std::size_t refined = refinement_ < 64 ? full >> refinement_ : 0;
        return std::max<std::size_t>(1, refined);
    }

    /// The neighbour of `choice` one step in `direction` (+1 up, -1 down), if
    /// the limits leave room for one.
    std::optional<adaptive_choice> neighbour(const adaptive_choice& choice, int direction) const {
        if (choice.mode == processing_mode::parallel) {
            const std::size_t c = choice.concurrency;
            const std::size_t lo = lowest_concurrency(), hi = limits_.workers.max;
            const std::size_t delta = step(c / 4);
            const std::size_t next = direction > 0 ? (hi - c < delta ? hi : c + delta)
                                                   : std::max(lo, c > delta ? c - delta : 0);
            if (next != c && next >= lo && next <= hi) return adaptive_choice::parallel(next);
            return std::nullopt;
        }
        if (choice.mode == processing_mode::batched) {
            const std::size_t b = choice.batch_size;
            const std::size_t lo = limits_.batch_sizes.min, hi = limits_.batch_sizes.max;
            // Batch sizes act multiplicatively (a per-call cost spread over b
            // events): up doubles, down halves, before refinement.
            const std::size_t up = step(b), down = step(b / 2);
            const std::size_t next =
                direction > 0 ? (hi - b < up ? hi : b + up) : std::max(lo, b > down ? b - down : 0);
            if (next != b && next >= lo && next <= hi) return adaptive_choice::batched(next);
            return std::nullopt;
        }
        return std::nullopt;
    }

    /// True when smaller climbing steps remain possible on the settled choice.
    bool can_refine() const noexcept {
        const adaptive_choice& c = settled_.choice;
        if (c.mode == processing_mode::parallel) return step(c.concurrency / 4) > 1;
        if (c.mode == processing_mode::batched) return step(c.batch_size) > 1;
        return false;
    }

    /// True when a window departs from the settled level by more than noise
    /// and a climbing step could explain: the workload changed. The band is
    /// wide on purpose: on a shared machine a third up or down is ordinary
    /// noise, while a change of workload shape moves throughput by factors
    /// (and the periodic re-check catches subtler changes).
    bool departs(double throughput) const noexcept {
        const double band = std::min(0.9, std::max(0.4, 5 * limits_.tolerance));
        const double ratio = throughput / settled_.throughput;
        return ratio < 1.0 - band || ratio > 2.0 / (1.0 - band);
    }

    void on_settled(std::size_t window, const sample& s) {
        ++since_exploration_;
        if (departs(s.throughput)) {
            if (++departures_ >= departures_to_reexplore) {
                const sample level = settled_;
                begin_exploration(window, s, s, true,
                                  fmt::format("workload changed: {} ran {} for {} windows in a "
                                              "row, {:.2f}x its settled {}",
                                              to_string(s.choice), detail::rate_text(s.throughput),
                                              departures_, s.throughput / level.throughput,
                                              detail::rate_text(level.throughput)));
            }
            // A single departing window is not folded into the level: it may be a hiccup.
            return;
        }
        departures_ = 0;
        settled_.throughput += smoothing * (s.throughput - settled_.throughput);
        settled_.latency += smoothing * (s.latency - settled_.latency);
        peak_ = std::max(peak_, settled_.throughput);
        if (since_exploration_ >= limits_.recheck_every) {
            begin_exploration(window, s, settled_, false,
                              fmt::format("re-checking after {} windows on {} at {}",
                                          since_exploration_, to_string(settled_.choice),
                                          detail::rate_text(settled_.throughput)));
            return;
        }
        if (++held_ < hold_) return;
        held_ = 0;
        // A probe round: the direction that last paid off first.
        gained_ = false;
        tried_other_ = false;
        probe_direction_ = direction_;
        auto probe = neighbour(settled_.choice, probe_direction_);
        if (!probe) {
            probe_direction_ = -probe_direction_;
            tried_other_ = true;
            probe = neighbour(settled_.choice, probe_direction_);
        }
        if (!probe) return;  // nothing to tune: serial, or a knob pinned by its limits
        phase_ = phase_id::climbing;
        decide(window, s, *probe,
               fmt::format("climbing: {} holds {}; trying {}", to_string(settled_.choice),
                           detail::rate_text(settled_.throughput), to_string(*probe)));
    }

    /// True when probe `p` should replace the settled choice: faster beyond
    /// tolerance, or tied and quicker, as long as it stays within tolerance of
    /// the best level seen (a chain of ties must not walk downhill).
    bool wins(const sample& p) const noexcept {
        if (faster(p.throughput, settled_.throughput)) return true;
        if (faster(settled_.throughput, p.throughput) || faster(peak_, p.throughput)) return false;
        return quicker(p.latency, settled_.latency);
    }

    void on_climbing(std::size_t window, const sample& s) {
        ++since_exploration_;
        const sample base = settled_;
        if (wins(s)) {
            const std::string verdict = fmt::format(
                "climbing: {} ran {}{}: keep it", to_string(s.choice), versus(s, base),
                faster(s.throughput, base.throughput)
                    ? std::string()
                    : fmt::format(" at lower latency ({} vs {})", detail::latency_text(s.latency),
                                  detail::latency_text(base.latency)));
            settled_ = s;
            peak_ = std::max(peak_, s.throughput);
            gained_ = true;
            direction_ = probe_direction_;
            if (auto next = neighbour(s.choice, probe_direction_)) {
                decide(window, s, *next, fmt::format("{}; trying {}", verdict, to_string(*next)));
                return;
            }
            end_round();
            decide(window, s, s.choice, verdict);
            return;
        }
        const std::string verdict =
            fmt::format("climbing: {} ran {}: no gain", to_string(s.choice), versus(s, base));
        if (!gained_ && !tried_other_) {
            tried_other_ = true;
            probe_direction_ = -probe_direction_;
            if (auto other = neighbour(base.choice, probe_direction_)) {
                decide(window, s, *other, fmt::format("{}; trying {}", verdict, to_string(*other)));
                return;
            }
        }
        end_round();
        decide(window, s, base.choice,
               fmt::format("{}; back to {}", verdict, to_string(base.choice)));
    }

    /// Back to holding the settled choice. A round that gained nothing makes
    /// the next one later and its steps smaller; one that gained resets the
    /// pace and makes the steps bigger again.
    void end_round() {
        phase_ = phase_id::settled;
        held_ = 0;
        if (gained_) {
            // The curve moved under the climb (or the climb was far from its
            // top): allow bigger steps again.
            hold_ = base_hold();
            if (refinement_ > 0) --refinement_;
            return;
        }
        hold_ = std::min(hold_ * 2, max_hold());
        if (can_refine()) ++refinement_;
    }

    adaptive_limits limits_;
    adaptive_choice current_{};
    phase_id phase_ = phase_id::exploring;
    std::size_t windows_ = 0;
    std::vector<adaptive_decision> decisions_;
    std::size_t decision_count_ = 0;
    std::string last_reason_;

    // Exploration: where it is, what it measured, the step to beat, and the
    // settled choice carried over from before it.
    stage_id stage_ = stage_id::serial;
    std::vector<remembered> measured_;  // the steps so far, measured or not
    std::vector<remembered> memory_;    // the steps of the previous exploration
    std::optional<sample> serial_;
    sample rung_base_{};
    std::optional<sample> carried_;

    // Settled: the choice with its smoothed level, the best level since the
    // exploration, and what drives the probes and the re-checks.
    sample settled_{};
    bool settled_once_ = false;
    double peak_ = 0;
    std::size_t since_exploration_ = 0;
    std::size_t held_ = 0;
    std::size_t hold_ = 1;
    unsigned departures_ = 0;
    unsigned refinement_ = 0;  // how many times the climbing steps were halved
    int direction_ = 1;        // +1 up, -1 down: the direction that last paid off
    int probe_direction_ = 1;
    bool gained_ = false;       // the current probe round moved the settled choice
    bool tried_other_ = false;  // the current probe round tried both directions
};

}  // namespace sweet_async

/// The value's name, e.g. "parallel"; takes string format specs such as `{:>8}`.
template <>
struct fmt::formatter<sweet_async::processing_mode>
    : sweet_async::detail::enum_formatter<sweet_async::processing_mode> {};

/// "serial", "parallel(4)", "batched(64)"; accepts string format specs (width, alignment).
template <>
struct fmt::formatter<sweet_async::adaptive_choice> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const sweet_async::adaptive_choice& choice, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(sweet_async::to_string(choice), ctx);
    }
};

/// "window 3: parallel(2) -> parallel(4) (1.99k events/s): exploring: ..."
template <>
struct fmt::formatter<sweet_async::adaptive_decision> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::adaptive_decision& d, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "window {}: {} -> {} ({}): {}", d.window,
                              sweet_async::to_string(d.from), sweet_async::to_string(d.to),
                              sweet_async::detail::rate_text(d.throughput), d.reason);
    }
};

/// "events=120 busy=10ms mean_latency=850ns throughput=12.00k events/s".
template <>
struct fmt::formatter<sweet_async::window_measurement> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::window_measurement& m, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "events={} busy={} mean_latency={} throughput={}",
                              m.events, sweet_async::detail::duration_text(m.busy),
                              sweet_async::detail::duration_text(m.mean_latency),
                              sweet_async::detail::rate_text(m.throughput()));
    }
};

/// "adaptive_limits(workers=1..8, batch_sizes=8..512, can_batch=false,
/// recheck_every=20, tolerance=0.05)".
template <>
struct fmt::formatter<sweet_async::adaptive_limits> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::adaptive_limits& l, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(),
                              "adaptive_limits(workers={}, batch_sizes={}, can_batch={}, "
                              "recheck_every={}, tolerance={})",
                              l.workers, l.batch_sizes, l.can_batch, l.recheck_every, l.tolerance);
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_ADAPTIVE_CONTROLLER_HPP
