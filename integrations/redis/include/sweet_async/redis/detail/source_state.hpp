// sweet_async/redis/detail/source_state.hpp: what a stream source shares between its reader,
// the task's collector and dead-letter target, and the loop that settles entries.
#ifndef SWEET_ASYNC_REDIS_DETAIL_SOURCE_STATE_HPP
#define SWEET_ASYNC_REDIS_DETAIL_SOURCE_STATE_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(detached)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(strand)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/channel/detail/waiter.hpp>
#include <sweet_async/redis/connection.hpp>
#include <sweet_async/redis/stream_entry.hpp>
#include <sweet_async/redis/stream_options.hpp>
#include <sweet_async/redis/stream_source_stats.hpp>

namespace sweet_async::redis::detail {

/// The connection failed (refused, lost, garbled): the caller reconnects.
struct connection_lost : system_error {
    using system_error::system_error;
};

/// A failed entry on its way to the dead-letter stream.
struct dead_entry {
    stream_entry entry;
    std::string error;
    unsigned attempts = 0;
};

/// The shared state of a `stream_source`. The reader (the task's emitter)
/// reads the group into the task; acknowledgements and dead letters arrive
/// from the task's consumer strand and are settled by one loop on a
/// connection of its own (a blocking read would hold them up on the
/// reader's), one `XACK` per batch. The first settlement after a quiet spell
/// starts the loop; what arrives while it writes waits for its next batch.
class source_state : public std::enable_shared_from_this<source_state> {
public:
    source_state(const asio::any_io_executor& executor, redis::server server,
                 stream_options options)
        : settle_strand_(asio::make_strand(executor)),
          server_(std::move(server)),
          options_(std::move(options)) {
        options_.validate();
    }

    const stream_options& options() const noexcept { return options_; }

    /// Where settlements and their completions run when a handler names no executor.
    const asio::strand<asio::any_io_executor>& strand() const noexcept { return settle_strand_; }

    stream_source_stats stats() const noexcept {
        return {.read = read_.load(std::memory_order_relaxed),
                .reclaimed = reclaimed_.load(std::memory_order_relaxed),
                .acknowledged = acknowledged_.load(std::memory_order_relaxed),
                .dead_lettered = dead_lettered_.load(std::memory_order_relaxed),
                .reconnects = reconnects_.load(std::memory_order_relaxed),
                .refused = refused_.load(std::memory_order_relaxed)};
    }

    // ---- reading -------------------------------------------------------------------------

    /// The emitter: reads the group into `sender` until stopped (or drained, with
    /// `end_when_drained`), reconnecting after a failure and re-reading what this consumer
    /// had been given. A reply the source cannot use ends it with an exception naming it.
    template <class Sender>
    asio::awaitable<void> read_into(Sender& sender) {
        connection c(co_await asio::this_coro::executor);
        bool fresh = true;
        std::string claim_cursor = "0-0";
        auto next_claim = std::chrono::steady_clock::now();
        unsigned failures = 0;  // in a row: the backoff grows with them
        for (;;) {
            const auto state = co_await asio::this_coro::cancellation_state;
            if (state.cancelled() != asio::cancellation_type::none) co_return;
            if (failures != 0) co_await pause(options_.reconnect.delay(failures));
            try {
                if (fresh) {
                    co_await connect(c);
                    co_await ensure_group(c);
                    co_await read_own_pending(c, sender);
                    fresh = false;
                }
                std::size_t found = 0;
                if (std::chrono::steady_clock::now() >= next_claim) {
                    found += co_await claim(c, sender, claim_cursor);
                    next_claim = std::chrono::steady_clock::now() +
                                 std::max<std::chrono::milliseconds>(options_.claim_idle / 4,
                                                                     options_.block);
                }
                // A job that ends when drained asks without BLOCK first, so that its last
                // read does not wait `block` for entries that will not come.
                using std::chrono::milliseconds;
                found += co_await read_new(
                    c, sender, options_.end_when_drained ? milliseconds(0) : options_.block);
                failures = 0;
                if (options_.end_when_drained && found == 0) {
                    if (claim_cursor == "0-0" && co_await pending_in_group(c) == 0) co_return;
                    // Entries pending with other consumers, which are about to acknowledge them
                    // or to die: wait a little on the server for new ones (not `block`, which
                    // would be the job's last wait) rather than ask again at once.
                    co_await read_new(c, sender, std::min(options_.block, milliseconds(10)));
                }
            } catch (const connection_lost&) {
                reconnects_.fetch_add(1, std::memory_order_relaxed);
                fresh = true;
                ++failures;
            }
        }
    }

    // ---- settling ------------------------------------------------------------------------

