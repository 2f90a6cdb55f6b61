// sweet_async/channel/detail/downstream_gate.hpp: a task's receiving held while a downstream is
// full.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_DOWNSTREAM_GATE_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_DOWNSTREAM_GATE_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)

namespace sweet_async::detail {

/// Something a task hands values to that can fill up: an outbox in front of
/// the next stage, or of a dead-letter target.
class outlet {
public:
    virtual ~outlet() = default;
    /// Hands over the values waiting for room, suspending while the target
    /// is full; returns once none waits (delivered, or given up on because
    /// the target closed or the task must stop).
    virtual asio::awaitable<void> drain() = 0;
};

/// Where backpressure crosses a link: while an outlet of the task holds
/// values its target had no room for, the task takes no event off its
/// channel (`event_source` asks `blocked()`), so its producers wait on a
/// full channel in turn, and memory stays bounded however fast the source.
/// The coroutine that would have received drains the outlets instead: the
/// recording of outcomes waits for the next stage, as the issue of a flow
/// requires, without a coroutine of its own to start, track or join.
///
/// Owned by the consumer (with the event source); consumer strand only.
class downstream_gate {
public:
    /// True while some outlet holds values back.
    bool blocked() const noexcept { return !blocked_.empty(); }

    /// `o` holds values its target had no room for.
    void block(outlet& o) {
        if (std::find(blocked_.begin(), blocked_.end(), &o) == blocked_.end()) {
            blocked_.push_back(&o);
        }
    }

    /// `o` holds nothing back any more.
    void unblock(outlet& o) noexcept { std::erase(blocked_, &o); }

    /// Drains every blocked outlet; returns once none holds values back.
    asio::awaitable<void> drain() {
        while (!blocked_.empty())
            co_await blocked_.front()->drain();
    }

private:
    std::vector<outlet*> blocked_;  // few: one per link and dead-letter target
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_DOWNSTREAM_GATE_HPP
