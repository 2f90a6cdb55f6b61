// sweet_async/strategies/impl/adaptive_controller.hpp: how the adaptive controller decides.
#ifndef SWEET_ASYNC_STRATEGIES_IMPL_ADAPTIVE_CONTROLLER_HPP
#define SWEET_ASYNC_STRATEGIES_IMPL_ADAPTIVE_CONTROLLER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/strategies/adaptive_controller.hpp>

namespace sweet_async {

inline adaptive_controller::sample
adaptive_controller::best_of(const std::vector<sample>& candidates, std::string& how) const {
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
    const sample best =
        *std::min_element(quickest.begin(), quickest.end(), [](const sample& a, const sample& b) {
            return simpler(a.choice, b.choice);
        });
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

inline std::string adaptive_controller::versus(const sample& s, const sample& base) const {
    return fmt::format("{}, {:.2f}x {}", detail::rate_text(s.throughput),
                       base.throughput > 0 ? s.throughput / base.throughput : 0.0,
                       to_string(base.choice));
}

inline void adaptive_controller::decide(std::size_t window, const sample& measured,
                                        const adaptive_choice& next, std::string reason) {
    if (!(next == current_)) {
        if (decisions_.size() == decision_log_size) decisions_.erase(decisions_.begin());
        decisions_.push_back({window, current_, next, measured.throughput, reason});
        ++decision_count_;
        current_ = next;
    }
    last_reason_ = std::move(reason);
}

inline std::size_t adaptive_controller::lowest_concurrency() const noexcept {
    return std::max<std::size_t>(limits_.workers.min, 2);
}

inline std::optional<std::size_t> adaptive_controller::doubled(std::size_t value,
                                                               std::size_t max) noexcept {
    const std::size_t next = value > max / 2 ? max : value * 2;
    if (next > value) return next;
    return std::nullopt;
}

inline std::optional<adaptive_choice> adaptive_controller::start_parallel_stage() {
    stage_ = stage_id::parallel;
    if (!parallel_allowed()) return start_batched_stage();
    rung_base_ = *serial_;
    return adaptive_choice::parallel(lowest_concurrency());
}

inline std::optional<adaptive_choice> adaptive_controller::start_batched_stage() {
    stage_ = stage_id::batched;
    if (!limits_.can_batch) return std::nullopt;
    rung_base_ = *serial_;
    return adaptive_choice::batched(limits_.batch_sizes.min);
}

inline std::optional<adaptive_choice> adaptive_controller::advance(const sample& s,
                                                                   std::size_t skipped,
                                                                   std::string_view verb,
                                                                   std::string& note) {
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

inline const adaptive_controller::remembered*
adaptive_controller::recall(const adaptive_choice& choice) const noexcept {
    for (const remembered& r : memory_) {
        if (r.figures.choice == choice) return &r;
    }
    return nullptr;
}

inline bool adaptive_controller::may_skip(const remembered& r) const noexcept {
    if (!slower_than_settled(r)) return false;
    const auto slower = static_cast<double>(
        std::count_if(memory_.begin(), memory_.end(),
                      [this](const remembered& m) { return slower_than_settled(m); }));
    return static_cast<double>(r.skipped + 1) < slower * settled_.throughput / r.figures.throughput;
}

inline bool adaptive_controller::slower_than_settled(const remembered& r) const noexcept {
    return faster(settled_.throughput, r.figures.throughput);
}

inline std::optional<adaptive_choice>
adaptive_controller::skip_known(std::optional<adaptive_choice> next, std::string& note) {
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

inline void adaptive_controller::begin_exploration(std::size_t window, const sample& s,
                                                   const sample& known, bool changed,
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

inline void adaptive_controller::on_exploring(std::size_t window, const sample& s) {
    std::string note;
    auto next = skip_known(advance(s, 0, "ran", note), note);
    if (next) {
        decide(window, s, *next, fmt::format("exploring: {}; trying {}", note, to_string(*next)));
        return;
    }
    finish_exploration(window, s, fmt::format("exploring: {}", note));
}

inline void adaptive_controller::finish_exploration(std::size_t window, const sample& s,
                                                    const std::string& prefix) {
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

inline void adaptive_controller::settle(const sample& best, bool confirmed) {
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

inline std::size_t adaptive_controller::base_hold() const noexcept {
    return std::max<std::size_t>(1, limits_.recheck_every / 4);
}

inline std::size_t adaptive_controller::max_hold() const noexcept {
    return std::max(base_hold(), limits_.recheck_every / 2);
}

inline std::size_t adaptive_controller::step(std::size_t full) const noexcept {
    const std::size_t refined = refinement_ < 64 ? full >> refinement_ : 0;
    return std::max<std::size_t>(1, refined);
}

inline std::optional<adaptive_choice> adaptive_controller::neighbour(const adaptive_choice& choice,
                                                                     int direction) const {
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

inline bool adaptive_controller::can_refine() const noexcept {
    const adaptive_choice& c = settled_.choice;
    if (c.mode == processing_mode::parallel) return step(c.concurrency / 4) > 1;
    if (c.mode == processing_mode::batched) return step(c.batch_size) > 1;
    return false;
}

inline bool adaptive_controller::departs(double throughput) const noexcept {
    const double band = std::min(0.9, std::max(0.4, 5 * limits_.tolerance));
    const double ratio = throughput / settled_.throughput;
    return ratio < 1.0 - band || ratio > 2.0 / (1.0 - band);
}

inline void adaptive_controller::on_settled(std::size_t window, const sample& s) {
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

inline bool adaptive_controller::wins(const sample& p) const noexcept {
    if (faster(p.throughput, settled_.throughput)) return true;
    if (faster(settled_.throughput, p.throughput) || faster(peak_, p.throughput)) return false;
    return quicker(p.latency, settled_.latency);
}

inline void adaptive_controller::on_climbing(std::size_t window, const sample& s) {
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
    decide(window, s, base.choice, fmt::format("{}; back to {}", verdict, to_string(base.choice)));
}

inline void adaptive_controller::end_round() {
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

}  // namespace sweet_async

#endif  // SWEET_ASYNC_STRATEGIES_IMPL_ADAPTIVE_CONTROLLER_HPP