    /// Queues the acknowledgement of entry `id`. Any thread.
    void acknowledge(std::string id) {
        bool start = false;
        {
            std::lock_guard lock(mutex_);
            to_acknowledge_.push_back(std::move(id));
            start = !std::exchange(settling_, true);
        }
        if (start) start_settling();
    }

    /// Queues `entry` for the dead-letter stream (then its acknowledgement). Any thread.
    void dead_letter(stream_entry entry, std::string error, unsigned attempts) {
        bool start = false;
        {
            std::lock_guard lock(mutex_);
            letters_.push_back(dead_entry{std::move(entry), std::move(error), attempts});
            start = !std::exchange(settling_, true);
        }
        if (start) start_settling();
    }

    /// Parks `waiter` until everything queued so far is settled (at once if it is).
    void when_settled(std::unique_ptr<sweet_async::detail::waiter> waiter) {
        {
            std::lock_guard lock(mutex_);
            if (settling_) {
                settled_waiters_.push_back(std::move(waiter));
                return;
            }
        }
        waiter->complete({});
    }

    /// Withdraws a parked `when_settled` waiter (its operation was cancelled).
    void withdraw(sweet_async::detail::waiter* w) {
        std::unique_ptr<sweet_async::detail::waiter> found;
        {
            std::lock_guard lock(mutex_);
            const auto it = std::find_if(settled_waiters_.begin(), settled_waiters_.end(),
                                         [w](const auto& p) { return p.get() == w; });
            if (it == settled_waiters_.end()) return;
            found = std::move(*it);
            settled_waiters_.erase(it);
        }
        found->complete(sweet_async::detail::operation_aborted());
    }

private:
    /// Starts the settling loop, which this caller found idle. Not under the mutex: the
    /// loop's first step may run inline and take it.
    void start_settling() {
        asio::co_spawn(settle_strand_, settle_loop(shared_from_this()), asio::detached);
    }

    static asio::awaitable<void> settle_loop(std::shared_ptr<source_state> self) {
        connection c(self->settle_strand_);
        bool connected = false;
        for (;;) {
            std::vector<std::string> ids;
            std::vector<dead_entry> letters;
            std::vector<std::unique_ptr<sweet_async::detail::waiter>> settled;
            {
                std::lock_guard lock(self->mutex_);
                letters.swap(self->letters_);
                const std::size_t n =
                    std::min(self->to_acknowledge_.size(), self->options_.ack_batch);
                ids.assign(std::make_move_iterator(self->to_acknowledge_.begin()),
                           std::make_move_iterator(self->to_acknowledge_.begin() +
                                                   static_cast<std::ptrdiff_t>(n)));
                self->to_acknowledge_.erase(self->to_acknowledge_.begin(),
                                            self->to_acknowledge_.begin() +
                                                static_cast<std::ptrdiff_t>(n));
                if (ids.empty() && letters.empty()) {
                    self->settling_ = false;
                    settled.swap(self->settled_waiters_);
                }
            }
            if (ids.empty() && letters.empty()) {
                for (auto& w : settled)
                    w->complete({});
                co_return;
            }
            // Retried until it lands: an entry left unacknowledged would only be delivered
            // again, but a dead letter must not be lost.
            for (unsigned attempt = 0;; ++attempt) {
                if (attempt != 0) co_await pause(self->options_.reconnect.delay(attempt));
                try {
                    if (!connected) {
                        co_await self->connect(c);
                        connected = true;
                    }
                    co_await self->settle(c, letters, ids);
                    break;
                } catch (const connection_lost&) {
                    connected = false;
                    self->reconnects_.fetch_add(1, std::memory_order_relaxed);
                } catch (const std::exception&) {
                    // Refused by the server (the group or stream deleted): no retry changes
                    // that. Counted, so that nothing goes unseen; the entries stay pending.
                    self->refused_.fetch_add(ids.size() + letters.size(),
                                             std::memory_order_relaxed);
                    break;
                }
            }
        }
    }

