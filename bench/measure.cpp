// bench/measure.cpp: repetitions in turns, best-of selection, rows, peak RSS.
#include "measure.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

namespace bench {

namespace {

run_result guarded(const contestant& c) {
    try {
        return c.run();
    } catch (const std::exception& e) {
        return run_result{.problem = fmt::format("threw: {}", e.what())};
    }
}

/// The run to keep: a run with a problem never replaces a clean one.
bool better(const run_result& candidate, const run_result& kept, bool first) {
    if (first) return true;
    if (candidate.problem.empty() != kept.problem.empty()) return candidate.problem.empty();
    return candidate.events_per_second() > kept.events_per_second();
}

}  // namespace

std::vector<measured> round_robin(std::span<const contestant> contestants, unsigned repetitions) {
    std::vector<measured> results(contestants.size());
    for (std::size_t i = 0; i < contestants.size(); ++i)
        results[i].label = contestants[i].label;
    for (unsigned repetition = 0; repetition < repetitions; ++repetition) {
        for (std::size_t i = 0; i < contestants.size(); ++i) {
            const run_result r = guarded(contestants[i]);
            // Progress goes to stderr: stdout carries only the table.
            fmt::print(stderr, "  [{}/{}] {:<44} {:>9} events {:>8.3f}s {:>9} ev/s{}{}\n",
                       repetition + 1, repetitions, contestants[i].label, r.events, r.seconds,
                       si(r.events_per_second()),
                       r.problem.empty() ? "" : "  PROBLEM: ", r.problem);
            results[i].rates.push_back(r.events_per_second());
            if (results[i].problem.empty()) results[i].problem = r.problem;
            if (better(r, results[i].best, repetition == 0)) results[i].best = r;
        }
    }
    return results;
}

const measured& fastest(std::span<const measured* const> candidates) {
    return **std::max_element(candidates.begin(), candidates.end(),
                              [](const measured* a, const measured* b) {
                                  return a->events_per_second() < b->events_per_second();
                              });
}

namespace {

row subject_row(std::string name, const measured& subject) {
    row r;
    r.name = std::move(name);
    r.events = subject.best.events;
    r.seconds = subject.best.seconds;
    r.events_per_second = subject.events_per_second();
    r.note = subject.best.note;
    r.problem = subject.problem;
    if (!subject.rates.empty())
        r.slowest_events_per_second = *std::min_element(subject.rates.begin(), subject.rates.end());
    return r;
}

std::optional<double> ratio_of(double subject, double baseline) {
    if (!(baseline > 0) || !std::isfinite(subject)) return std::nullopt;
    return subject / baseline;
}

/// The median over repetitions of subject / baseline, each pair measured back to back: less
/// sensitive than the ratio of the bests to one lucky run on a busy machine.
std::optional<double> median_paired_ratio(const measured& subject, const measured& baseline) {
    if (subject.rates.size() != baseline.rates.size() || subject.rates.size() < 2) return {};
    std::vector<double> ratios;
    for (std::size_t i = 0; i < subject.rates.size(); ++i) {
        if (!(baseline.rates[i] > 0)) return {};
        ratios.push_back(subject.rates[i] / baseline.rates[i]);
    }
    std::sort(ratios.begin(), ratios.end());
    return quantile(ratios, 0.5);
}

}  // namespace

row compare(std::string name, const measured& subject, const measured& baseline,
            std::optional<double> target, goal direction) {
    row r = subject_row(std::move(name), subject);
    if (const auto paired = median_paired_ratio(subject, baseline))
        r.metrics.push_back({"median_paired_ratio", *paired});
    r.baseline = baseline.label;
    r.baseline_events_per_second = baseline.events_per_second();
    r.ratio = ratio_of(r.events_per_second, baseline.events_per_second());
    r.target = target;
    r.direction = direction;
    if (!baseline.best.problem.empty()) {
        r.problem +=
            fmt::format("{}baseline: {}", r.problem.empty() ? "" : "; ", baseline.best.problem);
    }
    return r;
}

row compare_with_best_fixed(std::string name, const measured& adaptive,
                            std::span<const measured* const> fixed, double target, goal direction) {
    const measured& best = fastest(fixed);
    row r = compare(std::move(name), adaptive, best, target, direction);
    r.baseline = fmt::format("best fixed: {}", best.label);
    for (const measured* f : fixed)
        r.metrics.push_back({fmt::format("{} events/s", f->label), f->events_per_second()});
    return r;
}

row compare_with_ideal(std::string name, const measured& subject, std::string baseline,
                       double ideal_events_per_second, std::optional<double> target,
                       goal direction) {
    row r = subject_row(std::move(name), subject);
    r.baseline = std::move(baseline);
    r.baseline_events_per_second = ideal_events_per_second;
    r.ratio = ratio_of(r.events_per_second, ideal_events_per_second);
    r.target = target;
    r.direction = direction;
    return r;
}

std::uint64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    constexpr std::string_view key = "VmHWM:";
    while (std::getline(status, line)) {
        if (line.compare(0, key.size(), key) != 0) continue;
        // "VmHWM:     12345 kB"
        return std::stoull(line.substr(key.size())) * 1024;
    }
    return 0;
}

double quantile(std::span<const double> sorted, double fraction) {
    if (sorted.empty()) return 0;
    const double rank = std::ceil(fraction * static_cast<double>(sorted.size()));
    const auto index = static_cast<std::size_t>(std::max(rank, 1.0)) - 1;
    return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace bench
