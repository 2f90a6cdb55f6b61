// sweet_async/base/min_max.hpp: an inclusive range of allowed values.
#ifndef SWEET_ASYNC_BASE_MIN_MAX_HPP
#define SWEET_ASYNC_BASE_MIN_MAX_HPP

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include <sweet_async/base/error.hpp>

namespace sweet_async {

/// An inclusive range `[min, max]`, e.g. the worker bounds of `parallel`:
/// `min_max<std::size_t>{2, 8}`, or `{2, 8}` where the type is known.
template <class T>
struct min_max {
    T min{};  ///< The lowest allowed value.
    T max{};  ///< The highest allowed value.

    /// The range `[T{}, T{}]`.
    constexpr min_max() = default;
    /// The range `[low, high]`.
    constexpr min_max(T low, T high) : min(std::move(low)), max(std::move(high)) {}

    /// A range of another integer type, so that `.workers = sa::min_max{2, 8}` (which deduces
    /// `min_max<int>`) works where a `min_max<std::size_t>` is wanted. Throws
    /// `async_task_exception` (`invalid_configuration`) when a bound does not fit `T`, such as
    /// a negative one for an unsigned range.
    template <std::integral U>
    requires(std::integral<T> && !std::same_as<T, U>) constexpr min_max(
        const min_max<U>& other)  // NOLINT(google-explicit-constructor): on purpose
        : min(fitted(other.min, other)),
          max(fitted(other.max, other)) {}

    /// True when `min <= max`.
    constexpr bool valid() const { return !(max < min); }
    /// True when `min <= value <= max`.
    constexpr bool contains(const T& value) const { return !(value < min) && !(max < value); }
    /// `value` brought inside the range. Requires `valid()`.
    constexpr T clamp(const T& value) const { return std::clamp(value, min, max); }

    /// Equal when both bounds are.
    friend constexpr bool operator==(const min_max&, const min_max&) = default;

private:
    template <class U>
    static constexpr T fitted(U bound, const min_max<U>& range) {
        if (!std::in_range<T>(bound)) {
            throw async_task_exception(
                async_task_error::invalid_configuration,
                fmt::format("min_max{{{}, {}}}: the bound {} is outside {}..{}, what the "
                            "range's type holds",
                            range.min, range.max, bound, +std::numeric_limits<T>::min(),
                            +std::numeric_limits<T>::max()));
        }
        return static_cast<T>(bound);
    }
};

/// `min_max{2, 8}` deduces `min_max<int>`; both bounds must have the same type.
template <class T>
min_max(T, T) -> min_max<T>;

}  // namespace sweet_async

/// "2..8": both bounds written with `T`'s formatter and the same format spec.
template <class T>
struct fmt::formatter<sweet_async::min_max<T>> {
    /// Checks the spec with `T`'s formatter (at compile time for a checked format string) and
    /// keeps its text for `format`.
    constexpr auto parse(fmt::format_parse_context& ctx) {
        fmt::formatter<T> checker;
        const auto end = checker.parse(ctx);
        spec_ = std::string_view(ctx.begin(), static_cast<std::size_t>(end - ctx.begin()));
        return end;
    }
    /// Formats each bound through `fmt::format` (see `detail::write_text`).
    auto format(const sweet_async::min_max<T>& range, fmt::format_context& ctx) const {
        const std::string bound = "{:" + std::string(spec_) + "}";
        return sweet_async::detail::write_text(ctx,
                                               fmt::format(fmt::runtime(bound), range.min) + ".." +
                                                   fmt::format(fmt::runtime(bound), range.max));
    }

private:
    std::string_view spec_;
};

#endif  // SWEET_ASYNC_BASE_MIN_MAX_HPP
