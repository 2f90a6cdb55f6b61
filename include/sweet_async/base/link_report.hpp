// sweet_async/base/link_report.hpp: what a linked stage did with its results.
#ifndef SWEET_ASYNC_BASE_LINK_REPORT_HPP
#define SWEET_ASYNC_BASE_LINK_REPORT_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// What one link did with the results it was given for one next stage.
struct link_target {
    std::string next;               ///< The name of the task fed.
    std::string next_id;            ///< The id of the task fed, as text.
    std::size_t forwarded = 0;      ///< Values sent as its events.
    std::size_t not_forwarded = 0;  ///< Values it did not take (see `link_report`).
    /// The result of this task's final event went as its final event.
    bool final_forwarded = false;
};

/// What a linked stage did with its results: the collection in the final
/// result of a task whose collector is `forward_to`, `broadcast_to` or
/// `route_to`. Each result handed to a next stage is forwarded, as one of
/// its events, or not (it had closed, or this stage was cancelled
/// `immediate` or reached its deadline while waiting for room). With one
/// next stage, or routing, `forwarded() + not_forwarded()` is the task's
/// `processed` count plus `failures_handed_on()`; broadcasting hands each to
/// every next stage.
struct link_report {
    std::vector<link_target> targets;  ///< One per next stage, in the order given.
    /// Events of this task that failed and were handed on all the same, as
    /// the values `failures_as` made of them (once each, however many next
    /// stages they went to). They are counted failed in this task's stats,
    /// and end in the next stage.
    std::size_t failed_handed_on = 0;
    /// Events of this task that timed out and were handed on, as for `failed_handed_on`.
    std::size_t timed_out_handed_on = 0;

    /// Failed and timed-out events handed on.
    std::size_t failures_handed_on() const noexcept {
        return failed_handed_on + timed_out_handed_on;
    }

    /// Results forwarded, over all next stages.
    std::size_t forwarded() const noexcept {
        std::size_t n = 0;
        for (const auto& t : targets)
            n += t.forwarded;
        return n;
    }
    /// Results not forwarded, over all next stages.
    std::size_t not_forwarded() const noexcept {
        std::size_t n = 0;
        for (const auto& t : targets)
            n += t.not_forwarded;
        return n;
    }
};

}  // namespace sweet_async

/// `forwarded 998 to 'store', 2 not forwarded`, with `, final event forwarded`
/// when it was; one such part per next stage, joined by `; `; then
/// ` (3 of them failures handed on)` when some were.
template <>
struct fmt::formatter<sweet_async::link_report> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::link_report& r, fmt::format_context& ctx) const {
        std::string text;
        const char* separator = "";
        for (const auto& t : r.targets) {
            text += fmt::format("{}forwarded {} to '{}', {} not forwarded{}", separator,
                                t.forwarded, t.next, t.not_forwarded,
                                t.final_forwarded ? ", final event forwarded" : "");
            separator = "; ";
        }
        if (r.failures_handed_on() != 0)
            text += fmt::format(" ({} of them failures handed on)", r.failures_handed_on());
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_BASE_LINK_REPORT_HPP
