// sweet_async/collector.hpp: where results land, keyed by the event they came from.
#ifndef SWEET_ASYNC_COLLECTOR_HPP
#define SWEET_ASYNC_COLLECTOR_HPP

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include <sweet_async/uuid.hpp>

namespace sweet_async {

/// A result and the id of the event it came from.
template <class R>
struct keyed_entry {
    uuid key;
    R value;
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
    using value_type = R;
    using entry = keyed_entry<R>;
    using const_iterator = typename std::vector<entry>::const_iterator;

    keyed_collection() = default;

    /// A collection of `entries`, kept in their order for iteration.
    explicit keyed_collection(std::vector<entry> entries) : entries_(std::move(entries)) {
        index_.resize(entries_.size());
        for (std::size_t i = 0; i < index_.size(); ++i) index_[i] = i;
        // Stable, so equal keys keep collection order and get() finds the last.
        std::ranges::stable_sort(index_, {}, [this](std::size_t i) { return entries_[i].key; });
    }

    /// The result collected for the event `key`, or nullptr when there is
    /// none. If a key was collected twice, the later result is found.
    const R* get(const uuid& key) const noexcept {
        auto it = std::ranges::upper_bound(index_, key, {},
                                           [this](std::size_t i) { return entries_[i].key; });
        if (it == index_.begin() || entries_[*std::prev(it)].key != key) return nullptr;
        return &entries_[*std::prev(it)].value;
    }

    bool contains(const uuid& key) const noexcept { return get(key) != nullptr; }
    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }

    /// Every entry, in the order results were collected.
    std::span<const entry> entries() const noexcept { return entries_; }
    const_iterator begin() const noexcept { return entries_.begin(); }
    const_iterator end() const noexcept { return entries_.end(); }

private:
    std::vector<entry> entries_;
    std::vector<std::size_t> index_;  // positions in entries_, sorted by key
};

/// The default collector: keeps every result under its event's id.
///
/// Collecting appends to a vector (amortised, no allocation per result); the
/// lookup index is built once, when the collection is handed out.
template <class R>
class keyed_collector {
public:
    using value_type = R;
    using entry = keyed_entry<R>;
    using collection_type = keyed_collection<R>;

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
        for (auto&& item : items) entries_.push_back(std::forward<decltype(item)>(item));
    }

    /// Everything collected so far, in collection order.
    std::span<const entry> collected() const noexcept { return entries_; }
    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    void reserve(std::size_t count) { entries_.reserve(count); }

    /// Hands the results over as a keyed collection.
    collection_type collection() && { return collection_type(std::move(entries_)); }

private:
    std::vector<entry> entries_;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_COLLECTOR_HPP
