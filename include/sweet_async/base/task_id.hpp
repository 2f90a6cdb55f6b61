// sweet_async/base/task_id.hpp: what may identify a task.
#ifndef SWEET_ASYNC_BASE_TASK_ID_HPP
#define SWEET_ASYNC_BASE_TASK_ID_HPP

#include <concepts>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <sweet_async/base/uuid.hpp>

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

/// The `fmt::formatter` of a user's id type, written through its
/// `to_string()` and accepting every string format spec. Opt-in, so that
/// the library never competes with a formatter the user already has:
///
/// ```cpp
/// template <>
/// struct fmt::formatter<counter_id> : sweet_async::task_id_formatter<counter_id> {};
/// ```
///
/// (`uuid` has its own, allocation-free formatter.)
template <task_id Id>
struct task_id_formatter : fmt::formatter<std::string_view> {
    /// Writes `id.to_string()` with the parsed string format spec.
    auto format(const Id& id, fmt::format_context& ctx) const {
        const std::string text = id.to_string();
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_BASE_TASK_ID_HPP
