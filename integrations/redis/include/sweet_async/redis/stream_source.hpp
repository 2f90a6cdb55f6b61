// sweet_async/redis/stream_source.hpp: a Redis stream, read through a consumer group, as the
// events of an emitting task; each entry acknowledged once its event's outcome is recorded.
#ifndef SWEET_ASYNC_REDIS_STREAM_SOURCE_HPP
#define SWEET_ASYNC_REDIS_STREAM_SOURCE_HPP

#include <sweet_async/config.hpp>

#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)

#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/channel/detail/waiter.hpp>
#include <sweet_async/redis/detail/source_state.hpp>
#include <sweet_async/redis/server.hpp>
#include <sweet_async/redis/stream_entry.hpp>
#include <sweet_async/redis/stream_options.hpp>
#include <sweet_async/redis/stream_source_stats.hpp>

namespace sweet_async::redis {

/// Reads a stream as one consumer of a group into an emitting task, and
/// settles each entry once its event has an outcome: `XACK` after it was
/// processed; `XADD` to the dead-letter stream (with its error, attempts and
/// fields), then `XACK`, after it failed or timed out for good. A cancelled
/// event's entry is left pending: the group delivers it again, here after a
/// reconnection, or to another worker once it has been idle `claim_idle`.
/// Delivery is at least once.
///
/// It is three parts of one task, given to its builder:
///
/// ```cpp
/// redis::stream_source source(io.get_executor(), server,
///                             {.stream = "log", .group = "digest", .consumer = "worker-1"});
/// auto task = sa::emitting_builder<redis::stream_entry>(io)
///                 .emitter(source.reader())            // reads while the channel has room
///                 .dead_letter(source.dead_letters())  // failed entries, then XACK
///                 .receiver(sa::parallel{}, redis::decoding(parse_line, digest))
///                 .collector(redis::acknowledging<summary>(source))  // XACK when processed
///                 .start_queue();
/// ```
///
/// A handle: copies share one source. Entries are read `count` at a time
/// and sent into the task as its channel takes them, so the broker holds the
/// backlog and the task at most its capacity and one read more.
class stream_source {
public:
    /// A source reading `options.stream` on `server` (authenticating as it says, on every
    /// connection); its I/O runs on `executor`. Throws `std::invalid_argument` naming a setting
    /// that cannot work. Credentials the server refuses, a password it wants and was not
    /// given, or a permission the user lacks end the reader at once with that error
    /// (`error::authentication_failed`, `authentication_required`, `no_permission`).
    stream_source(const asio::any_io_executor& executor, server server, stream_options options)
        : state_(std::make_shared<detail::source_state>(executor, std::move(server),
                                                        std::move(options))) {}

    /// A source reading `options.stream` on the server at `endpoint`, without credentials.
    stream_source(const asio::any_io_executor& executor, const asio::ip::tcp::endpoint& endpoint,
                  stream_options options)
        : stream_source(executor, server::at(endpoint), std::move(options)) {}

    /// The task's emitter, `asio::awaitable<void>(sa::sender<stream_entry, Id>&)`: connects
    /// (again after a failure, with the reconnection backoff), creates the group when missing,
    /// re-reads what this consumer was given and did not acknowledge, then takes over entries
    /// idle with other consumers and reads new ones, until the task stops it (or, with
    /// `end_when_drained`, the group has nothing left).
    auto reader() const {
        return [state = state_](auto& sender) -> asio::awaitable<void> {
            co_await state->read_into(sender);
        };
    }

    /// The task's dead-letter target, `void(sa::dead_letter<stream_entry>&&)`.
    auto dead_letters() const {
        return [state = state_](sweet_async::dead_letter<stream_entry>&& letter) {
            if (!letter.payload) return;  // the final event of a move-only payload: never here
            state->dead_letter(std::move(*letter.payload), std::move(letter.error.message),
                               letter.error.attempts);
        };
    }

    /// Queues the acknowledgement of the entry `id` (what `acknowledging` calls for each
    /// processed event). Any thread.
    void acknowledge(std::string id) const { state_->acknowledge(std::move(id)); }

    /// Completes, `void(error_code)`, once every acknowledgement and dead letter queued
    /// before the call is confirmed by the server; `operation_aborted` if cancelled (Asio
    /// per-operation cancellation). While the server is unreachable it keeps trying.
    template <class CompletionToken>
    auto async_settle(CompletionToken&& token) const {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [state = state_](auto handler) {
                const asio::any_io_executor executor = state->strand();
                state->when_settled(sweet_async::detail::make_waiter(
                    std::move(handler), executor,
                    [weak = std::weak_ptr<detail::source_state>(state)](
                        sweet_async::detail::waiter* w) {
                        if (auto alive = weak.lock()) alive->withdraw(w);
                    }));
            },
            token);
    }

    /// What the source has done so far. Any thread.
    stream_source_stats stats() const noexcept { return state_->stats(); }

    /// Its settings.
    const stream_options& options() const noexcept { return state_->options(); }

private:
    std::shared_ptr<detail::source_state> state_;
};

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_STREAM_SOURCE_HPP
