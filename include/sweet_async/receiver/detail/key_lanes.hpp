// sweet_async/receiver/detail/key_lanes.hpp: events waiting their turn, one lane per key.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_KEY_LANES_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_KEY_LANES_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory_resource>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sweet_async::detail {

/// The bookkeeping of per-key ordering: every key has a lane, a FIFO of its
/// events waiting while one of them is in flight. At most one event per key
/// is in flight; lanes whose turn it is wait in one FIFO of ready lanes, so
/// keys take turns (a hot key gets one worker, like any other, and cannot
/// starve the rest).
///
/// Memory is bounded: at most `backlog` events wait over all lanes, and at
/// most `backlog_per_key` in one lane (`add` refuses beyond it, and the
/// strategy stops receiving: the channel's backpressure). Waiting events sit
/// in one slab of nodes reused through a free list, so queueing costs no
/// allocation once the slab has grown; a lane is retired as soon as it is
/// idle and empty, unless its key was stopped.
///
/// With `stop_on_failure`, a key whose event fails or times out is stopped:
/// its waiting events and every later one are handed out to be cancelled.
///
/// Consumer strand only.
template <class Event, class Key, class Hash = std::hash<Key>>
class key_lanes {
public:
    using event_type = Event;
    using key_type = Key;

    key_lanes(std::size_t backlog, std::size_t backlog_per_key, bool stop_on_failure)
        : backlog_(backlog),
          backlog_per_key_(backlog_per_key),
          stop_on_failure_(stop_on_failure) {}

    /// What `add` did with an event.
    enum class added {
        queued,     ///< It waits in its key's lane.
        lane_full,  ///< Its lane holds `backlog_per_key` events: `e` is untouched.
        stopped,    ///< Its key was stopped: `e` is untouched, to be cancelled.
    };

    /// Queues `e` (moved from only when queued) under `key`.
    added add(const Key& key, Event& e) {
        auto found = index_.find(key);
        if (found != index_.end()) {
            lane& l = lanes_[found->second];
            if (l.stopped) return added::stopped;
            if (l.count >= backlog_per_key_) return added::lane_full;
            append(found->second, e);
            return added::queued;
        }
        const std::uint32_t id = new_lane(key);
        append(id, e);
        return added::queued;
    }

    /// True when `backlog` events wait: receive no more until one starts.
    bool full() const noexcept { return waiting_ >= backlog_; }

    /// True when no event waits in any lane.
    bool empty() const noexcept { return waiting_ == 0; }

    /// How many events wait over all lanes.
    std::size_t waiting() const noexcept { return waiting_; }

    /// True when some key's event may start now.
    bool has_ready() const noexcept { return !ready_.empty(); }

    /// How many lanes wait for their turn (some may have been stopped since).
    std::size_t ready_lanes() const noexcept { return ready_.size(); }

    /// The next event whose turn it is, from the key that waited longest;
    /// its key is busy until `finished` is told of its sequence.
    std::optional<Event> next_ready() {
        const std::uint32_t id = next_ready_lane();
        if (id == none) return std::nullopt;
        Event e = pop(id);
        running_.emplace(e.sequence(), id);
        return e;
    }

    /// Appends to `run` up to `most` waiting events of the key that waited
    /// longest, in their order, and returns how many (0 when no key's turn
    /// is due). Its key is busy until `finished` is told of the last of them:
    /// they are to be processed one after another.
    std::size_t take_ready(std::vector<Event>& run, std::size_t most) {
        const std::uint32_t id = next_ready_lane();
        if (id == none) return 0;
        std::size_t taken = 0;
        while (taken < most && lanes_[id].count != 0) {
            run.push_back(pop(id));
            ++taken;
        }
        running_.emplace(run.back().sequence(), id);
        return taken;
    }

    /// The event `sequence` ended; `failed`: it failed or timed out. Frees
    /// its key for the next event, or stops the key (`stop_on_failure`).
    /// Events it does not know (never started here) are ignored.
    void finished(std::uint64_t sequence, bool failed) {
        const auto it = running_.find(sequence);
        if (it == running_.end()) return;
        const std::uint32_t id = it->second;
        running_.erase(it);
        lane& l = lanes_[id];
        l.busy = false;
        if (failed && stop_on_failure_) {
            l.stopped = true;
            while (l.count != 0)
                stopped_.push_back(pop(id));
            return;
        }
        pass_turn(id);
    }

