// sweet_async/channel/detail/bounded_queue.hpp: the lock-free ring under `channel`.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_BOUNDED_QUEUE_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_BOUNDED_QUEUE_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace sweet_async::detail {

/// `bounded_queue::try_pop`'s default: the element leaves its cell as it is.
struct leave_as_is {
    template <class T>
    void operator()(const T&) const noexcept {}
};

/// Result of `bounded_queue::try_push_with`.
enum class push_result { pushed, full, closed };

/// How a push or a pop takes part in the waiter handshake (see `bounded_queue`).
enum class handshake {
    /// The store that publishes the element (or frees the cell) is
    /// sequentially consistent: the handshake is complete when the call returns.
    each,
    /// That store only releases; the caller completes the handshake of a whole
    /// run of calls with one `fence()`, before it waits or blocks.
    deferred,
};

/// A bounded multi-producer, single-consumer FIFO ring (after Dmitry Vyukov's
/// bounded MPMC queue) with an atomic close flag.
///
/// Each cell carries a sequence number that says whose turn it is: a producer
/// may fill cell `i` when its sequence equals the position being claimed, the
/// consumer may empty it when it equals position + 1. Producers claim
/// positions with a CAS on `enqueue_position_`; the consumer alone advances
/// `dequeue_position_`.
///
/// The close flag lives in the top bit of `enqueue_position_`, so claiming a
/// position and checking "not closed" is one atomic step: after `close()` no
/// position is ever claimed again, and the consumer knows exactly how many
/// events exist (`final_position`) even while late producers are still writing
/// the cells they claimed before the close.
///
/// Publishing stores and the emptiness/fullness checks are sequentially
/// consistent: `channel` pairs them with its waiter flags (a Dekker-style
/// handshake) so that a waiter going to sleep and a producer or consumer making
/// progress can never miss each other. A run of pushes or pops by one thread
/// may instead publish with release stores and end with one `fence()` fence
/// (`handshake::deferred`): the fence orders every store of the run before the
/// flag check that follows it, as a sequentially consistent store each would.
template <class T>
class bounded_queue {
public:
    explicit bounded_queue(std::size_t capacity)
        : capacity_(capacity),
          ring_size_(ring_size_for(capacity)),
          cells_(std::make_unique<cell[]>(ring_size_)) {
        for (std::size_t i = 0; i < ring_size_; ++i) {
            cells_[i].sequence.store(i, std::memory_order_relaxed);
        }
    }

    bounded_queue(const bounded_queue&) = delete;
    bounded_queue& operator=(const bounded_queue&) = delete;

    ~bounded_queue() {
        while (try_pop()) {
        }
    }

    /// Claims a cell and constructs its element from `make()`. `make` runs
    /// only when a cell was claimed, so a caller's value is untouched on
    /// `full` and `closed`. With `close_after`, claiming the cell and closing
    /// the queue are one atomic step, so the element is surely the last.
    template <handshake H = handshake::each, class Make>
    push_result try_push_with(Make&& make, bool close_after = false) {
        std::size_t raw = enqueue_position_.load(std::memory_order_relaxed);
        cell* target = nullptr;
        for (;;) {
            if (raw & closed_bit) return push_result::closed;
            target = &cells_[raw % ring_size_];
            const std::size_t sequence = target->sequence.load(std::memory_order_acquire);
            const auto lag = static_cast<std::intptr_t>(sequence - raw);
            if (lag == 0 && over_capacity(raw)) return push_result::full;
            if (lag == 0) {
                // The cell's sequence (acquire above, publish below) orders
                // the element itself; seq_cst here only matters for a closing
                // claim, which waiters must observe like close().
                const std::size_t next = close_after ? (raw + 1) | closed_bit : raw + 1;
                if (enqueue_position_.compare_exchange_weak(raw, next, std::memory_order_seq_cst,
                                                            std::memory_order_relaxed)) {
                    break;
                }
            } else if (lag < 0) {
                return push_result::full;
            } else {
                raw = enqueue_position_.load(std::memory_order_relaxed);
            }
        }
        try {
            ::new (static_cast<void*>(target->storage)) T(std::forward<Make>(make)());
        } catch (...) {
            // The position is claimed and cannot be given back: publish it as
            // a hole the consumer skips, so the ring keeps its order.
            target->hole = true;
            holes_.fetch_add(1, std::memory_order_relaxed);
            target->sequence.store(raw + 1, std::memory_order_seq_cst);
            throw;
        }
        target->hole = false;
        if constexpr (H == handshake::each) {
            target->sequence.store(raw + 1, std::memory_order_seq_cst);
        } else {
            target->sequence.store(raw + 1, std::memory_order_release);  // fence() completes it
        }
        return push_result::pushed;
    }

    /// Consecutive positions claimed together by `try_claim`, filled in order
    /// by `fill`; what is left when the run ends goes as holes (`give_up`).
    class claim {
    public:
        /// No position left to fill.
        bool empty() const noexcept { return next_ == end_; }

