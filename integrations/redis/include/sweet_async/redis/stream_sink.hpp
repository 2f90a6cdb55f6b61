// sweet_async/redis/stream_sink.hpp: a task's events written to a Redis stream, so that a flow
// can continue in other processes.
#ifndef SWEET_ASYNC_REDIS_STREAM_SINK_HPP
#define SWEET_ASYNC_REDIS_STREAM_SINK_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/redis/connection.hpp>
#include <sweet_async/redis/reply.hpp>

namespace sweet_async::redis {

/// The settings of a `stream_sink`.
struct sink_options {
    /// The stream written to.
    std::string stream{};
    /// Trims the stream to about this many entries as it grows (`XADD ... MAXLEN ~ n`): the
    /// server trims whole nodes, so the stream may hold somewhat more. None: never trimmed.
    std::optional<std::size_t> max_length{};
    /// Trims to exactly `max_length` (`MAXLEN = n`), at a cost on every write.
    bool exact_trim = false;

    /// Throws `std::invalid_argument` naming the first setting that cannot work.
    void validate() const {
        if (stream.empty())
            throw std::invalid_argument(
                "redis::sink_options.stream must name a stream, got an empty string");
        if (max_length && *max_length == 0)
            throw std::invalid_argument("redis::sink_options.max_length must be at least 1, got 0");
    }
};

/// Writes a task's events to a stream: the last stage of a flow in one
/// process, whose stream the first stage of another reads (`stream_source`).
/// Its `writer(encode)` is a per-batch processor for a `batched` (or
/// `serial`) task: each call `XADD`s the batch's payloads in one pipelined
/// write and returns the new entries' ids, one per payload, as results. A
/// lost connection fails the call (the task's retries try again, on a new
/// connection); since a write may have landed before the failure was seen,
/// a retried batch can be written twice: at least once, like the source.
class stream_sink {
public:
    /// A sink writing `options.stream` on `server` (authenticating as it says); its I/O runs
    /// on `executor`. Throws `std::invalid_argument` naming a setting that cannot work.
    stream_sink(const asio::any_io_executor& executor, server server, sink_options options)
        : state_(std::make_shared<state>(executor, std::move(server), std::move(options))) {
        state_->options.validate();
    }

    /// A sink writing `options.stream` on the server at `endpoint`, without credentials.
    stream_sink(const asio::any_io_executor& executor, const asio::ip::tcp::endpoint& endpoint,
                sink_options options)
        : stream_sink(executor, server::at(endpoint), std::move(options)) {}

    /// The per-batch processor, `asio::awaitable<std::vector<std::string>>(std::span<const
    /// T>)`, writing each payload as the fields `encode(const T&)` returns
    /// (`std::vector<std::pair<std::string, std::string>>`, at least one). One call at a time.
    template <class Encode>
    auto writer(Encode encode) const {
        return [state = state_, encode = std::move(encode)]<class T>(
                   std::span<const T> payloads) -> asio::awaitable<std::vector<std::string>> {
            co_return co_await state->write(payloads, encode);
        };
    }

    /// Entries written so far (confirmed by the server). Any thread.
    std::size_t written() const noexcept { return state_->written.load(std::memory_order_relaxed); }

private:
    struct state {
        state(const asio::any_io_executor& executor, redis::server where, sink_options settings)
            : connection(executor),
              server(std::move(where)),
              options(std::move(settings)) {}

        template <class T, class Encode>
        asio::awaitable<std::vector<std::string>> write(std::span<const T> payloads,
                                                        const Encode& encode) {
            if (busy.exchange(true, std::memory_order_acquire)) {
                throw std::logic_error("redis::stream_sink's writer was called while a call was "
                                       "in progress: give it to a serial or batched task");
            }
            struct release {
                std::atomic<bool>& flag;
                ~release() { flag.store(false, std::memory_order_release); }
            } done{busy};

            std::vector<std::vector<std::string>> commands;
            commands.reserve(payloads.size());
            for (const T& payload : payloads) {
                std::vector<std::string> command{"XADD", options.stream};
                if (options.max_length) {
                    command.insert(command.end(), {"MAXLEN", options.exact_trim ? "=" : "~",
                                                   std::to_string(*options.max_length)});
                }
                command.emplace_back("*");
                auto fields = std::invoke(encode, payload);
                if (fields.empty())
                    throw std::invalid_argument("redis::stream_sink: an entry needs a field");
                for (auto& [name, value] : fields) {
                    command.push_back(std::move(name));
                    command.push_back(std::move(value));
                }
                commands.push_back(std::move(command));
            }
            if (!connected) {
                error_code ec;
                co_await connection.async_connect(server,
                                                  asio::redirect_error(asio::use_awaitable, ec));
                if (ec)
                    throw system_error(ec,
                                       fmt::format("redis::stream_sink: connecting to {}", server));
                connected = true;
            }
            error_code ec;
            std::vector<reply> replies = co_await connection.async_execute_batch(
                std::move(commands), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                connected = false;  // the next call connects again
                throw system_error(ec, "redis::stream_sink: writing");
            }
            std::vector<std::string> ids;
            ids.reserve(replies.size());
            for (reply& r : replies) {
                if (r.kind != reply_kind::string) {
                    throw std::runtime_error(
                        fmt::format("redis::stream_sink: XADD {} answered {}", options.stream, r));
                }
                ids.push_back(std::move(r.text));
            }
            written.fetch_add(ids.size(), std::memory_order_relaxed);
            co_return ids;
        }

        redis::connection connection;
        redis::server server;
        sink_options options;
        bool connected = false;               // touched by the one call in progress
        std::atomic<bool> busy{false};        // acquire/release: hands `connected` between calls
        std::atomic<std::size_t> written{0};  // relaxed: a count for reporting
    };

    std::shared_ptr<state> state_;
};

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_STREAM_SINK_HPP
