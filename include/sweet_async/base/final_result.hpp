// sweet_async/base/final_result.hpp: what a finished emitting task hands back.
#ifndef SWEET_ASYNC_BASE_FINAL_RESULT_HPP
#define SWEET_ASYNC_BASE_FINAL_RESULT_HPP

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/strategy_report.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>

namespace sweet_async {

/// A collection that keeps an aggregate (such as `fold_collection`).
template <class Collection>
concept aggregating_collection = requires(const Collection& c) {
    typename Collection::aggregate_type;
    c.aggregate();
};

/// The end of an emitting task: how it ended, the final event (if the stream
/// was ended by one), every result in the collection, the events that did
/// not end `processed` in `errors()` (up to the task's retention limit; the
/// rest counted in `errors_not_retained()`), and the statistics. Together
/// they account for every event that was sent.
template <class T, class Collection, task_id Id = uuid>
class final_result {
public:
    using event_type = event<T, Id>;     ///< The type of the final event.
    using collection_type = Collection;  ///< What the collector handed out.

    /// An empty result (status `pending`), for code that needs a default
    /// value, such as `asio::co_spawn` with `asio::use_future`.
    final_result() requires std::default_initializable<Id> && std::default_initializable<Collection>
    = default;

    /// A result with every part given; the library makes these when a task ends.
    final_result(Id task, std::string name, task_status status,
                 std::optional<event_type> final_event, Collection collection,
                 std::vector<event_error> errors, task_stats stats,
                 sweet_async::strategy_report report = {}, std::size_t errors_not_retained = 0,
                 std::string failure = {})
        : task_id_(std::move(task)),
          name_(std::move(name)),
          status_(status),
          final_event_(std::move(final_event)),
          collection_(std::move(collection)),
          errors_(std::move(errors)),
          errors_not_retained_(errors_not_retained),
          stats_(stats),
          report_(std::move(report)),
          failure_(std::move(failure)) {}

    /// The id of the task this is the result of.
    const Id& task_id() const noexcept { return task_id_; }
    /// The task's name, as given to the builder.
    const std::string& name() const noexcept { return name_; }
    /// `completed`, `cancelled`, `timed_out` or `failed`.
    task_status status() const noexcept { return status_; }

    /// Why the task failed, when `status()` is `failed`: what the strategy,
    /// the stream processor or an emitter threw ("emitter 1 of 2 threw:
    /// ..."), or that the strategy returned before the stream ended. Empty
    /// otherwise. The events are accounted for all the same.
    const std::string& failure() const noexcept { return failure_; }

    /// The event that ended the stream (final, error or cancellation), with
    /// its processing timestamps; empty when the stream ended by `close()` or
    /// by cancellation.
    const std::optional<event_type>& final_event() const noexcept { return final_event_; }

    /// What the collector made of the results: for the default collector,
    /// every result keyed by the id of the event it came from.
    const Collection& collection() const& noexcept { return collection_; }
    /// Moves the collection out of an expiring result.
    Collection collection() && { return std::move(collection_); }

    /// The aggregate, for collectors that keep one (e.g. `fold_collector`).
    decltype(auto) result() const noexcept requires aggregating_collection<Collection> {
        return collection_.aggregate();
    }

    /// The events that ended failed, timed out, cancelled or dropped, with
    /// reasons, in the order they ended (dropped ones last): the first ones
    /// up to the task's `retain_errors` limit (1000 by default).
    std::span<const event_error> errors() const noexcept { return errors_; }

    /// Events that ended failed, timed out, cancelled or dropped beyond the
    /// retention limit: counted in `stats()`, not listed in `errors()`. So
    /// `errors().size() + errors_not_retained()` is
    /// `stats().failed + stats().timed_out + stats().cancelled + stats().dropped`.
    std::size_t errors_not_retained() const noexcept { return errors_not_retained_; }

    /// The final counts; `stats().balanced()` holds.
    const task_stats& stats() const noexcept { return stats_; }

    /// What the strategy ended on and the decisions it made on the way.
    const sweet_async::strategy_report& strategy_report() const noexcept { return report_; }

private:
    Id task_id_{};
    std::string name_;
    task_status status_ = task_status::pending;
    std::optional<event_type> final_event_;
    Collection collection_;
    std::vector<event_error> errors_;
    std::size_t errors_not_retained_ = 0;
    task_stats stats_;
    sweet_async::strategy_report report_;
    std::string failure_;
};

namespace detail {

/// The text of a final result (see its formatter): one function for every
/// payload, collection and id type.
inline std::string final_result_text(std::string_view name, task_status status,
                                     std::string_view failure, const task_stats& stats,
                                     std::size_t errors_not_retained) {
    std::string text = fmt::format("task '{}' {}", name, status);
    if (!failure.empty()) text += fmt::format(" ({})", failure);
    text += fmt::format(": {}", stats);
    if (errors_not_retained != 0)
        text += fmt::format(" ({} errors not retained)", errors_not_retained);
    return text;
}

}  // namespace detail
}  // namespace sweet_async

/// "task '<name>' <status>: <stats>", e.g.
/// "task 'word-lengths' completed: sent=4 processed=4 failed=0 ...", with
/// the failure after the status when there is one ("task 'ingest' failed
/// (emitter 1 of 1 threw: disk gone): sent=..."), and " (<n> errors not
/// retained)" when the retention limit was reached.
template <class T, class Collection, class Id>
struct fmt::formatter<sweet_async::final_result<T, Collection, Id>>
    : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::final_result<T, Collection, Id>& result,
                fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx,
            sweet_async::detail::final_result_text(result.name(), result.status(), result.failure(),
                                                   result.stats(), result.errors_not_retained()));
    }
};

#endif  // SWEET_ASYNC_BASE_FINAL_RESULT_HPP
