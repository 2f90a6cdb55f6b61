// sweet_async/min_max.hpp: an inclusive range of allowed values.
#ifndef SWEET_ASYNC_MIN_MAX_HPP
#define SWEET_ASYNC_MIN_MAX_HPP

#include <algorithm>

#include <fmt/format.h>

namespace sweet_async {

/// An inclusive range `[min, max]`, e.g. the worker bounds of `parallel`:
/// `min_max<std::size_t>{2, 8}`.
template <class T>
struct min_max {
    T min{};  ///< The lowest allowed value.
    T max{};  ///< The highest allowed value.

    /// True when `min <= max`.
    constexpr bool valid() const { return !(max < min); }
    /// True when `min <= value <= max`.
    constexpr bool contains(const T& value) const { return !(value < min) && !(max < value); }
    /// `value` brought inside the range. Requires `valid()`.
    constexpr T clamp(const T& value) const { return std::clamp(value, min, max); }

    friend constexpr bool operator==(const min_max&, const min_max&) = default;
};

/// `min_max{2, 8}` deduces `min_max<int>`; both bounds must have the same type.
template <class T>
min_max(T, T) -> min_max<T>;

}  // namespace sweet_async

/// "2..8": both bounds written with `T`'s formatter and the same format spec.
template <class T>
struct fmt::formatter<sweet_async::min_max<T>> : fmt::formatter<T> {
    template <class FormatContext>
    auto format(const sweet_async::min_max<T>& range, FormatContext& ctx) const {
        auto out = fmt::formatter<T>::format(range.min, ctx);
        out = fmt::format_to(out, "..");
        ctx.advance_to(out);
        return fmt::formatter<T>::format(range.max, ctx);
    }
};

#endif  // SWEET_ASYNC_MIN_MAX_HPP