    /// Writes `letters` to the dead-letter stream and acknowledges them and `ids`.
    asio::awaitable<void> settle(connection& c, std::vector<dead_entry>& letters,
                                 std::vector<std::string>& ids) {
        for (auto& letter : letters) {
            std::vector<std::string> command{"XADD",
                                             options_.dead_letters(),
                                             "*",
                                             "entry",
                                             letter.entry.id,
                                             "error",
                                             letter.error,
                                             "attempts",
                                             std::to_string(letter.attempts),
                                             "deliveries",
                                             std::to_string(letter.entry.deliveries)};
            for (const auto& [name, value] : letter.entry.fields) {
                command.push_back("field:" + name);
                command.push_back(value);
            }
            const reply added = co_await call(c, std::move(command));
            if (added.is_error())
                throw std::runtime_error(
                    fmt::format("XADD {}: {}", options_.dead_letters(), added));
        }
        std::vector<std::string> command{"XACK", options_.stream, options_.group};
        command.reserve(3 + ids.size() + letters.size());
        for (auto& letter : letters)
            command.push_back(letter.entry.id);
        command.insert(command.end(), ids.begin(), ids.end());
        const reply acked = co_await call(c, std::move(command));
        if (acked.is_error()) throw std::runtime_error(fmt::format("XACK: {}", acked));
        dead_lettered_.fetch_add(letters.size(), std::memory_order_relaxed);
        acknowledged_.fetch_add(ids.size() + letters.size(), std::memory_order_relaxed);
    }

    // ---- the commands ----------------------------------------------------------------------

    static asio::awaitable<reply> call(connection& c, std::vector<std::string> command) {
        const std::string name = command.empty() ? std::string() : command.front();
        error_code ec;
        reply r = co_await c.async_execute(std::move(command),
                                           asio::redirect_error(asio::use_awaitable, ec));
        if (ec && reconnecting_cannot_help(ec)) throw system_error(ec, name);
        if (ec) throw connection_lost(ec, "redis");
        // Refusals no retry can change end the work at once, saying which command and why.
        if (r.is_error() && r.text.starts_with("NOAUTH"))
            throw system_error(make_error_code(error::authentication_required), name);
        if (r.is_error() && r.text.starts_with("NOPERM"))
            throw system_error(make_error_code(error::no_permission), name + ": " + r.text);
        if (r.is_error() && (r.text.starts_with("LOADING") || r.text.starts_with("BUSY ") ||
                             r.text.starts_with("TRYAGAIN"))) {
            throw connection_lost(make_error_code(error::not_ready), r.text);
        }
        co_return r;
    }

    // Commands are built in a variable before `co_await call(...)`: GCC 12 rejects a braced
    // list of them inside a co_await expression ("array used as initializer").

    /// Connects, waiting `reconnect`'s backoff between attempts; a stop request interrupts
    /// the wait.
    static asio::awaitable<void> pause(std::chrono::nanoseconds how_long) {
        asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
        co_await timer.async_wait(asio::use_awaitable);
    }

    asio::awaitable<void> connect(connection& c) {
        for (unsigned attempt = 0;; ++attempt) {
            if (attempt != 0) co_await pause(options_.reconnect.delay(attempt));
            error_code ec;
            co_await c.async_connect(server_, asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) co_return;
            if (reconnecting_cannot_help(ec))
                throw system_error(ec, fmt::format("connecting to {}", server_));  // no retry
        }
    }

    asio::awaitable<void> ensure_group(connection& c) {
        std::vector<std::string> command{
            "XGROUP", "CREATE", options_.stream, options_.group, options_.group_start, "MKSTREAM"};
        const reply r = co_await call(c, std::move(command));
        if (r.is_error() && !r.text.starts_with("BUSYGROUP")) {
            throw std::runtime_error(
                fmt::format("XGROUP CREATE {} {}: {}", options_.stream, options_.group, r));
        }
    }

    /// What this consumer was given before and did not acknowledge (after a reconnection or a
    /// restart under the same name).
    template <class Sender>
    asio::awaitable<void> read_own_pending(connection& c, Sender& sender) {
        std::string after = "0";
        for (;;) {
            std::vector<std::string> command{
                "XREADGROUP",      "GROUP",         options_.group,
                options_.consumer, "COUNT",         std::to_string(options_.count),
                "STREAMS",         options_.stream, after};
            const reply r = co_await call(c, std::move(command));
            auto entries = entries_of_read(r);
            if (entries.empty()) co_return;
            after = entries.back().id;
            co_await hand_over(c, sender, std::move(entries), true);
        }
    }

    /// Reads up to `count` entries never delivered, waiting up to `block` on the server for
    /// one to come (not at all when zero).
    template <class Sender>
    asio::awaitable<std::size_t> read_new(connection& c, Sender& sender,
                                          std::chrono::milliseconds block) {
        std::vector<std::string> command{"XREADGROUP",   "GROUP",
                                         options_.group, options_.consumer,
                                         "COUNT",        std::to_string(options_.count)};
        if (block.count() > 0)
            command.insert(command.end(), {"BLOCK", std::to_string(block.count())});
        command.insert(command.end(), {"STREAMS", options_.stream, ">"});
        const reply r = co_await call(c, std::move(command));
        auto entries = entries_of_read(r);
        const std::size_t n = entries.size();
        co_await hand_over(c, sender, std::move(entries), false);
        co_return n;
    }

