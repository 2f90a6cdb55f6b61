// sweet_async/flow/flow_report.hpp: where every event that entered a flow of linked stages ended.
#ifndef SWEET_ASYNC_FLOW_FLOW_REPORT_HPP
#define SWEET_ASYNC_FLOW_FLOW_REPORT_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/link_report.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>

namespace sweet_async {

/// One stage of a flow as its final result tells it: how it ended, its
/// counts, and, when it is linked to next stages, what it forwarded.
struct stage_report {
    std::string name;                           ///< The task's name.
    std::string id;                             ///< The task's id, as text.
    task_status status = task_status::pending;  ///< How the task ended.
    task_stats stats;                           ///< Its final counts.
    std::optional<link_report> links;           ///< What it forwarded (stages that forward only).
    std::string failure;                        ///< Why it failed, when it did.

    /// The stage whose final result is `result` (of any payload and collection).
    template <class T, class Collection, class Id>
    static stage_report of(const final_result<T, Collection, Id>& result) {
        stage_report stage{result.name(),   result.task_id().to_string(),
                           result.status(), result.stats(),
                           std::nullopt,    result.failure()};
        if constexpr (std::is_same_v<Collection, link_report>) stage.links = result.collection();
        return stage;
    }

    /// Its failed and timed-out events that were handed on to the next
    /// stage (`failures_as`) rather than ending here.
    std::size_t failures_handed_on() const noexcept {
        return links ? links->failures_handed_on() : 0;
    }
};

/// The accounting of a flow of linked stages: for every event that entered
/// it, where it ended. Made from the stages' final results, in any order
/// (`flow_report::of(parse_result, enrich_result, store_result)`).
///
/// An event enters a flow when it is sent into one of its stages from
/// outside the flow (what a stage received from another stage of the flow
/// did not enter anew). It ends in exactly one place: a *result* of a stage
/// that forwards nowhere; *failed*, *timed out*, *cancelled* or *dropped* (by
/// its overflow policy) in some stage (a failure handed on by `failures_as` ends further on
/// instead); *not forwarded* by a stage whose next stage refused it or that stopped while waiting
/// for room; or *left* the flow, forwarded to a task that is not one of its stages. Broadcasting
/// (`broadcast_to`) makes *copies*, which end like any event. So `entered() + copies()` is
/// `ended()` for a flow whose stages have all ended (`balanced()`).
///
/// A dead-letter task is not a stage of the flow: the events it receives
/// ended failed or timed out in the stages that failed them (counted there
/// as `dead_lettered` too).
class flow_report {
public:
    /// An empty flow.
    flow_report() = default;

    /// The flow of `stages`, in the order they will be listed.
    explicit flow_report(std::vector<stage_report> stages) : stages_(std::move(stages)) { tally(); }

    /// The flow whose stages ended with `results` (`final_result`s of any types).
    template <class... Results>
    static flow_report of(const Results&... results) {
        return flow_report(std::vector<stage_report>{stage_report::of(results)...});
    }

    /// Its stages, in the order given.
    const std::vector<stage_report>& stages() const noexcept { return stages_; }

    /// Events sent into its stages from outside it.
    std::size_t entered() const noexcept { return entered_; }
    /// Events that fan-out added: a result broadcast to `n` next stages
    /// counts `n - 1` copies.
    std::size_t copies() const noexcept { return copies_; }
    /// Events processed by a stage that forwards nowhere: the flow's results.
    std::size_t results() const noexcept { return results_; }
    /// Events that ended failed in a stage (not handed on).
    std::size_t failed() const noexcept { return failed_; }
    /// Events that ended timed out in a stage (not handed on).
    std::size_t timed_out() const noexcept { return timed_out_; }
    /// Events that ended cancelled in a stage.
    std::size_t cancelled() const noexcept { return cancelled_; }
    /// Events a stage's overflow policy dropped.
    std::size_t dropped() const noexcept { return dropped_; }
    /// Results that a stage could not forward to its next stage.
    std::size_t not_forwarded() const noexcept { return not_forwarded_; }
    /// Results forwarded to tasks that are not stages of this report.
    std::size_t left() const noexcept { return left_; }
    /// Failed and timed-out events handed to the stages' dead-letter targets.
    std::size_t dead_lettered() const noexcept { return dead_lettered_; }

    /// Events with an end, over every place an event can end.
    std::size_t ended() const noexcept {
        return results_ + failed_ + timed_out_ + cancelled_ + dropped_ + not_forwarded_ + left_;
    }

    /// True when every stage is balanced and every event that entered (and
    /// every copy) ended in exactly one place.
    bool balanced() const noexcept {
        return std::all_of(stages_.begin(), stages_.end(),
                           [](const stage_report& s) { return s.stats.balanced(); }) &&
               entered_ + copies_ == ended();
    }

