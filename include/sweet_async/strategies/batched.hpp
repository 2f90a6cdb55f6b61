// sweet_async/strategies/batched.hpp: events gathered into batches, by size or by time.
#ifndef SWEET_ASYNC_STRATEGIES_BATCHED_HPP
#define SWEET_ASYNC_STRATEGIES_BATCHED_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/receiver/batch_gatherer.hpp>
#include <sweet_async/receiver/receiver.hpp>

namespace sweet_async {

/// Gathers events into batches of up to `batch_size`. A batch is processed
/// when it is full, or when `window` has passed since its first event arrived,
/// whichever comes first; the event that ends the stream flushes the partial
/// batch at once. So an idle stream never holds an event longer than `window`.
///
/// With a per-batch processor, `std::vector<R>(std::span<const T>)` (or a
/// coroutine returning `asio::awaitable<std::vector<R>>`), the processor is
/// called once per batch, so a per-call cost (a database round trip, a
/// syscall) is paid once per batch; it must return one result per payload, in
/// order. With a per-event processor, the events of a batch are processed one
/// after the other.
///
/// ```cpp
/// .receiver(sa::batched{.batch_size = 100, .window = 5ms}, insert_rows)
/// ```
struct batched {
    /// The most events per batch.
    std::size_t batch_size = 100;
    /// The longest a batch waits for more events after its first one arrived.
    std::chrono::nanoseconds window = std::chrono::milliseconds(10);
    /// Processing timeout per processor call; none by default.
    std::optional<std::chrono::nanoseconds> timeout{};

    /// "batched", for tracing and statistics.
    std::string_view name() const noexcept { return "batched"; }
    /// Never reads `event::created()`.
    static constexpr bool reads_creation_time = false;

    /// Throws `async_task_exception` (`invalid_configuration`) naming the first
    /// field of its own whose value cannot work; called when the task is built.
    void validate(const task_options& options) const {
        if (batch_size == 0) throw options.invalid("batched.batch_size must be at least 1, got 0");
        options.require_positive("batched.window", window);
        options.require_positive("batched.timeout", timeout);
    }

    /// The consumer coroutine: gathers the events of `receiver` into batches and
    /// processes each when it is full, its window has passed, or the stream ends; returns when
    /// the stream has ended.
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        batch_gatherer<Receiver> gather(receiver, batch_size, window);
        while (co_await gather.next())
            co_await gather.flush(timeout);
    }
};

}  // namespace sweet_async

/// "batched(size=100, window=10ms)", with ", timeout=250ms" when set.
template <>
struct fmt::formatter<sweet_async::batched> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::batched& b, fmt::format_context& ctx) const {
        std::string text = fmt::format("batched(size={}, window={}", b.batch_size,
                                       sweet_async::detail::duration_text(b.window));
        if (b.timeout) {
            text += fmt::format(", timeout={}", sweet_async::detail::duration_text(*b.timeout));
        }
        text += ')';
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_BATCHED_HPP
