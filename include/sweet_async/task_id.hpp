// sweet_async/task_id.hpp: what may identify a task.
#ifndef SWEET_ASYNC_TASK_ID_HPP
#define SWEET_ASYNC_TASK_ID_HPP

#include <concepts>
#include <string>

#include <sweet_async/uuid.hpp>

namespace sweet_async {

/// A task identifier: a regular value that can make a fresh one of itself and
/// show itself as text. `uuid` is the default; a counter works too:
///
/// ```cpp
/// struct counter_id {
///     std::uint64_t value;
///     static counter_id generate() { static std::atomic<std::uint64_t> next{1}; return {next++}; }
///     std::string to_string() const { return fmt::format("task-{}", value); }
///     friend bool operator==(counter_id, counter_id) = default;
/// };
/// ```
///
/// Every event carries a copy of its task's id, so an id should be cheap to copy.
template <class Id>
concept task_id = std::copyable<Id> && std::equality_comparable<Id> && requires(const Id& id) {
    { Id::generate() } -> std::same_as<Id>;
    { id.to_string() } -> std::convertible_to<std::string>;
};

static_assert(task_id<uuid>);

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_ID_HPP
