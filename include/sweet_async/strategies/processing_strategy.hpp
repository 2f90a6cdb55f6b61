// sweet_async/strategies/processing_strategy.hpp: what makes a type a processing strategy.
#ifndef SWEET_ASYNC_STRATEGIES_PROCESSING_STRATEGY_HPP
#define SWEET_ASYNC_STRATEGIES_PROCESSING_STRATEGY_HPP

#include <sweet_async/config.hpp>

#include <concepts>
#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)

#include <sweet_async/base/task_options.hpp>

namespace sweet_async {

/// A processing strategy is a copyable value that says how the consumer
/// coroutine drains the stream. It provides:
///
/// - `name()`: a short name for tracing and statistics;
/// - `validate(options)`: throws `async_task_exception`
///   (`invalid_configuration`, via `options.invalid(...)`) naming any field
///   of its own whose value cannot work; called when the task is built;
/// - `run(receiver)`: a coroutine `asio::awaitable<void> run(P& receiver) const`
///   that receives every event from the `receiver` and processes each exactly
///   once, returning when `wait_for_events()` reports the end of the stream.
///
/// `run` is checked against the concrete receiver when the task is built
/// (see `strategy_for`).
template <class S>
concept processing_strategy = std::copy_constructible<S> &&
    requires(const S& s, const task_options& o) {
    { s.name() } -> std::convertible_to<std::string_view>;
    s.validate(o);
};

/// Whether strategy `S` may read `created()` of the events it receives. True
/// unless `S` declares `static constexpr bool reads_creation_time = false;`,
/// which spares producers a clock read per event (see `event::created`).
template <class S>
constexpr bool reads_creation_time() noexcept {
    if constexpr (requires { S::reads_creation_time; }) {
        return S::reads_creation_time;
    } else {
        return true;
    }
}

/// `S` is a processing strategy that can drive receiver type `P`.
template <class S, class P>
concept strategy_for = processing_strategy<S> && requires(const S& s, P& receiver) {
    { s.run(receiver) } -> std::same_as<asio::awaitable<void>>;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_STRATEGIES_PROCESSING_STRATEGY_HPP
