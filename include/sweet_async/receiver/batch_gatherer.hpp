// sweet_async/receiver/batch_gatherer.hpp: events gathered into batches by size or by time.
#ifndef SWEET_ASYNC_RECEIVER_BATCH_GATHERER_HPP
#define SWEET_ASYNC_RECEIVER_BATCH_GATHERER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)

namespace sweet_async {

/// Gathers the events of a receiver into batches of up to `size()` events:
/// a batch is due when it is full, when it holds the event that ends the
/// stream, or when `window` has passed since its first event arrived. The
/// batching of `batched` and of the adaptive strategy's batched windows, and
/// a building block for strategies of one's own:
///
/// ```cpp
/// batch_gatherer gather(receiver, 100, 5ms);
/// while (co_await gather.next()) co_await gather.flush(timeout);
/// ```
///
/// Used from the strategy's coroutine only.
template <class Receiver>
class batch_gatherer {
public:
    using event_type = typename Receiver::event_type;  ///< What it gathers.
    using clock = std::chrono::steady_clock;           ///< The clock of its windows.

    /// Batches of up to `size` events (at least 1) from `receiver`, each
    /// waiting at most `window` for more after its first event.
    batch_gatherer(Receiver& receiver, std::size_t size, std::chrono::nanoseconds window)
        : pipeline_(receiver),
          size_(std::max<std::size_t>(size, 1)),
          window_(window) {
        // A size far above any real batch (a "window only" setting) must not
        // be allocated up front.
        batch_.reserve(std::min<std::size_t>(size_, 1024));
    }

    /// The most events per batch.
    std::size_t size() const noexcept { return size_; }
    /// Changes the most events per batch (at least 1), from the next batch on.
    void resize(std::size_t size) noexcept { size_ = std::max<std::size_t>(size, 1); }

    /// Events gathered and not yet flushed.
    std::size_t gathered() const noexcept { return batch_.size(); }

    /// Suspends until the batch is due or `until` has passed (with a partial
    /// batch: an empty one waits for its first event whatever `until` says).
    /// Returns false once the stream has ended and nothing is left to flush.
    asio::awaitable<bool> next(clock::time_point until = clock::time_point::max()) {
        for (;;) {
            if (take_ready()) co_return true;
            if (batch_.empty()) {
                const auto from = clock::now();
                const bool more = co_await pipeline_.wait_for_events();
                waited_ += clock::now() - from;
                if (!more) co_return false;
                continue;
            }
            const auto from = clock::now();
            const bool ready = co_await pipeline_.wait_for_events_until(std::min(due_, until));
            waited_ += clock::now() - from;
            // The window closed, `until` passed, or the stream ended.
            if (!ready) co_return true;
        }
    }

    /// Processes what was gathered and empties the batch: with one call of
    /// a per-batch processor, or event by event otherwise; returns once
    /// every event of it has its outcome.
    asio::awaitable<void> flush(std::optional<std::chrono::nanoseconds> timeout) {
        if constexpr (Receiver::batch_processor) {
            pipeline_.process_batch(batch_, timeout);
            if (pipeline_.in_flight() != 0) co_await pipeline_.wait_in_flight_below(1);
        } else {
            for (auto& e : batch_) {
                pipeline_.process(std::move(e), timeout);
                if (pipeline_.in_flight() != 0) co_await pipeline_.wait_in_flight_below(1);
            }
            batch_.clear();
        }
        ends_stream_ = false;
    }

    /// The time `next` spent suspended since the last call: waiting for
    /// events, not working (for strategies that measure).
    std::chrono::nanoseconds take_waited() noexcept { return std::exchange(waited_, {}); }

private:
    /// Takes the events that are ready, up to the batch size; true when the
    /// batch is then due for its size or for the stream's end.
    bool take_ready() {
        while (batch_.size() < size_ && !ends_stream_) {
            auto e = pipeline_.try_receive();
            if (!e) break;
            if (batch_.empty()) due_ = clock::now() + window_;
            ends_stream_ = e->is_final();
            batch_.push_back(std::move(*e));
        }
        return batch_.size() >= size_ || ends_stream_;
    }

    Receiver& pipeline_;
    std::size_t size_;
    std::chrono::nanoseconds window_;
    std::vector<event_type> batch_;
    clock::time_point due_{};   // when the current batch's window closes
    bool ends_stream_ = false;  // the batch holds the event that ends the stream
    std::chrono::nanoseconds waited_{0};
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_RECEIVER_BATCH_GATHERER_HPP
