// sweet_async/receiver/collector.hpp: where results land, keyed by the event they came from.
#ifndef SWEET_ASYNC_RECEIVER_COLLECTOR_HPP
#define SWEET_ASYNC_RECEIVER_COLLECTOR_HPP

#include <concepts>
#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <sweet_async/base/uuid.hpp>

namespace sweet_async {

/// A result and the id of the event it came from.
template <class R>
struct keyed_entry {
    uuid key{};  ///< The id of the event the result came from.
    R value{};   ///< The processor's result.
};

/// What a task's processing results are gathered into. The consumer calls
/// `collect(event_id, result)` once per processed event, always from one
/// coroutine at a time, so a collector needs no synchronisation of its own.
/// When the task ends, `std::move(c).collection()` turns it into the
/// collection handed out in the final result.
template <class C, class R>
concept collector_for = std::movable<C> && requires(C& c, const C& cc, const uuid& key, R&& value) {
    c.collect(key, std::move(value));
    { cc.size() } -> std::convertible_to<std::size_t>;
    typename C::collection_type;
    { std::move(c).collection() } -> std::same_as<typename C::collection_type>;
};

/// The read side of collected results: every result of a finished task,
/// looked up by the id of the event it came from.
template <class R>
class keyed_collection {
public:
    using value_type = R;                                                ///< The result type.
    using entry = keyed_entry<R>;                                        ///< A key and its result.
    using const_iterator = typename std::vector<entry>::const_iterator;  ///< Iterates entries.

    keyed_collection() = default;

    /// A collection of `entries`, kept in their order for iteration.
    explicit keyed_collection(std::vector<entry> entries) : entries_(std::move(entries)) {
        build_index();
    }

    /// The result collected for the event `key`, or nullptr when there is
    /// none. If a key was collected twice, the later result is found.
    const R* get(const uuid& key) const noexcept {
        if (slots_.empty()) return nullptr;
        for (std::size_t slot = home(key);; slot = (slot + 1) & mask()) {
            const std::size_t position = slots_[slot];
            if (position == empty_slot) return nullptr;
            if (entries_[position].key == key) return &entries_[position].value;
        }
    }

    /// True when a result was collected for the event `key`.
    bool contains(const uuid& key) const noexcept { return get(key) != nullptr; }
    /// The number of entries (a key collected twice counts twice).
    std::size_t size() const noexcept { return entries_.size(); }
    /// True when nothing was collected.
    bool empty() const noexcept { return entries_.empty(); }

    /// Every entry, in the order results were collected.
    std::span<const entry> entries() const noexcept { return entries_; }
    /// The first entry, in collection order.
    const_iterator begin() const noexcept { return entries_.begin(); }
    /// Past the last entry.
    const_iterator end() const noexcept { return entries_.end(); }

private:
    static constexpr std::size_t empty_slot = static_cast<std::size_t>(-1);

    // An open-addressing table of positions in entries_, built once in O(n).
    // Event ids are random, so their low bits are a good hash as they are.
    void build_index() {
        if (entries_.empty()) return;
        std::size_t size = 2;
        while (size < entries_.size() * 2)
            size *= 2;  // load factor at most 1/2
        slots_.assign(size, empty_slot);
        for (std::size_t position = 0; position < entries_.size(); ++position) {
            const uuid& key = entries_[position].key;
            std::size_t slot = home(key);
            while (slots_[slot] != empty_slot && entries_[slots_[slot]].key != key) {
                slot = (slot + 1) & mask();
            }
            slots_[slot] = position;  // a repeated key now finds its later result
        }
    }

    std::size_t mask() const noexcept { return slots_.size() - 1; }
    std::size_t home(const uuid& key) const noexcept {
        return static_cast<std::size_t>(std::hash<uuid>{}(key)) & mask();
    }

    std::vector<entry> entries_;
    std::vector<std::size_t> slots_;
};

/// The default collector: keeps every result under its event's id.
///
/// Collecting appends to a vector (amortised, no allocation per result); the
/// hash index for lookups is built once, in linear time, when the collection
/// is handed out.
template <class R>
class keyed_collector {
public:
    using value_type = R;                         ///< The result type.
    using entry = keyed_entry<R>;                 ///< A key and its result.
    using collection_type = keyed_collection<R>;  ///< What `collection()` hands out.

    /// Records `value` as the result of the event `key`.
    void collect(const uuid& key, R value) { entries_.push_back(entry{key, std::move(value)}); }

    /// Records one keyed result.
    void collect_item(entry item) { entries_.push_back(std::move(item)); }

    /// Records every keyed result of `items` (a range of `keyed_entry<R>`).
    template <std::ranges::input_range Items>
    requires std::convertible_to<std::ranges::range_value_t<Items>, entry>
    void collect_items(Items&& items) {
        if constexpr (std::ranges::sized_range<Items>) {
            entries_.reserve(entries_.size() + std::ranges::size(items));
        }
        for (auto&& item : items)
            entries_.push_back(std::forward<decltype(item)>(item));
    }

    /// Everything collected so far, in collection order.
    std::span<const entry> collected() const noexcept { return entries_; }
    /// The number of results collected so far.
    std::size_t size() const noexcept { return entries_.size(); }
    /// True when nothing has been collected yet.
    bool empty() const noexcept { return entries_.empty(); }
    /// Makes room for `count` results in total, so collecting them does not reallocate.
    void reserve(std::size_t count) { entries_.reserve(count); }

    /// Hands the results over as a keyed collection.
    collection_type collection() && { return collection_type(std::move(entries_)); }

private:
    std::vector<entry> entries_;
};

/// Stands for a `keyed_collector` that keeps every result, until the result
/// type is known (the builders' default).
struct default_collector {};

/// The collector a task with results `R` uses when it was given `Collector`.
template <class Collector, class R>
using collector_or_keyed =
    std::conditional_t<std::is_same_v<Collector, default_collector>, keyed_collector<R>, Collector>;

}  // namespace sweet_async

#endif  // SWEET_ASYNC_RECEIVER_COLLECTOR_HPP
