// sweet_async/receiver/detail/reorder_ring.hpp: results held back until those before them are in.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_REORDER_RING_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_REORDER_RING_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace sweet_async::detail {

/// Hands out values numbered 0, 1, 2, ... in that order, whatever order they
/// arrive in: a value that overtook earlier ones waits in a ring slot indexed
/// by its number. The ring grows (doubling) only when a number lands beyond
/// it, so once it spans the numbers in flight nothing is allocated per value.
/// Every number must arrive exactly once.
template <class Value>
class reorder_ring {
public:
    /// Takes `value`, number `number`, and passes to `release` every value
    /// that is now next in order, this one included if it is.
    template <class Release>
    void arrive(std::uint64_t number, Value&& value, Release&& release) {
        if (number != next_) {
            hold(number, std::move(value));
            return;
        }
        ++next_;
        release(std::move(value));
        while (!slots_.empty()) {
            auto& slot = slots_[index(next_)];
            if (!slot) break;
            Value ready = std::move(*slot);
            slot.reset();
            ++next_;
            release(std::move(ready));
        }
    }

    /// The number the next value to be released has.
    std::uint64_t next() const noexcept { return next_; }

private:
    void hold(std::uint64_t number, Value&& value) {
        const std::uint64_t ahead = number - next_;
        if (ahead >= slots_.size()) grow(ahead + 1);
        slots_[index(number)].emplace(std::move(value));
    }

    /// Makes room for numbers up to `next_ + span - 1`, keeping each held
    /// value at its number's slot in the larger ring.
    void grow(std::uint64_t span) {
        std::vector<std::optional<Value>> larger(std::bit_ceil(std::max<std::uint64_t>(span, 16)));
        const std::size_t larger_mask = larger.size() - 1;
        for (std::uint64_t number = next_; number != next_ + slots_.size(); ++number) {
            auto& slot = slots_[index(number)];
            if (slot) larger[number & larger_mask] = std::move(slot);
        }
        slots_ = std::move(larger);
    }

    std::size_t index(std::uint64_t number) const noexcept {
        return static_cast<std::size_t>(number & (slots_.size() - 1));
    }

    std::vector<std::optional<Value>> slots_;  // a power of two in size, or empty
    std::uint64_t next_ = 0;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_REORDER_RING_HPP