    /// The events of stopped keys, to be cancelled; the caller empties it.
    std::vector<Event>& stopped_events() noexcept { return stopped_; }

private:
    struct node {
        std::optional<Event> e;
        std::uint32_t next = none;
    };

    struct lane {
        Key key;
        std::uint32_t head = none;
        std::uint32_t tail = none;
        std::size_t count = 0;
        bool busy = false;
        bool is_ready = false;
        bool stopped = false;
        std::uint32_t next_free = none;
    };

    static constexpr std::uint32_t none = UINT32_MAX;

    /// The lane whose turn is due, now busy; `none` when no lane's is.
    std::uint32_t next_ready_lane() {
        while (!ready_.empty()) {
            const std::uint32_t id = ready_.front();
            ready_.pop_front();
            lane& l = lanes_[id];
            l.is_ready = false;
            if (l.stopped) continue;  // its events were handed out to be cancelled
            l.busy = true;
            return id;
        }
        return none;
    }

    std::uint32_t new_lane(const Key& key) {
        std::uint32_t id;
        if (free_lane_ != none) {
            id = free_lane_;
            free_lane_ = lanes_[id].next_free;
            lanes_[id] = lane{key};
        } else {
            id = static_cast<std::uint32_t>(lanes_.size());
            lanes_.push_back(lane{key});
        }
        index_.emplace(key, id);
        return id;
    }

    void append(std::uint32_t id, Event& e) {
        std::uint32_t n;
        if (free_node_ != none) {
            n = free_node_;
            free_node_ = nodes_[n].next;
            nodes_[n].next = none;
        } else {
            n = static_cast<std::uint32_t>(nodes_.size());
            nodes_.emplace_back();
        }
        nodes_[n].e.emplace(std::move(e));
        lane& l = lanes_[id];
        if (l.tail == none) {
            l.head = n;
        } else {
            nodes_[l.tail].next = n;
        }
        l.tail = n;
        ++l.count;
        ++waiting_;
        if (!l.busy && !l.is_ready) {
            l.is_ready = true;
            ready_.push_back(id);
        }
    }

    Event pop(std::uint32_t id) {
        lane& l = lanes_[id];
        const std::uint32_t n = l.head;
        Event e = std::move(*nodes_[n].e);
        nodes_[n].e.reset();
        l.head = nodes_[n].next;
        if (l.head == none) l.tail = none;
        nodes_[n].next = free_node_;
        free_node_ = n;
        --l.count;
        --waiting_;
        return e;
    }

    /// After its event ended: the lane's next event gets its turn, or an
    /// idle, empty lane is retired.
    void pass_turn(std::uint32_t id) {
        lane& l = lanes_[id];
        if (l.count != 0) {
            if (!l.is_ready) {
                l.is_ready = true;
                ready_.push_back(id);
            }
            return;
        }
        index_.erase(l.key);
        l.next_free = free_lane_;
        free_lane_ = id;
    }

    const std::size_t backlog_;
    const std::size_t backlog_per_key_;
    const bool stop_on_failure_;
    std::vector<node> nodes_;
    std::uint32_t free_node_ = none;
    std::vector<lane> lanes_;
    std::uint32_t free_lane_ = none;
    // The two maps' nodes come and go with every key's turn: a pool recycles
    // them, so a flowing stream allocates nothing once it has grown.
    std::pmr::unsynchronized_pool_resource nodes_pool_;
    std::pmr::unordered_map<Key, std::uint32_t, Hash> index_{&nodes_pool_};
    std::deque<std::uint32_t> ready_;
    // The sequence of the event whose end frees a busy lane, and the lane.
    std::pmr::unordered_map<std::uint64_t, std::uint32_t> running_{&nodes_pool_};
    std::vector<Event> stopped_;
    std::size_t waiting_ = 0;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_KEY_LANES_HPP