    private:
        friend class bounded_queue;
        std::size_t next_ = 0;   // the next position to fill
        std::size_t index_ = 0;  // its cell: next_ % ring size
        std::size_t end_ = 0;
    };

    /// Claims up to `most` consecutive free cells with one compare-exchange,
    /// so that a run of pushes by one producer pays one locked instruction:
    /// as many as are free, none when the queue is full or closed.
    claim try_claim(std::size_t most) {
        std::size_t raw = enqueue_position_.load(std::memory_order_relaxed);
        for (;;) {
            if (raw & closed_bit) return {};
            // Only the consumer frees cells and only claimants fill them, so
            // the cells seen free here stay free until the exchange succeeds.
            std::size_t free = 0;
            for (std::size_t index = raw % ring_size_; free < most; ++free) {
                const std::size_t position = raw + free;
                if (cells_[index].sequence.load(std::memory_order_acquire) != position ||
                    over_capacity(position)) {
                    break;
                }
                if (++index == ring_size_) index = 0;
            }
            if (free == 0) return {};
            // seq_cst as in try_push_with; the cells' sequences order the elements.
            if (enqueue_position_.compare_exchange_weak(raw, raw + free, std::memory_order_seq_cst,
                                                        std::memory_order_relaxed)) {
                claim c;
                c.next_ = raw;
                c.index_ = raw % ring_size_;
                c.end_ = raw + free;
                return c;
            }
        }
    }

    /// Constructs the element of `c`'s next position from `make()` and
    /// publishes it (see `handshake`). `c` must not be empty. If `make`
    /// throws, the position is published as a hole, with a sequentially
    /// consistent store, and the exception propagates.
    template <handshake H, class Make>
    void fill(claim& c, Make&& make) {
        const std::size_t position = c.next_++;
        cell& target = cells_[c.index_];
        if (++c.index_ == ring_size_) c.index_ = 0;
        try {
            ::new (static_cast<void*>(target.storage)) T(std::forward<Make>(make)());
        } catch (...) {
            target.hole = true;
            holes_.fetch_add(1, std::memory_order_relaxed);
            target.sequence.store(position + 1, std::memory_order_seq_cst);
            throw;
        }
        target.hole = false;
        if constexpr (H == handshake::each) {
            target.sequence.store(position + 1, std::memory_order_seq_cst);
        } else {
            target.sequence.store(position + 1, std::memory_order_release);
        }
    }

    /// Publishes what is left of `c` as holes the consumer skips, with
    /// release stores (the caller fences); `c` is empty afterwards.
    void give_up(claim& c) noexcept {
        if (c.empty()) return;
        // Counted before they are published, so that `pushed()` never counts
        // a hole as an element once the consumer may have skipped it.
        holes_.fetch_add(c.end_ - c.next_, std::memory_order_relaxed);
        for (; c.next_ != c.end_; ++c.next_) {
            cell& target = cells_[c.index_];
            if (++c.index_ == ring_size_) c.index_ = 0;
            target.hole = true;
            target.sequence.store(c.next_ + 1, std::memory_order_release);
        }
    }

    /// Removes the oldest element, if it is there, after `prepare(element)`
    /// has had a last look at it in its cell. Consumer only. (A position is
    /// not an arrival number: a hole takes one too.)
    ///
    /// The element moves once, straight into the result: each return is a
    /// prvalue (a default-constructed `std::optional` that is filled later
    /// costs GCC a memset of the whole optional, and a named one returned
    /// beside `std::nullopt` costs a second move).
    template <handshake H = handshake::each, class Prepare = leave_as_is>
    std::optional<T> try_pop(Prepare&& prepare = {}) {
        for (;;) {
            const std::size_t position = dequeue_position_.load(std::memory_order_relaxed);
            cell& source = cells_[dequeue_index_];
            if (source.sequence.load(std::memory_order_acquire) != position + 1)
                return std::nullopt;
            if (source.hole) {
                release<H>(source, position);
                continue;
            }
            T& element = *std::launder(reinterpret_cast<T*>(source.storage));
            prepare(element);
            const vacate<H> done{*this, source, position, element};
            return std::optional<T>(std::in_place, std::move(element));
        }
    }

    /// True when the oldest element is published. Consumer only.
    bool ready() const noexcept {
        const std::size_t position = dequeue_position_.load(std::memory_order_relaxed);
        return cells_[position % ring_size_].sequence.load(std::memory_order_seq_cst) ==
               position + 1;
    }

    /// True when a producer would find no free cell right now.
    bool full() const noexcept {
        const std::size_t raw = enqueue_position_.load(std::memory_order_seq_cst);
        const std::size_t position = raw & ~closed_bit;
        return cells_[position % ring_size_].sequence.load(std::memory_order_seq_cst) < position ||
               over_capacity(position);
    }

