// sweet_async/ledger.hpp: where every event of an emitting task ends, once.
#ifndef SWEET_ASYNC_LEDGER_HPP
#define SWEET_ASYNC_LEDGER_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sweet_async/detail/outcome_counts.hpp>
#include <sweet_async/event.hpp>
#include <sweet_async/final_result.hpp>
#include <sweet_async/outcome.hpp>
#include <sweet_async/strategy_report.hpp>
#include <sweet_async/task_stats.hpp>
#include <sweet_async/task_status.hpp>

namespace sweet_async {

/// The one owner of a task's outcomes: each event is recorded here exactly
/// once, as a result for the collector or as an error, and counted for the
/// live stats; the event that ended the stream is kept whole, whatever its
/// outcome. At the end it becomes the task's `final_result`.
///
/// Errors are retained in full up to a limit (the builder's
/// `retain_errors`), the first ones to end; beyond it only their number is
/// kept, so a stream that fails forever runs in bounded memory. The counts
/// stay exact either way.
///
/// Made by the task's consumer; used on the consumer strand only.
template <class T, class Collection, class Id, class Collector>
class ledger {
public:
    using event_type = event<T, Id>;  ///< What it records.

    /// Counts into `counts` (the task's live stats), results into `collector`,
    /// and at most `retained_errors` errors in full.
    ledger(detail::outcome_counts& counts, Collector collector, std::size_t retained_errors)
        : counts_(counts),
          collector_(std::move(collector)),
          retained_limit_(retained_errors) {}

    ledger(const ledger&) = delete;
    ledger& operator=(const ledger&) = delete;

    /// `e` ended processed: `result` goes to the collector under its id.
    template <class Result>
    void processed(event_type&& e, Result&& result) {
        collector_.collect(e.id(), std::forward<Result>(result));
        counts_.add(outcome::processed);
        keep_if_final(std::move(e));
    }

    /// `e` ended processed with nothing to collect (a stream processor's
    /// `complete_without_result`).
    void processed_without_result(event_type&& e) {
        counts_.add(outcome::processed);
        keep_if_final(std::move(e));
    }

    /// `e` ended `kind` (failed, timed out or cancelled) after `attempts`
    /// attempts, for the reason `message`.
    void unprocessed(event_type&& e, outcome kind, std::string message, unsigned attempts) {
        if (retains_errors()) {
            errors_.push_back(
                event_error{e.id(), e.sequence(), kind, std::move(message), attempts});
        } else {
            ++errors_not_retained_;
        }
        counts_.add(kind);
        keep_if_final(std::move(e));
    }

    /// False once the retention limit is reached: a message made now would
    /// be dropped unread.
    bool retains_errors() const noexcept { return errors_.size() < retained_limit_; }

    /// The task's end: every recorded outcome, as its final result;
    /// `failure` says why a `failed` task failed.
    final_result<T, Collection, Id> close(Id task, std::string name, task_status status,
                                          task_stats stats, strategy_report report,
                                          std::string failure = {}) && {
        return final_result<T, Collection, Id>(
            std::move(task), std::move(name), status, std::move(final_event_),
            std::move(collector_).collection(), std::move(errors_), stats, std::move(report),
            errors_not_retained_, std::move(failure));
    }

private:
    void keep_if_final(event_type&& e) {
        if (e.is_final()) final_event_.emplace(std::move(e));
    }

    detail::outcome_counts& counts_;
    Collector collector_;
    std::vector<event_error> errors_;
    std::size_t retained_limit_;
    std::size_t errors_not_retained_ = 0;
    std::optional<event_type> final_event_;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_LEDGER_HPP
