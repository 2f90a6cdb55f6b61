// sweet_async/receiver/detail/ledger.hpp: where every event of an emitting task ends, once.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_LEDGER_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_LEDGER_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/base/strategy_report.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/receiver/detail/outcome_counts.hpp>

namespace sweet_async::detail {

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
/// An event that failed or timed out is also handed, as a `dead_letter`
/// with its payload, to the task's dead-letter target if it has one, and to
/// a collector that hands failures on to the next stage (`failures_as`).
///
/// Made by the task's consumer; used on the consumer strand only.
template <class T, class Collection, class Id, class Collector>
class ledger {
public:
    using event_type = event<T, Id>;  ///< What it records.
    /// Where dead letters go (empty: nowhere). Called on the consumer strand.
    using dead_letter_sink = std::function<void(dead_letter<T>&&)>;

    /// Counts into `counts` (the task's live stats), results into `collector`,
    /// at most `retained_errors` errors in full, and dead letters into
    /// `dead_letters`.
    ledger(outcome_counts& counts, Collector collector, std::size_t retained_errors,
           dead_letter_sink dead_letters = {})
        : counts_(counts),
          collector_(std::move(collector)),
          retained_limit_(retained_errors),
          dead_letters_(std::move(dead_letters)) {}

    ledger(const ledger&) = delete;
    ledger& operator=(const ledger&) = delete;

    /// `e` ended processed: `result` goes to the collector under its id.
    /// A collector that feeds another task (`forwarding_collector`) is told
    /// which result is the final event's, to keep it final downstream.
    template <class Result>
    void processed(event_type&& e, Result&& result) {
        if constexpr (requires {
                          collector_.collect_final(e.id(), std::forward<Result>(result));
                      }) {
            if (e.is_final()) {
                collector_.collect_final(e.id(), std::forward<Result>(result));
            } else {
                collector_.collect(e.id(), std::forward<Result>(result));
            }
        } else {
            collector_.collect(e.id(), std::forward<Result>(result));
        }
        counts_.add(outcome::processed);
        tell_watcher(e, outcome::processed);
        keep_if_final(std::move(e));
    }

    /// `e` ended processed with nothing to collect (a stream processor's
    /// `complete_without_result`).
    void processed_without_result(event_type&& e) {
        counts_.add(outcome::processed);
        tell_watcher(e, outcome::processed);
        keep_if_final(std::move(e));
    }

    /// `e` ended `kind` (failed, timed out or cancelled) after `attempts`
    /// attempts, for the reason `message`.
    void unprocessed(event_type&& e, outcome kind, std::string message, unsigned attempts) {
        if (kind != outcome::cancelled) hand_on_failure(e, kind, message, attempts);
        if (retains_errors()) {
            errors_.push_back(
                event_error{e.id(), e.sequence(), kind, std::move(message), attempts});
        } else {
            ++errors_not_retained_;
        }
        counts_.add(kind);
        tell_watcher(e, kind);
        keep_if_final(std::move(e));
    }

    /// Records the events the channel's overflow policy `policy` dropped:
    /// their ids, and how many more were dropped whose ids were not kept.
    /// Counted by the channel already (`task_stats::dropped`); listed in the
    /// errors, after the others, within the retention limit.
    void record_dropped(const std::pair<std::vector<uuid>, std::size_t>& dropped,
                        overflow_policy policy) {
        for (const uuid& id : dropped.first) {
            if (!retains_errors()) {
                ++errors_not_retained_;
                continue;
            }
            errors_.push_back(event_error{id, event_error::not_received, outcome::dropped,
                                          fmt::format("the channel was full ({})", policy), 0});
        }
        errors_not_retained_ += dropped.second;
    }

    /// Who hears of each outcome as it is recorded: `(sequence, kind)`, for a
    /// strategy that must know which events ended (`per_key`); empty for none.
    using watcher = std::function<void(std::uint64_t, outcome)>;

    /// Where the watcher is kept: a strategy sets it for as long as it runs.
    watcher& outcome_watcher() noexcept { return watcher_; }

    /// The outboxes of a collector that feeds other tasks, for the consumer
    /// to manage (none for other collectors).
    std::vector<std::shared_ptr<outbox_base>> outboxes() const {
        if constexpr (requires { collector_.outboxes(); }) {
            return collector_.outboxes();
        } else {
            return {};
        }
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
    /// Whether the collector hands failed events on (`forwarding_collector::failures_as`).
    static constexpr bool collector_takes_failures =
        requires(Collector & c, dead_letter<T>&& letter) {
        c.collect_failure(std::move(letter), true);
    };

    /// Hands the failed or timed-out `e`, as a dead letter (its error and
    /// payload), to those that take failures: the dead-letter target, and a
    /// collector that hands failures on, which gets the payload itself while
    /// the dead-letter target gets a copy (none when it cannot be copied).
    /// The final event stays whole in the final result, so its payload goes
    /// as a copy. One that throws loses nothing: the event's outcome stands,
    /// the letter is just not counted.
    void hand_on_failure(event_type& e, outcome kind, const std::string& message,
                         unsigned attempts) {
        if (!collector_takes_failures && !dead_letters_) return;
        dead_letter<T> letter{event_error{e.id(), e.sequence(), kind, message, attempts},
                              std::nullopt};
        if (!e.is_final()) {
            letter.payload.emplace(std::move(e.payload()));
        } else if constexpr (std::is_copy_constructible_v<T>) {
            letter.payload.emplace(e.payload());
        }
        if constexpr (collector_takes_failures) {
            if (dead_letters_) send_dead_letter(copy_of(letter));
            try {
                collector_.collect_failure(std::move(letter), e.is_final());
            } catch (...) {
            }
        } else {
            send_dead_letter(std::move(letter));
        }
    }

    void send_dead_letter(dead_letter<T>&& letter) {
        try {
            dead_letters_(std::move(letter));
            counts_.add_dead_letter();
        } catch (...) {
        }
    }

    static dead_letter<T> copy_of(const dead_letter<T>& letter) {
        dead_letter<T> copy{letter.error, std::nullopt};
        if constexpr (std::is_copy_constructible_v<T>) copy.payload = letter.payload;
        return copy;
    }

    void tell_watcher(const event_type& e, outcome kind) {
        if (watcher_) watcher_(e.sequence(), kind);
    }

    void keep_if_final(event_type&& e) {
        if (e.is_final()) final_event_.emplace(std::move(e));
    }

    outcome_counts& counts_;
    Collector collector_;
    std::vector<event_error> errors_;
    std::size_t retained_limit_;
    std::size_t errors_not_retained_ = 0;
    std::optional<event_type> final_event_;
    dead_letter_sink dead_letters_;
    watcher watcher_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_LEDGER_HPP
