// sweet_async/flow/forwarding_collector.hpp: results that become the events of the next stages.
#ifndef SWEET_ASYNC_FLOW_FORWARDING_COLLECTOR_HPP
#define SWEET_ASYNC_FLOW_FORWARDING_COLLECTOR_HPP

#include <sweet_async/config.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/base/link_report.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/task/emitting_task.hpp>
#include <sweet_async/task/sender.hpp>

namespace sweet_async {

namespace detail {

/// Every result to the one next stage.
struct to_one {
    template <class R>
    std::size_t operator()(const R&) const noexcept {
        return 0;
    }
};

/// Every result to every next stage.
struct to_all {};

/// Each result to the next stage `key(result) % stages`.
template <class Key>
struct by_key {
    Key key;

    template <class R>
    std::size_t operator()(const R& result) const {
        return static_cast<std::size_t>(std::invoke(key, result));
    }
};

/// Failed events stay where they failed (a link's default).
struct failures_stay {};

}  // namespace detail

/// The collector of a linked stage: each result is sent into the channel of
/// a next task (one, each of several, or one chosen by key), as an event,
/// without suspending while it has room. When it is full, the result waits
/// and this task stops taking events off its own channel until there is
/// room, so a flow holds at most its channels' capacities and its work in
/// flight, whatever the source's pace.
///
/// A forwarded event keeps its id: the id a send into the first stage
/// returned finds the event's result, error or dead letter in whichever
/// stage it ended (in a diamond, broadcast and then merged, both copies
/// reach the merging stage with the one id).
///
/// Completion propagates: when this task ends (a final event, `close`, a
/// cancel, the deadline, a failure), each next task's stream ends after
/// what was forwarded, as TPL Dataflow's `PropagateCompletion` does, unless
/// other tasks still feed it (fan-in: its last feeder to end ends it). The
/// result of this task's final event is sent last, as the next task's final
/// event (an ordinary one where other feeders remain).
///
/// Events that fail here (after their retries) or time out are, by
/// default, not forwarded: they are in this task's `errors()` and go to its
/// dead-letter target, if it has one. `failures_as(f)` hands them on
/// instead, as the values `f` makes of their dead letters, so that the next
/// stage sees every event (Akka Streams' `recover`). Made by `forward_to`,
/// `broadcast_to` and `route_to`; each task built with it gets its own
/// hand-offs, made when it starts.
template <class R, class Target, class Route = detail::to_one,
          class Recover = detail::failures_stay>
class forwarding_collector {
    using outbox_type = detail::outbox<R, typename Target::task_id_type>;
    static constexpr bool broadcasts = std::is_same_v<Route, detail::to_all>;
    static constexpr bool recovers = !std::is_same_v<Recover, detail::failures_stay>;
    /// Each outbox gets every result (not so when routing by key).
    static constexpr bool every_result = broadcasts || std::is_same_v<Route, detail::to_one>;
    static_assert(!broadcasts || std::is_copy_constructible_v<R>,
                  "sweet_async: broadcast_to copies each result: it must be copyable");

public:
    using value_type = R;                 ///< What it forwards.
    using collection_type = link_report;  ///< What `collection()` hands out.

    /// Forwards into the tasks `targets` send to, by `route`; failed events
    /// are handed on as `recover` makes them, if it is given.
    forwarding_collector(std::vector<Target> targets, Route route = {}, Recover recover = {})
        : targets_(std::move(targets)),
          route_(std::move(route)),
          recover_(std::move(recover)) {}

    /// The same link, handing failed and timed-out events on as well: each
    /// one's `sa::dead_letter<T>` (its error and payload) becomes the value
    /// `recover` returns, forwarded under the event's id like a result (a
    /// failed final event's value goes as the next final event). The event
    /// stays failed or timed out in this task's accounting and is counted
    /// in `link_report::failures_handed_on()`. Use it when the next stage must
    /// see every event, for example to write each input's outcome; `R` then
    /// usually says which it is (an `std::expected`-like type, or a record
    /// with an error field). Cancelled events are never handed on. A
    /// `recover` that throws hands nothing on: the event's outcome stands.
    ///
    /// ```cpp
    /// .collector(sa::forward_to(store).failures_as([](sa::dead_letter<std::string>&& bad) {
    ///     return row{.error = bad.error.message};
    /// }))
    /// ```
    template <class F>
    [[nodiscard]] forwarding_collector<R, Target, Route, F> failures_as(F recover) const {
        return {targets_, route_, std::move(recover)};
    }

    /// Forwards `value`, the result of the event `key`, as an event of the
    /// next stage with the same id (the library calls it; see the class
    /// comment).
    void collect(const uuid& key, R value) { hand_on(key, std::move(value), &outbox_type::push); }

    /// Keeps the final event's result, `value`, to be forwarded last.
    void collect_final(const uuid& key, R value) {
        hand_on(key, std::move(value), &outbox_type::hold_final);
    }

    /// Hands on the failed event of `letter` as the value `failures_as`
    /// makes of it (the library calls it; only with `failures_as`).
    template <class T>
    requires recovers void collect_failure(dead_letter<T>&& letter, bool final_event) {
        static_assert(std::is_invocable_r_v<R, Recover&, dead_letter<T>&&>,
                      "sweet_async: failures_as takes a function R(sweet_async::dead_letter<T>&&) "
                      "(T: this task's payload, R: the next stage's)");
        const uuid key = letter.error.event_id;
        const bool timed_out = letter.error.kind == outcome::timed_out;
        R value = std::invoke(recover_, std::move(letter));
        hand_on(key, std::move(value), final_event ? &outbox_type::hold_final : &outbox_type::push);
        ++(timed_out ? timed_out_handed_on_ : failed_handed_on_);
    }

