// sweet_async/strategies/adaptive_controller.hpp: the decisions of the adaptive strategy.
#ifndef SWEET_ASYNC_STRATEGIES_ADAPTIVE_CONTROLLER_HPP
#define SWEET_ASYNC_STRATEGIES_ADAPTIVE_CONTROLLER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sweet_async/strategies/adaptive_choice.hpp>

namespace sweet_async {

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
    sample best_of(const std::vector<sample>& candidates, std::string& how) const;

    /// "1.99k events/s, 2.00x serial"
    std::string versus(const sample& s, const sample& base) const;

    // --- decisions --------------------------------------------------------------------------

    /// Makes `next` current; logs it when it is a change.
    void decide(std::size_t window, const sample& measured, const adaptive_choice& next,
                std::string reason);

    // --- exploring --------------------------------------------------------------------------

    /// Lowest concurrency parallel is tried with: parallel(1) is serial with
    /// extra dispatch cost, so it is never worth measuring.
    std::size_t lowest_concurrency() const noexcept;
    bool parallel_allowed() const noexcept { return limits_.workers.max >= 2; }

    /// `value` doubled within `max`, if that moves it.
    static std::optional<std::size_t> doubled(std::size_t value, std::size_t max) noexcept;

    std::optional<adaptive_choice> start_parallel_stage();

    std::optional<adaptive_choice> start_batched_stage();

    /// Records `s` as the figures of the current step (`skipped` counts the
    /// re-checks in a row that took them from memory) and returns the next
    /// choice to measure, if any; appends what it saw to `note` ("serial ran
    /// ...", `verb` being how the figures were obtained; nothing if it is empty).
    std::optional<adaptive_choice> advance(const sample& s, std::size_t skipped,
                                           std::string_view verb, std::string& note);

    /// What the previous exploration found for `choice`, if it was a step of it.
    const remembered* recall(const adaptive_choice& choice) const noexcept;

    /// True when a periodic re-check may take `r` from memory instead of
    /// running it. A window costs time in inverse proportion to its
    /// throughput: with n steps slower than the settled level, one that ran
    /// at 1/k of it is measured on every (n x k)-th re-check only, so that on
    /// average all of them together cost about one settled window's time per
    /// re-check. Without this, a re-check of a choice a hundred times slower
    /// would cost a hundred windows' time, and a long ladder of slower steps
    /// a window each. Steps about as fast as the settled choice are always
    /// measured.
    bool may_skip(const remembered& r) const noexcept;

    bool slower_than_settled(const remembered& r) const noexcept;

    /// Moves past the steps that need no window: the settled choice (its
    /// figures are current) and, in a periodic re-check, steps taken from memory.
    std::optional<adaptive_choice> skip_known(std::optional<adaptive_choice> next,
                                              std::string& note);

    /// Starts an exploration after window `window` (which measured `s`); `known`
    /// is the settled choice with its latest figures, which competes without
    /// being measured again. When the workload `changed`, what the last
    /// exploration found is stale: every step is measured.
    void begin_exploration(std::size_t window, const sample& s, const sample& known, bool changed,
                           const std::string& why);

    void on_exploring(std::size_t window, const sample& s);

    void finish_exploration(std::size_t window, const sample& s, const std::string& prefix);

    /// Settles on `best`. When the exploration `confirmed` the previous choice,
    /// the climb keeps its step sizes and pace: they were learnt on it.
    void settle(const sample& best, bool confirmed);

    // --- settled and climbing ----------------------------------------------------------------

    /// Settled windows before the first probe round (and after a round that gained).
    std::size_t base_hold() const noexcept;
    /// The longest wait between probe rounds: a round that keeps failing costs
    /// throughput, but a re-check must leave room for at least one round.
    std::size_t max_hold() const noexcept;

    /// A climbing step whose unrefined size is `full`: halved once per
    /// refinement, never below 1.
    std::size_t step(std::size_t full) const noexcept;

    /// The neighbour of `choice` one step in `direction` (+1 up, -1 down), if
    /// the limits leave room for one.
    std::optional<adaptive_choice> neighbour(const adaptive_choice& choice, int direction) const;

    /// True when smaller climbing steps remain possible on the settled choice.
    bool can_refine() const noexcept;

    /// True when a window departs from the settled level by more than noise
    /// and a climbing step could explain: the workload changed. The band is
    /// wide on purpose: on a shared machine a third up or down is ordinary
    /// noise, while a change of workload shape moves throughput by factors
    /// (and the periodic re-check catches subtler changes).
    bool departs(double throughput) const noexcept;

    void on_settled(std::size_t window, const sample& s);

    /// True when probe `p` should replace the settled choice: faster beyond
    /// tolerance, or tied and quicker, as long as it stays within tolerance of
    /// the best level seen (a chain of ties must not walk downhill).
    bool wins(const sample& p) const noexcept;

    void on_climbing(std::size_t window, const sample& s);

    /// Back to holding the settled choice. A round that gained nothing makes
    /// the next one later and its steps smaller; one that gained resets the
    /// pace and makes the steps bigger again.
    void end_round();

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

#include <sweet_async/strategies/impl/adaptive_controller.hpp>

#endif  // SWEET_ASYNC_STRATEGIES_ADAPTIVE_CONTROLLER_HPP