    /// Completes the waiter handshake of a run of `handshake::deferred` pushes
    /// or pops made by this thread; the waiter flag is read after it.
    static void fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }

    /// Stops all further pushes. Returns false if it was closed already.
    bool close() noexcept {
        return (enqueue_position_.fetch_or(closed_bit, std::memory_order_seq_cst) & closed_bit) ==
               0;
    }

    bool closed() const noexcept {
        return (enqueue_position_.load(std::memory_order_seq_cst) & closed_bit) != 0;
    }

    /// True once closed and every claimed element has been popped. Consumer only.
    bool drained() const noexcept {
        const std::size_t raw = enqueue_position_.load(std::memory_order_seq_cst);
        return (raw & closed_bit) != 0 &&
               dequeue_position_.load(std::memory_order_relaxed) == (raw & ~closed_bit);
    }

    /// How many pushes have succeeded (or are being written right now).
    std::size_t pushed() const noexcept {
        return (enqueue_position_.load(std::memory_order_relaxed) & ~closed_bit) -
               holes_.load(std::memory_order_relaxed);
    }

    /// How many claimed positions wait to be popped: the elements ready or
    /// being written. A snapshot, exact only while nobody else moves.
    std::size_t queued() const noexcept {
        const std::size_t claimed = enqueue_position_.load(std::memory_order_relaxed) & ~closed_bit;
        return claimed - dequeue_position_.load(std::memory_order_relaxed);
    }

    /// How many elements have been popped.
    std::size_t popped() const noexcept {
        return dequeue_position_.load(std::memory_order_relaxed);
    }

    std::size_t capacity() const noexcept { return capacity_; }

    /// The largest capacity whose ring `new` can be asked for at all (its size in bytes fits
    /// `std::ptrdiff_t`); whether that much memory is there is only known by trying.
    static constexpr std::size_t max_capacity() noexcept {
        return static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(cell);
    }

    /// The bytes the ring of a queue of `capacity` takes.
    static constexpr std::size_t ring_bytes(std::size_t capacity) noexcept {
        return ring_size_for(capacity) * sizeof(cell);
    }

private:
    struct cell;

    /// Gives the emptied cell at `position` back to producers.
    template <handshake H>
    void release(cell& source, std::size_t position) noexcept {
        if (++dequeue_index_ == ring_size_) dequeue_index_ = 0;
        // Only the capacity-1 check reads this from producers, and it is part
        // of the waiter handshake there. One constant order per branch: an
        // order known only at run time compiles as seq_cst (a locked xchg).
        if (ring_size_ != capacity_) {
            dequeue_position_.store(position + 1, std::memory_order_seq_cst);
        } else {
            dequeue_position_.store(position + 1, std::memory_order_relaxed);
        }
        if constexpr (H == handshake::each) {
            source.sequence.store(position + ring_size_, std::memory_order_seq_cst);
        } else {
            source.sequence.store(position + ring_size_, std::memory_order_release);
        }
    }

    /// Destroys a popped element and releases its cell once the element has
    /// moved into `try_pop`'s result.
    template <handshake H>
    struct vacate {
        bounded_queue& queue;
        cell& source;
        std::size_t position;
        T& element;

        vacate(bounded_queue& q, cell& c, std::size_t p, T& e) noexcept
            : queue(q),
              source(c),
              position(p),
              element(e) {}
        vacate(const vacate&) = delete;
        vacate& operator=(const vacate&) = delete;
        ~vacate() {
            element.~T();
            queue.template release<H>(source, position);
        }
    };

    /// The cells a queue of `capacity` has: see `over_capacity`.
    static constexpr std::size_t ring_size_for(std::size_t capacity) noexcept {
        return capacity < 2 ? 2 : capacity;
    }

    /// The sequence scheme needs at least two cells (with one, "ready to pop"
    /// and "free to fill" would be the same number), so a capacity of 1 runs
    /// on a ring of 2 and this check keeps the second cell unused.
    bool over_capacity(std::size_t position) const noexcept {
        return ring_size_ != capacity_ &&
               position - dequeue_position_.load(std::memory_order_seq_cst) >= capacity_;
    }

    static constexpr std::size_t closed_bit = std::size_t{1} << (sizeof(std::size_t) * 8 - 1);
    // Producers and the consumer write different counters; keep them on
    // different cache lines.
    static constexpr std::size_t cache_line = 64;

    struct cell {
        std::atomic<std::size_t> sequence{0};
        bool hole = false;
        alignas(T) unsigned char storage[sizeof(T)];
    };

    std::size_t capacity_;
    std::size_t ring_size_;
    std::unique_ptr<cell[]> cells_;
    alignas(cache_line) std::atomic<std::size_t> enqueue_position_{0};
    alignas(cache_line) std::atomic<std::size_t> dequeue_position_{0};
    // dequeue_position_ % ring_size_, kept by the consumer: no division per pop.
    std::size_t dequeue_index_ = 0;
    std::atomic<std::size_t> holes_{0};  // claims whose element threw while being made
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_BOUNDED_QUEUE_HPP
