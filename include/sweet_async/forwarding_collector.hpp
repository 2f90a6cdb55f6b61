// sweet_async/forwarding_collector.hpp: results that become the events of the next stage.
#ifndef SWEET_ASYNC_FORWARDING_COLLECTOR_HPP
#define SWEET_ASYNC_FORWARDING_COLLECTOR_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <sweet_async/detail/outbox.hpp>
#include <sweet_async/detail/plain_formatter.hpp>
#include <sweet_async/emitting_task.hpp>
#include <sweet_async/sender.hpp>
#include <sweet_async/task_id.hpp>
#include <sweet_async/uuid.hpp>

namespace sweet_async {

/// What a linked stage did with its results: the collection in the final
/// result of a task whose collector is `forward_to(next)`. Every processed
/// event's result is either forwarded, as an event of `next`, or not (the
/// next stage had closed, or this one was cancelled `immediate` or reached
/// its deadline while waiting for room): `forwarded + not_forwarded` is the
/// task's `processed` count.
struct link_report {
    std::string next;               ///< The name of the task fed.
    std::size_t forwarded = 0;      ///< Results sent as events of `next`.
    std::size_t not_forwarded = 0;  ///< Results `next` did not take.
    /// The result of this task's final event went as `next`'s final event.
    bool final_forwarded = false;
};

/// The collector of a linked stage: each result is sent into the next
/// task's channel as an event, without suspending while it has room. When
/// it is full, the result waits and this task stops taking events off its
/// own channel until the next one has room, so a flow holds at most its
/// channels' capacities and its work in flight, whatever the source's
/// pace. When this task ends (a final event, `close`, a cancel, the
/// deadline, a failure), the next task's stream ends after what was
/// forwarded, as TPL Dataflow's `PropagateCompletion` does: the result of
/// this task's final event is sent last, as the next task's final event;
/// otherwise the next task is closed.
///
/// Events that fail here are not forwarded (they are in this task's
/// `errors()` and its dead-letter target, if it has one). Made by
/// `forward_to`; each task built with it gets its own hand-off.
template <class R, class Target>
class forwarding_collector {
    using outbox_type = detail::outbox<R, Target>;

public:
    using value_type = R;                 ///< What it forwards.
    using collection_type = link_report;  ///< What `collection()` hands out.

    /// Forwards into the task that `target` sends to.
    explicit forwarding_collector(Target target) : target_(std::move(target)) {}

    /// Forwards `value` (the library calls it; see the class comment).
    void collect(const uuid&, R value) { box().push(std::move(value)); }

    /// Keeps the final event's result, `value`, to be forwarded last.
    void collect_final(const uuid&, R value) { box().hold_final(std::move(value)); }

    /// Results forwarded so far.
    std::size_t size() const noexcept { return box_ ? box_->counts().delivered : 0; }

    /// The hand-off of this task's results, made when the task starts (the
    /// library calls it, so the task's consumer manages it).
    std::shared_ptr<detail::outbox_base> open_outbox() {
        box_ = std::make_shared<outbox_type>(target_, true);
        return box_;
    }

    /// What was forwarded and what was not.
    link_report collection() && {
        const detail::delivery_counts counts = box_ ? box_->counts() : detail::delivery_counts{};
        return link_report{target_.task_name(), counts.delivered, counts.undelivered,
                           counts.final_delivered};
    }

private:
    outbox_type& box() {
        if (!box_) open_outbox();
        return *box_;
    }

    Target target_;
    std::shared_ptr<outbox_type> box_;
};

/// The collector that links a task to `next`: the task's results become
/// `next`'s events (see `forwarding_collector`).
///
/// ```cpp
/// auto store = sa::emitting_builder<record>(io).receiver(sa::batched{}, save).start_queue();
/// auto parse = sa::emitting_builder<std::string>(io)
///                  .receiver(sa::serial{}, to_record)
///                  .collector(sa::forward_to(store))
///                  .start_queue();
/// ```
template <class U, task_id NextId>
forwarding_collector<U, sender<U, NextId>> forward_to(const sender<U, NextId>& next) {
    return forwarding_collector<U, sender<U, NextId>>(next);
}

/// Links to the emitting task `next` (through its sender, so the link does
/// not keep it open).
template <class U, class Collection, task_id NextId>
forwarding_collector<U, sender<U, NextId>>
forward_to(const emitting_task<U, Collection, NextId>& next) {
    return forward_to(next.get_sender());
}

}  // namespace sweet_async

/// `forwarded 998 to 'store', 2 not forwarded` (`, final event forwarded` when it was).
template <>
struct fmt::formatter<sweet_async::link_report> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::link_report& r, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "forwarded {} to '{}', {} not forwarded{}", r.forwarded,
                              r.next, r.not_forwarded,
                              r.final_forwarded ? ", final event forwarded" : "");
    }
};

#endif  // SWEET_ASYNC_FORWARDING_COLLECTOR_HPP