    /// True when every stage completed.
    bool completed() const noexcept {
        return std::all_of(stages_.begin(), stages_.end(), [](const stage_report& s) {
            return s.status == task_status::completed;
        });
    }

private:
    void tally() {
        std::size_t fed = 0;  // sent into a stage by another stage of the flow
        for (const auto& stage : stages_) {
            entered_ += stage.stats.sent;
            cancelled_ += stage.stats.cancelled;
            dropped_ += stage.stats.dropped;
            dead_lettered_ += stage.stats.dead_lettered;
            failed_ += stage.stats.failed;
            timed_out_ += stage.stats.timed_out;
            if (!stage.links) {
                results_ += stage.stats.processed;
                continue;
            }
            const link_report& links = *stage.links;
            failed_ -= links.failed_handed_on;
            timed_out_ -= links.timed_out_handed_on;
            std::size_t handed = 0;
            for (const auto& target : links.targets) {
                handed += target.forwarded + target.not_forwarded;
                not_forwarded_ += target.not_forwarded;
                if (is_stage(target.next_id)) {
                    fed += target.forwarded;
                } else {
                    left_ += target.forwarded;
                }
            }
            const std::size_t sources = stage.stats.processed + links.failures_handed_on();
            if (handed > sources) copies_ += handed - sources;
        }
        entered_ -= std::min(fed, entered_);
    }

    bool is_stage(const std::string& id) const {
        return std::any_of(stages_.begin(), stages_.end(),
                           [&](const stage_report& s) { return s.id == id; });
    }

    std::vector<stage_report> stages_;
    std::size_t entered_ = 0;
    std::size_t copies_ = 0;
    std::size_t results_ = 0;
    std::size_t failed_ = 0;
    std::size_t timed_out_ = 0;
    std::size_t cancelled_ = 0;
    std::size_t dropped_ = 0;
    std::size_t not_forwarded_ = 0;
    std::size_t left_ = 0;
    std::size_t dead_lettered_ = 0;
};

}  // namespace sweet_async

/// "stage 'parse' completed: sent=... elapsed=1.250ms; forwarded 998 to
/// 'enrich', 0 not forwarded", the links only for a stage that forwards,
/// the failure after the status when there is one.
template <>
struct fmt::formatter<sweet_async::stage_report> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::stage_report& s, fmt::format_context& ctx) const {
        std::string text = fmt::format("stage '{}' {}", s.name, s.status);
        if (!s.failure.empty()) text += fmt::format(" ({})", s.failure);
        text += fmt::format(": {}", s.stats);
        if (s.links) text += fmt::format("; {}", *s.links);
        return sweet_async::detail::write_text(ctx, text);
    }
};

/// One line for the whole flow: "flow of 3 stages: entered=1000 results=997
/// failed=2 ('parse' 1, 'enrich' 1) timed_out=0 cancelled=1 ('store' 1)
/// not_forwarded=0", with ` copies=N`, ` dropped=N (...)`, ` left=N` and
/// ` dead_lettered=N` when not zero. A count of events that ended in stages names each stage where
/// some did.
template <>
struct fmt::formatter<sweet_async::flow_report> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::flow_report& f, fmt::format_context& ctx) const {
        using sweet_async::stage_report;
        std::string text =
            fmt::format("flow of {} stages: entered={}", f.stages().size(), f.entered());
        if (f.copies() != 0) text += fmt::format(" copies={}", f.copies());
        text += fmt::format(" results={}", f.results());
        where(text, f, "failed", f.failed(), [](const stage_report& s) {
            return s.stats.failed - (s.links ? s.links->failed_handed_on : 0);
        });
        where(text, f, "timed_out", f.timed_out(), [](const stage_report& s) {
            return s.stats.timed_out - (s.links ? s.links->timed_out_handed_on : 0);
        });
        where(text, f, "cancelled", f.cancelled(),
              [](const stage_report& s) { return s.stats.cancelled; });
        if (f.dropped() != 0) {
            where(text, f, "dropped", f.dropped(),
                  [](const stage_report& s) { return s.stats.dropped; });
        }
        where(text, f, "not_forwarded", f.not_forwarded(),
              [](const stage_report& s) { return s.links ? s.links->not_forwarded() : 0; });
        if (f.left() != 0) text += fmt::format(" left={}", f.left());
        if (f.dead_lettered() != 0) text += fmt::format(" dead_lettered={}", f.dead_lettered());
        return sweet_async::detail::write_text(ctx, text);
    }

private:
    /// " what=total", then " ('a' 2, 'b' 1)" naming the stages where `in_stage` is not zero.
    static void where(std::string& text, const sweet_async::flow_report& f, const char* what,
                      std::size_t total,
                      std::size_t (*in_stage)(const sweet_async::stage_report&)) {
        text += fmt::format(" {}={}", what, total);
        if (total == 0) return;
        const char* separator = " (";
        for (const auto& stage : f.stages()) {
            const std::size_t n = in_stage(stage);
            if (n == 0) continue;
            text += fmt::format("{}'{}' {}", separator, stage.name, n);
            separator = ", ";
        }
        text += ')';
    }
};

#endif  // SWEET_ASYNC_FLOW_FLOW_REPORT_HPP
