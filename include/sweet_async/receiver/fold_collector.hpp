// sweet_async/receiver/fold_collector.hpp: a collector that keeps only an aggregate.
#ifndef SWEET_ASYNC_RECEIVER_FOLD_COLLECTOR_HPP
#define SWEET_ASYNC_RECEIVER_FOLD_COLLECTOR_HPP

#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include <sweet_async/base/uuid.hpp>

namespace sweet_async {

/// The read side of a `fold_collector`: the aggregate and how many results
/// went into it. Per-event results are not kept.
template <class Acc>
class fold_collection {
public:
    using aggregate_type = Acc;  ///< The type of the aggregate.

    fold_collection() requires std::default_initializable<Acc>
    = default;

    /// A collection holding `aggregate`, made of `count` results.
    fold_collection(Acc aggregate, std::size_t count)
        : aggregate_(std::move(aggregate)),
          count_(count) {}

    /// The aggregate of every collected result.
    const Acc& aggregate() const& noexcept { return aggregate_; }
    /// Moves the aggregate out of an expiring collection.
    Acc aggregate() && { return std::move(aggregate_); }
    /// How many results were folded.
    std::size_t size() const noexcept { return count_; }
    /// True when no result was folded (the aggregate is the initial value).
    bool empty() const noexcept { return count_ == 0; }

private:
    Acc aggregate_{};
    std::size_t count_ = 0;
};

/// Folds every result into one aggregate, so an unbounded stream runs in
/// bounded memory. `fold` is either `void(Acc&, R)` (updates in place) or
/// `Acc(Acc, R)` (returns the new aggregate):
///
/// ```cpp
/// sa::fold_collector total{std::size_t{0}, std::plus<>{}};
/// ```
template <class Acc, class Fold>
class fold_collector {
public:
    using aggregate_type = Acc;                    ///< The type of the aggregate.
    using collection_type = fold_collection<Acc>;  ///< What `collection()` hands out.

    /// A collector starting from `initial` and folding each result in with `fold`.
    fold_collector(Acc initial, Fold fold)
        : aggregate_(std::move(initial)),
          fold_(std::move(fold)) {}

    /// Folds `value`; the event id is not kept.
    template <class R>
    requires std::invocable<Fold&, Acc&, R&&> || std::invocable<Fold&, Acc&&, R&&>
    void collect(const uuid& /*key*/, R&& value) {
        if constexpr (folds_in_place<R>) {
            std::invoke(fold_, aggregate_, std::forward<R>(value));
        } else {
            aggregate_ = std::invoke(fold_, std::move(aggregate_), std::forward<R>(value));
        }
        ++count_;
    }

    /// The aggregate so far.
    const Acc& aggregate() const noexcept { return aggregate_; }
    /// How many results were folded so far.
    std::size_t size() const noexcept { return count_; }
    /// True when no result has been folded yet.
    bool empty() const noexcept { return count_ == 0; }

    /// Hands the aggregate and the count over as a `fold_collection`.
    collection_type collection() && { return collection_type(std::move(aggregate_), count_); }

private:
    template <class R>
    static constexpr bool folds_in_place = [] {
        if constexpr (std::invocable<Fold&, Acc&, R&&>) {
            return std::is_void_v<std::invoke_result_t<Fold&, Acc&, R&&>>;
        } else {
            return false;
        }
    }();

    Acc aggregate_;
    Fold fold_;
    std::size_t count_ = 0;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_RECEIVER_FOLD_COLLECTOR_HPP
