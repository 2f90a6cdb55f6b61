// sweet_async/strategies/any_strategy.hpp: any of the built-in strategies, chosen at run time.
#ifndef SWEET_ASYNC_STRATEGIES_ANY_STRATEGY_HPP
#define SWEET_ASYNC_STRATEGIES_ANY_STRATEGY_HPP

#include <sweet_async/config.hpp>

#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/strategies/adaptive.hpp>
#include <sweet_async/strategies/batched.hpp>
#include <sweet_async/strategies/parallel.hpp>
#include <sweet_async/strategies/serial.hpp>

namespace sweet_async {

/// Holds one of `serial`, `parallel`, `batched` or `adaptive`, so the strategy
/// can be picked at run time (from a configuration file, a flag, ...) while
/// the task's type stays the same:
///
/// ```cpp
/// sa::any_strategy strategy = config.parallel ? sa::any_strategy(sa::parallel{})
///                                                  : sa::any_strategy(sa::serial{});
/// ```
///
/// Every alternative is compiled for the task's processor, so the processor
/// must suit all four (any per-event or per-batch processor does).
class any_strategy {
public:
    /// The alternatives it may hold; what `get()` returns.
    using variant_type = std::variant<serial, parallel, batched, adaptive>;

    /// Serial, with no per-event timeout.
    any_strategy() = default;

    // Implicit: a value of any alternative *is* a any_strategy. The
    // constraint keeps copies and moves away from it, which clang-tidy 14 does
    // not see.
    // NOLINTBEGIN(google-explicit-constructor,bugprone-forwarding-reference-overload)
    /// Holds `strategy`, a `serial`, `parallel`, `batched` or `adaptive` value.
    template <class Strategy>
    requires std::is_constructible_v<variant_type, Strategy&&> &&
        (!std::is_same_v<std::remove_cvref_t<Strategy>, any_strategy>)
            any_strategy(Strategy&& strategy)
        : choice_(std::forward<Strategy>(strategy)) {}
    // NOLINTEND(google-explicit-constructor,bugprone-forwarding-reference-overload)

    /// None of the strategies it may hold reads `event::created()`.
    static constexpr bool reads_creation_time = false;

    /// The held strategy's name.
    std::string_view name() const noexcept { return name_of(choice_); }

    /// Validates the held strategy (see its `validate`); throws `async_task_exception`.
    void validate(const task_options& options) const {
        std::visit([&](const auto& s) { s.validate(options); }, choice_);
    }

    /// Runs the held strategy's consumer coroutine on `receiver`.
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        return std::visit([&](const auto& s) { return s.run(receiver); }, choice_);
    }

    /// The strategy held.
    const variant_type& get() const noexcept { return choice_; }

private:
    // Not std::visit: it may throw std::bad_variant_access, which name() must not.
    template <class... Strategies>
    static std::string_view name_of(const std::variant<Strategies...>& choice) noexcept {
        std::string_view name;
        const auto take = [&name](const auto* held) noexcept {
            if (held) name = held->name();
        };
        (take(std::get_if<Strategies>(&choice)), ...);
        return name;
    }

    variant_type choice_;
};

}  // namespace sweet_async

/// Formats like the strategy it holds, e.g. "parallel(workers=1..4)".
template <>
struct fmt::formatter<sweet_async::any_strategy> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::any_strategy& r, fmt::format_context& ctx) const {
        return std::visit(
            [&](const auto& s) {
                return sweet_async::detail::write_text(ctx, fmt::format("{}", s));
            },
            r.get());
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_ANY_STRATEGY_HPP