    /// Takes over entries idle for `claim_idle` with other consumers (their workers died).
    template <class Sender>
    asio::awaitable<std::size_t> claim(connection& c, Sender& sender, std::string& cursor) {
        std::vector<std::string> command{"XAUTOCLAIM",
                                         options_.stream,
                                         options_.group,
                                         options_.consumer,
                                         std::to_string(options_.claim_idle.count()),
                                         cursor,
                                         "COUNT",
                                         std::to_string(options_.count)};
        const reply r = co_await call(c, std::move(command));
        if (r.is_error() || r.kind != reply_kind::array || r.elements.size() < 2)
            throw std::runtime_error(fmt::format("XAUTOCLAIM {}: {}", options_.stream, r));
        cursor = r.elements[0].text;
        auto entries = parse_entries(r.elements[1]);
        const std::size_t n = entries.size();
        reclaimed_.fetch_add(n, std::memory_order_relaxed);
        co_await hand_over(c, sender, std::move(entries), true);
        co_return n;
    }

    asio::awaitable<std::int64_t> pending_in_group(connection& c) {
        std::vector<std::string> command{"XPENDING", options_.stream, options_.group};
        const reply r = co_await call(c, std::move(command));
        if (r.kind != reply_kind::array || r.elements.empty() ||
            r.elements[0].kind != reply_kind::integer) {
            throw std::runtime_error(fmt::format("XPENDING {}: {}", options_.stream, r));
        }
        co_return r.elements[0].integer;
    }

    /// The entries of an XREADGROUP reply (nil when BLOCK timed out).
    std::vector<stream_entry> entries_of_read(const reply& r) const {
        if (r.is_nil()) return {};
        if (r.kind != reply_kind::array || r.elements.empty() ||
            r.elements[0].kind != reply_kind::array || r.elements[0].elements.size() != 2) {
            throw std::runtime_error(fmt::format("XREADGROUP {}: {}", options_.stream, r));
        }
        return parse_entries(r.elements[0].elements[1]);
    }

    /// Sends `entries` into the task in their order; redelivered ones first learn their
    /// delivery count, and one delivered too often goes to the dead-letter stream instead.
    template <class Sender>
    asio::awaitable<void> hand_over(connection& c, Sender& sender,
                                    std::vector<stream_entry> entries, bool redelivered) {
        if (entries.empty()) co_return;
        if (redelivered) co_await learn_deliveries(c, entries);
        read_.fetch_add(entries.size(), std::memory_order_relaxed);
        for (auto& e : entries) {
            if (e.deliveries > options_.max_deliveries) {
                const unsigned deliveries = e.deliveries;
                dead_letter(std::move(e),
                            fmt::format("delivered {} times, more than max_deliveries ({})",
                                        deliveries, options_.max_deliveries),
                            0);
                continue;
            }
            co_await sender.send(std::move(e));
        }
    }

    asio::awaitable<void> learn_deliveries(connection& c, std::vector<stream_entry>& entries) {
        std::vector<std::string> command{"XPENDING",        options_.stream,
                                         options_.group,    entries.front().id,
                                         entries.back().id, std::to_string(entries.size()),
                                         options_.consumer};
        const reply r = co_await call(c, std::move(command));
        if (r.kind != reply_kind::array)
            throw std::runtime_error(fmt::format("XPENDING {}: {}", options_.stream, r));
        std::map<std::string_view, unsigned> deliveries;
        for (const reply& item : r.elements) {
            if (item.kind == reply_kind::array && item.elements.size() == 4) {
                deliveries[item.elements[0].text] = static_cast<unsigned>(item.elements[3].integer);
            }
        }
        for (auto& e : entries) {
            if (const auto it = deliveries.find(e.id); it != deliveries.end())
                e.deliveries = it->second;
        }
    }

    asio::strand<asio::any_io_executor> settle_strand_;
    redis::server server_;
    stream_options options_;

    std::mutex mutex_;  // guards what follows, up to the counters
    std::vector<std::string> to_acknowledge_;
    std::vector<dead_entry> letters_;
    std::vector<std::unique_ptr<sweet_async::detail::waiter>> settled_waiters_;
    bool settling_ = false;

    // Relaxed: counters for reporting, each exact, read as a snapshot.
    std::atomic<std::uint64_t> read_{0};
    std::atomic<std::uint64_t> reclaimed_{0};
    std::atomic<std::uint64_t> acknowledged_{0};
    std::atomic<std::uint64_t> dead_lettered_{0};
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<std::uint64_t> refused_{0};
};

}  // namespace sweet_async::redis::detail

#endif  // SWEET_ASYNC_REDIS_DETAIL_SOURCE_STATE_HPP
