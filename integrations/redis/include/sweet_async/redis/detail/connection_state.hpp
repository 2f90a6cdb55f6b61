// sweet_async/redis/detail/connection_state.hpp: one connection's socket, parser and the
// commands waiting for their replies.
#ifndef SWEET_ASYNC_REDIS_DETAIL_CONNECTION_STATE_HPP
#define SWEET_ASYNC_REDIS_DETAIL_CONNECTION_STATE_HPP

#include <sweet_async/config.hpp>

#include <array>
#include <cstddef>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(error)
#include SWEET_ASYNC_ASIO_HEADER(executor_work_guard)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)
#include SWEET_ASYNC_ASIO_HEADER(post)
#include SWEET_ASYNC_ASIO_HEADER(strand)
#include SWEET_ASYNC_ASIO_HEADER(write)

#include <sweet_async/redis/detail/tls_layer.hpp>
#include <sweet_async/redis/error.hpp>
#include <sweet_async/redis/reply.hpp>

#include <hiredis/hiredis.h>

namespace sweet_async::redis::detail {

/// The completion handler of one command, or of a batch of them, parked until
/// its replies arrive: its own node in the queue of commands in flight,
/// type-erased. One node per batch: it takes the batch's replies in turn.
class pending_reply {
public:
    virtual ~pending_reply() = default;
    /// Takes the next reply it waits for; true once it has them all (its
    /// handler is then posted).
    virtual bool take(reply r) = 0;
    /// Posts its handler with `ec` (the connection failed); never inline.
    virtual void fail(error_code ec) = 0;
};

/// Posts `handler(args...)` to the executor `work` tracks, releasing the work.
template <class Work, class Handler, class... Args>
void post_handler(Work& work, Handler& handler, Args&&... args) {
    // The guard kept the handler's context running while the command was
    // in flight; the post counts as work from here on.
    auto tracked = std::move(work);
    asio::post(tracked.get_executor(),
               [handler = std::move(handler), ... args = std::forward<Args>(args)]() mutable {
                   std::move(handler)(std::move(args)...);
               });
    tracked.reset();
}

/// One command's handler, `void(error_code, reply)`.
template <class Handler, class IoExecutor>
class handler_reply final : public pending_reply {
public:
    handler_reply(Handler handler, const IoExecutor& io_executor)
        : work_(asio::make_work_guard(handler, io_executor)),
          handler_(std::move(handler)) {}

    bool take(reply r) override {
        post_handler(work_, handler_, error_code{}, std::move(r));
        return true;
    }
    void fail(error_code ec) override { post_handler(work_, handler_, ec, reply{}); }

private:
    using work_guard = decltype(asio::make_work_guard(std::declval<Handler&>(),
                                                      std::declval<const IoExecutor&>()));
    work_guard work_;
    Handler handler_;
};

/// A batch's handler, `void(error_code, std::vector<reply>)`: the
/// replies of its `expected` commands, in their order.
template <class Handler, class IoExecutor>
class batch_reply final : public pending_reply {
public:
    batch_reply(Handler handler, const IoExecutor& io_executor, std::size_t expected)
        : work_(asio::make_work_guard(handler, io_executor)),
          handler_(std::move(handler)),
          expected_(expected) {
        replies_.reserve(expected);
    }

    bool take(reply r) override {
        replies_.push_back(std::move(r));
        if (replies_.size() < expected_) return false;
        finish();
        return true;
    }
    /// Posts the handler with the replies taken (none, for an empty batch).
    void finish() { post_handler(work_, handler_, error_code{}, std::move(replies_)); }
    void fail(error_code ec) override { post_handler(work_, handler_, ec, std::vector<reply>{}); }

private:
    using work_guard = decltype(asio::make_work_guard(std::declval<Handler&>(),
                                                      std::declval<const IoExecutor&>()));
    work_guard work_;
    Handler handler_;
    std::size_t expected_;
    std::vector<reply> replies_;
};

/// Formats `command` (its arguments, binary-safe) as RESP with hiredis.
inline std::string format_command(const std::vector<std::string>& command) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(command.size());
    lengths.reserve(command.size());
    for (const auto& argument : command) {
        argv.push_back(argument.data());
        lengths.push_back(argument.size());
    }
    char* formatted = nullptr;
    const int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()),
                                              argv.data(), lengths.data());
    if (length < 0) throw std::bad_alloc();
    std::string bytes(formatted, static_cast<std::size_t>(length));
    redisFreeCommand(formatted);
    return bytes;
}