    /// Results forwarded so far.
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const auto& box : boxes_)
            n += box->counts().delivered;
        return n;
    }

    /// Makes this task's hand-offs, and counts it among its next tasks'
    /// feeders (the library calls it when the task starts).
    void open() {
        boxes_.clear();
        for (const auto& target : targets_)
            boxes_.push_back(std::make_shared<outbox_type>(target.inlet(), true, every_result));
    }

    /// The hand-offs, for the task's consumer to manage (the library's).
    std::vector<std::shared_ptr<detail::outbox_base>> outboxes() const {
        return {boxes_.begin(), boxes_.end()};
    }

    /// What was forwarded to each next stage and what was not.
    link_report collection() && {
        link_report report;
        for (std::size_t i = 0; i < targets_.size(); ++i) {
            const detail::delivery_counts counts =
                i < boxes_.size() ? boxes_[i]->counts() : detail::delivery_counts{};
            report.targets.push_back(
                link_target{targets_[i].task_name(), targets_[i].task_id().to_string(),
                            counts.delivered, counts.undelivered, counts.final_delivered});
        }
        report.failed_handed_on = failed_handed_on_;
        report.timed_out_handed_on = timed_out_handed_on_;
        return report;
    }

    /// How it links, for tracing: ``forward_to('store')``,
    /// ``broadcast_to('a', 'b')`` or ``route_to('a', 'b')``, followed by
    /// `.failures_as(...)` when it hands failures on.
    std::string describe() const {
        const char* how = broadcasts                              ? "broadcast_to"
                          : std::is_same_v<Route, detail::to_one> ? "forward_to"
                                                                  : "route_to";
        std::string text = fmt::format("{}(", how);
        const char* separator = "";
        for (const auto& target : targets_) {
            text += fmt::format("{}'{}'", separator, target.task_name());
            separator = ", ";
        }
        text += recovers ? ").failures_as(...)" : ")";
        return text;
    }

private:
    /// Gives `value` to the outbox of each next stage it goes to, through
    /// `step` (`push` or `hold_final`); broadcasting copies it to all but the last.
    template <class Step>
    void hand_on(const uuid& key, R&& value, Step step) {
        if constexpr (broadcasts) {
            for (std::size_t i = 0; i + 1 < boxes_.size(); ++i)
                ((*boxes_[i]).*step)(R(value), key);
            ((*boxes_.back()).*step)(std::move(value), key);
        } else {
            (box_for(value).*step)(std::move(value), key);
        }
    }

    outbox_type& box_for(const R& value) { return *boxes_[route_(value) % boxes_.size()]; }

    std::vector<Target> targets_;
    Route route_;
    Recover recover_;
    std::vector<std::shared_ptr<outbox_type>> boxes_;
    std::size_t failed_handed_on_ = 0;
    std::size_t timed_out_handed_on_ = 0;
};

namespace detail {

/// The sender of an emitting task, or a sender as it is.
template <class U, task_id Id>
sender<U, Id> sender_of(const sender<U, Id>& s) {
    return s;
}
template <class U, class Collection, task_id Id>
sender<U, Id> sender_of(const emitting_task<U, Collection, Id>& task) {
    return task.get_sender();
}

template <class Next>
using sender_of_t = decltype(sender_of(std::declval<const Next&>()));

}  // namespace detail

/// Links a task to `next` (an emitting task, or its sender: the link does
/// not keep it open): the task's results become `next`'s events (see
/// `forwarding_collector`).
///
/// ```cpp
/// auto store = sa::emitting_builder<record>(io).receiver(sa::batched{}, save).start_queue();
/// auto parse = sa::emitting_builder<std::string>(io)
///                  .receiver(sa::serial{}, to_record)
///                  .collector(sa::forward_to(store))
///                  .start_queue();
/// ```
template <class Next>
auto forward_to(const Next& next) {
    using target = detail::sender_of_t<Next>;
    return forwarding_collector<typename target::payload_type, target>({detail::sender_of(next)});
}

/// Fan-out to every one of `nexts` (tasks or senders of one payload type):
/// each result is copied to each.
template <class Next, class... Nexts>
auto broadcast_to(const Next& next, const Nexts&... nexts) {
    using target = detail::sender_of_t<Next>;
    return forwarding_collector<typename target::payload_type, target, detail::to_all>(
        {detail::sender_of(next), detail::sender_of(nexts)...});
}

/// Fan-out by key: each result goes to one of `nexts`, the one at
/// `key(result) % sizeof...(nexts)` (a predicate picks the second for
/// `true`); results with one key always reach the same next stage.
template <class Key, class Next, class... Nexts>
auto route_to(Key key, const Next& next, const Nexts&... nexts) {
    using target = detail::sender_of_t<Next>;
    using R = typename target::payload_type;
    static_assert(
        std::is_invocable_v<const Key&, const R&> &&
            std::is_convertible_v<std::invoke_result_t<const Key&, const R&>, std::size_t>,
        "sweet_async: route_to's key must be callable as std::size_t(const R&)");
    return forwarding_collector<R, target, detail::by_key<Key>>(
        {detail::sender_of(next), detail::sender_of(nexts)...},
        detail::by_key<Key>{std::move(key)});
}

}  // namespace sweet_async

#endif  // SWEET_ASYNC_FLOW_FORWARDING_COLLECTOR_HPP