/// Everything a connection is: lives as long as any operation on it, and
/// is touched only on its strand. Commands are written as they come,
/// several per write while one is in progress (pipelining); replies are
/// read only while some command waits for one, and complete the waiting
/// commands in order. The first failure fails every waiting command and
/// every later one. Bytes go through the TLS layer when there is one, else
/// straight to the socket.
class connection_state : public std::enable_shared_from_this<connection_state> {
public:
    explicit connection_state(const asio::any_io_executor& executor)
        : strand_(asio::make_strand(executor)),
          socket_(strand_),
          reader_(redisReaderCreate()) {
        if (!reader_) throw std::bad_alloc();
    }

    asio::strand<asio::any_io_executor>& strand() noexcept { return strand_; }
    asio::ip::tcp::socket& socket() noexcept { return socket_; }

    /// After a successful connect, and handshake when `tls` is given (strand).
    void opened(std::shared_ptr<tls_layer> tls = nullptr) {
        // A fresh parser: one that failed keeps its error.
        reader_.reset(redisReaderCreate());
        if (!reader_) throw std::bad_alloc();
        tls_ = std::move(tls);
        open_ = true;
        failure_ = {};
    }

    /// Queues `bytes` (formatted commands) and the `waiter` of their replies (strand).
    void enqueue(std::string bytes, std::unique_ptr<pending_reply> waiter) {
        if (!open_) {
            waiter->fail(failure_ ? failure_ : make_error_code(error::not_connected));
            return;
        }
        waiting_.push_back(std::move(waiter));
        outgoing_ += bytes;
        if (!writing_active_) write_more();
        if (!reading_active_) read_more();
    }

    /// Closes the socket and fails what waits with `ec` (strand).
    void fail(error_code ec) {
        if (open_ || !failure_) failure_ = ec;
        open_ = false;
        error_code ignored;
        socket_.close(ignored);
        tls_.reset();  // an operation still on it keeps it alive until it completes
        auto waiting = std::exchange(waiting_, {});
        for (auto& waiter : waiting)
            waiter->fail(ec);
        outgoing_.clear();
    }

private:
    void write_more() {
        if (outgoing_.empty() || !open_) {
            writing_active_ = false;
            return;
        }
        writing_active_ = true;
        writing_.clear();
        std::swap(writing_, outgoing_);
        io_continuation then{shared_from_this(), &written};
        if (tls_)
            tls_->async_write(asio::buffer(writing_), std::move(then));
        else
            asio::async_write(socket_, asio::buffer(writing_), std::move(then));
    }

    static void written(connection_state& self, error_code ec, std::size_t /*transferred*/) {
        if (ec) {
            self.writing_active_ = false;
            if (self.open_) self.fail(ec);
            return;
        }
        self.write_more();
    }

    void read_more() {
        if (waiting_.empty() || !open_) {
            reading_active_ = false;
            return;
        }
        reading_active_ = true;
        io_continuation then{shared_from_this(), &received};
        if (tls_)
            tls_->async_read_some(asio::buffer(input_), std::move(then));
        else
            socket_.async_read_some(asio::buffer(input_), std::move(then));
    }

    static void received(connection_state& self, error_code ec, std::size_t n) {
        self.reading_active_ = false;
        if (ec) {
            if (!self.open_) return;  // closed here: what waited has been failed
            if (ec == asio::error::eof || ec == asio::error::connection_reset)
                ec = make_error_code(error::closed_by_server);
            return self.fail(ec);
        }
        self.take_replies(n);
        self.read_more();
    }

    /// Parses what arrived and completes the commands its replies answer.
    void take_replies(std::size_t n) {
        if (redisReaderFeed(reader_.get(), input_.data(), n) != REDIS_OK) {
            return fail(make_error_code(error::protocol));
        }
        for (;;) {
            void* raw = nullptr;
            if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
                return fail(make_error_code(error::protocol));
            }
            if (raw == nullptr) return;  // the rest of a reply is still to come
            const std::unique_ptr<redisReply, reply_deleter> parsed(static_cast<redisReply*>(raw));
            if (waiting_.empty()) return fail(make_error_code(error::unexpected_reply));
            if (waiting_.front()->take(reply::from(*parsed))) waiting_.pop_front();
        }
    }

    struct reader_deleter {
        void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
    };
    struct reply_deleter {
        void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
    };

    asio::strand<asio::any_io_executor> strand_;
    asio::ip::tcp::socket socket_;
    std::shared_ptr<tls_layer> tls_;  // set while a TLS connection is open
    std::unique_ptr<redisReader, reader_deleter> reader_;
    std::deque<std::unique_ptr<pending_reply>> waiting_;  // in the order they were written
    std::string outgoing_;  // formatted commands not yet handed to a write
    std::string writing_;   // the write in progress
    std::array<char, 16 * 1024> input_{};
    bool open_ = false;
    bool writing_active_ = false;
    bool reading_active_ = false;
    error_code failure_;  // why it is not open, once it has been
};

}  // namespace sweet_async::redis::detail

#endif  // SWEET_ASYNC_REDIS_DETAIL_CONNECTION_STATE_HPP
