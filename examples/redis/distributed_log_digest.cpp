// distributed_log_digest: log_digest's report, with the parsing spread across worker processes
// that share a Redis Streams consumer group (sweet_async::redis).
//
//     distributed_log_digest [--workers N] [--redis HOST:PORT] [access.log]
//
// needs a redis-server (default 127.0.0.1:6379); N defaults to 3. Three roles:
//   * the loader (this process) XADDs every line of the log to <run>:lines as {n, line}, a
//     thousand per pipelined write, then starts N workers;
//   * each worker (this program again, with --worker NAME) reads <run>:lines as one consumer of
//     the group "digest", parses each line (access_log::parse_line), and publishes the request
//     to <run>:requests under the line's entry id, acknowledging the line only once its request
//     is written; a line that does not parse goes to the dead-letter stream <run>:lines:dead
//     with its error; a worker's accounting goes to <run>:workers when it ends;
//   * the reducer (this process, once the workers ended) folds one request per line into the
//     digest (a line delivered twice, after a worker died, is counted once), and prints the
//     same report as log_digest, then the accounting across the workers. It deletes the run's
//     keys at the end.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>

#include "../access_log.hpp"

#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace sa = sweet_async;
namespace redis = sweet_async::redis;
using access_log::request;

namespace {

using fields = std::vector<std::pair<std::string, std::string>>;

// ----- requests as stream entries ----------------------------------------------------------

fields to_fields(const std::string& line_entry, const request& r) {
    return {{"line_entry", line_entry},
            {"ip", r.ip},
            {"method", r.method},
            {"path", r.path},
            {"status", std::to_string(r.status)},
            {"bytes", std::to_string(r.bytes)},
            {"duration_ms", std::to_string(r.duration_ms)},
            {"hour", std::to_string(r.hour)}};
}

std::string field_of(const redis::stream_entry& e, std::string_view name) {
    const auto value = e.field(name);
    if (!value) throw std::runtime_error(fmt::format("entry {} has no field '{}'", e.id, name));
    return std::string(*value);
}

request request_of(const redis::stream_entry& e) {
    return {.ip = field_of(e, "ip"),
            .method = field_of(e, "method"),
            .path = field_of(e, "path"),
            .status = std::stoi(field_of(e, "status")),
            .bytes = std::stoull(field_of(e, "bytes")),
            .duration_ms = static_cast<std::uint32_t>(std::stoul(field_of(e, "duration_ms"))),
            .hour = std::stoi(field_of(e, "hour"))};
}

// ----- a worker ----------------------------------------------------------------------------

/// The worker's collector: publishes each parsed request to the requests stream and
/// acknowledges its line once the server confirmed the write. A failed write leaves the line
/// pending: it is claimed again (by this worker or another) after `claim_idle`.
class publish_then_acknowledge {
public:
    using collection_type = std::size_t;  // requests published (confirmed or not)

    publish_then_acknowledge(redis::stream_source source, redis::connection& publisher,
                             std::string stream)
        : source_(std::move(source)),
          publisher_(&publisher),
          stream_(std::move(stream)) {}

    void collect(const sa::uuid& /*event_id*/, redis::processed<request>&& p) {
        std::vector<std::string> command{"XADD", stream_, "*"};
        for (auto& [name, value] : to_fields(p.entry_id, p.value)) {
            command.push_back(std::move(name));
            command.push_back(std::move(value));
        }
        publisher_->async_execute(std::move(command),
                                  [source = source_, id = std::move(p.entry_id)](
                                      sweet_async::error_code ec, const redis::reply&) mutable {
                                      if (!ec) source.acknowledge(std::move(id));
                                  });
        ++published_;
    }
    std::size_t size() const noexcept { return published_; }
    collection_type collection() && { return published_; }

private:
    redis::stream_source source_;
    redis::connection* publisher_;
    std::string stream_;
    std::size_t published_ = 0;
};

std::string text_of(const redis::stream_entry& e) {
    return field_of(e, "line");
}

asio::awaitable<int> work(asio::ip::tcp::endpoint server, std::string run, std::string name) {
    auto executor = co_await asio::this_coro::executor;
    redis::connection publisher(executor);
    co_await publisher.async_connect(server, asio::use_awaitable);
    redis::stream_source source(executor, server,
                                {.stream = run + ":lines",
                                 .group = "digest",
                                 .consumer = name,
                                 .count = 200,
                                 .claim_idle = std::chrono::seconds(2),
                                 .end_when_drained = true});
    auto task = sa::emitting_builder<redis::stream_entry>(executor)
                    .name(name)
                    .capacity(512)
                    .emitter(source.reader())
                    .dead_letter(source.dead_letters())  // the lines that do not parse
                    .receiver(sa::serial{}, redis::decoding(text_of, access_log::parse_line))
                    .collector(publish_then_acknowledge(source, publisher, run + ":requests"))
                    .start_queue();
    const auto result = co_await task.wait();
    // Replies come in order, and their handlers run in order on this one-threaded context:
    // once PING's reply is in, every published request's acknowledgement is queued...
    std::vector<std::string> ping{"PING"};  // named: GCC 12 rejects a braced list in a co_await
    co_await publisher.async_execute(std::move(ping), asio::use_awaitable);
    co_await source.async_settle(asio::use_awaitable);  // ...and now confirmed.
    const auto& s = result.stats();
    const auto& read = source.stats();
    using std::to_string;
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.elapsed);
    std::vector<std::string> accounting{"XADD", run + ":workers", "*", "worker", name};
    for (auto [field, value] :
         {std::pair{"sent", s.sent}, std::pair{"processed", s.processed},
          std::pair{"failed", s.failed}, std::pair{"timed_out", s.timed_out},
          std::pair{"cancelled", s.cancelled}, std::pair{"reclaimed", std::size_t{read.reclaimed}},
          std::pair{"acknowledged", std::size_t{read.acknowledged}},
          std::pair{"elapsed_ms", std::size_t(elapsed_ms.count())}}) {
        accounting.emplace_back(field);
        accounting.push_back(to_string(value));
    }
    co_await publisher.async_execute(std::move(accounting), asio::use_awaitable);
    const bool whole = result.status() == sa::task_status::completed && s.balanced();
    co_return whole ? 0 : 1;
}

// ----- the loader and the reducer ----------------------------------------------------------

/// A blocking client for the loader and the reducer: one connection, its own I/O thread.
class client {
public:
    explicit client(const asio::ip::tcp::endpoint& server) : connection_(io_.get_executor()) {
        thread_ = std::thread([this] { io_.run(); });
        connection_.async_connect(server, asio::use_future).get();
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() {
        connection_.close();
        guard_.reset();
        thread_.join();
    }
    redis::reply operator()(std::vector<std::string> command) {
        return connection_.async_execute(std::move(command), asio::use_future).get();
    }
    std::vector<redis::reply> batch(std::vector<std::vector<std::string>> commands) {
        return connection_.async_execute_batch(std::move(commands), asio::use_future).get();
    }
    /// Every entry of `stream`, 10 000 per read.
    std::vector<redis::stream_entry> read_all(const std::string& stream) {
        std::vector<redis::stream_entry> all;
        for (std::string from = "-";;) {
            auto page =
                redis::parse_entries((*this)({"XRANGE", stream, from, "+", "COUNT", "10000"}));
            if (page.empty()) return all;
            from = "(" + page.back().id;
            std::move(page.begin(), page.end(), std::back_inserter(all));
        }
    }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
    redis::connection connection_;
    std::thread thread_;
};

/// XADDs every line of `in` to `stream` as {n, line} (n counts from 1), a thousand per write.
std::size_t load(client& redis_cli, std::istream& in, const std::string& stream) {
    std::size_t n = 0;
    std::vector<std::vector<std::string>> commands;
    auto flush = [&] {
        for (const redis::reply& r : redis_cli.batch(std::move(commands))) {
            if (r.kind != redis::reply_kind::string)
                throw std::runtime_error(fmt::format("XADD {} answered {}", stream, r));
        }
        commands.clear();
    };
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        commands.push_back(
            {"XADD", stream, "*", "n", std::to_string(++n), "line", std::move(line)});
        if (commands.size() == 1000) flush();
    }
    if (!commands.empty()) flush();
    if (in.bad()) throw std::runtime_error("read error");
    return n;
}

/// The requests published, one per line entry however often it was delivered, in a digest.
/// Returns the digest and how many requests were published more than once.
std::pair<access_log::digest, std::size_t> reduce(client& redis_cli, const std::string& run) {
    access_log::digest d;
    std::set<std::string> lines_seen;
    std::size_t again = 0;
    for (const auto& e : redis_cli.read_all(run + ":requests")) {
        if (lines_seen.insert(field_of(e, "line_entry")).second) {
            d.add(request_of(e));
        } else {
            ++again;
        }
    }
    return {std::move(d), again};
}

/// The dead letters as the task's errors would be: one per line, in line order.
std::vector<sa::event_error> dead_lines(client& redis_cli, const std::string& run) {
    std::map<std::uint64_t, sa::event_error> by_line;
    for (const auto& letter : redis_cli.read_all(run + ":lines:dead")) {
        const std::uint64_t n = std::stoull(field_of(letter, "field:n"));
        by_line.try_emplace(n, sa::event_error{.event_id = {},
                                               .sequence = n - 1,
                                               .kind = sa::outcome::failed,
                                               .message = field_of(letter, "error"),
                                               .attempts = static_cast<unsigned>(
                                                   std::stoul(field_of(letter, "attempts")))});
    }
    std::vector<sa::event_error> errors;
    for (auto& [n, error] : by_line)
        errors.push_back(std::move(error));
    return errors;
}

pid_t spawn_worker(const std::string& program, const std::string& server, const std::string& run,
                   const std::string& name) {
    const std::vector<std::string> args{program, "--worker", name, "--redis", server, "--run", run};
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's signature, not written
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
        rc != 0)
        throw std::system_error(rc, std::generic_category(), "starting a worker");
    return pid;
}

asio::ip::tcp::endpoint endpoint_of(const std::string& host_port) {
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos)
        throw std::invalid_argument(fmt::format("--redis wants HOST:PORT, got '{}'", host_port));
    return {asio::ip::make_address(host_port.substr(0, colon)),
            static_cast<unsigned short>(std::stoul(host_port.substr(colon + 1)))};
}

struct options {
    std::string redis = "127.0.0.1:6379";
    std::size_t workers = 3;
    std::string path = SWEET_ASYNC_EXAMPLES_DATA_DIR "/access.log";
    std::string worker;  // set: this process is that worker
    std::string run;     // a worker's run prefix
};

options parse_options(int argc, char* argv[]) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 == argc) throw std::invalid_argument(fmt::format("{} needs a value", arg));
            return argv[++i];
        };
        if (arg == "--workers") {
            o.workers = std::stoul(value());
            if (o.workers == 0) throw std::invalid_argument("--workers must be at least 1");
        } else if (arg == "--redis") {
            o.redis = value();
        } else if (arg == "--worker") {
            o.worker = value();
        } else if (arg == "--run") {
            o.run = value();
        } else if (!arg.starts_with("--")) {
            o.path = arg;
        } else {
            throw std::invalid_argument(fmt::format("unknown option {}", arg));
        }
    }
    return o;
}

int coordinate(const options& o, const std::string& program) {
    const auto server = endpoint_of(o.redis);
    std::ifstream file(o.path);
    if (!file) {
        fmt::print(stderr, "distributed_log_digest: cannot open '{}': {}\n", o.path,
                   std::strerror(errno));
        return 1;
    }
    client redis_cli(server);
    const std::string run = fmt::format("digest:{}", ::getpid());
    const auto started = std::chrono::steady_clock::now();
    const std::size_t lines = load(redis_cli, file, run + ":lines");
    const auto loaded = std::chrono::steady_clock::now();

    std::vector<pid_t> workers;
    for (std::size_t i = 0; i < o.workers; ++i)
        workers.push_back(spawn_worker(program, o.redis, run, fmt::format("worker-{}", i + 1)));
    bool all_ok = true;
    for (const pid_t pid : workers) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        all_ok = all_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    const auto worked = std::chrono::steady_clock::now();

    auto [digest, published_again] = reduce(redis_cli, run);
    const auto errors = dead_lines(redis_cli, run);
    fmt::print("access log {}: {} lines loaded into {}:lines, digested by {} worker processes\n",
               o.path, lines, run, o.workers);
    access_log::print_traffic(digest);
    access_log::print_errors(errors);

    fmt::print("\naccounting across workers\n");
    sa::task_stats total;
    for (const auto& w : redis_cli.read_all(run + ":workers")) {
        auto count = [&](std::string_view name) { return std::stoull(field_of(w, name)); };
        fmt::print("  {:<10} sent {:>6}  processed {:>6}  failed {:>3}  reclaimed {:>4}  "
                   "acknowledged {:>6}  {:>6} ms\n",
                   field_of(w, "worker"), count("sent"), count("processed"), count("failed"),
                   count("reclaimed"), count("acknowledged"), count("elapsed_ms"));
        total.sent += count("sent");
        total.processed += count("processed");
        total.failed += count("failed");
        total.timed_out += count("timed_out");
        total.cancelled += count("cancelled");
    }
    const bool holds = digest.requests + errors.size() == lines;
    fmt::print("  lines {} == digested {} + dead-lettered {}: {}\n", lines, digest.requests,
               errors.size(), holds ? "holds" : "DOES NOT HOLD");
    fmt::print("  deliveries: processed {} + failed {} (a line delivered again after a worker "
               "died counts twice here, once in the digest; requests published twice: {})\n",
               total.processed, total.failed, published_again);
    const std::chrono::duration<double, std::milli> load_ms = loaded - started;
    const std::chrono::duration<double, std::milli> work_ms = worked - loaded;
    fmt::print("elapsed     load {:.1f} ms, workers {:.1f} ms ({:.0f} lines/s)\n", load_ms.count(),
               work_ms.count(), static_cast<double>(lines) / (work_ms.count() / 1000));

    redis_cli({"DEL", run + ":lines", run + ":lines:dead", run + ":requests", run + ":workers"});
    return all_ok && holds ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) try {
    const options o = parse_options(argc, argv);
    if (!o.worker.empty()) {
        asio::io_context io;
        auto status =
            asio::co_spawn(io, work(endpoint_of(o.redis), o.run, o.worker), asio::use_future);
        io.run();
        return status.get();
    }
    sweet_async::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return coordinate(o, ec ? std::string(argv[0]) : self.string());
} catch (const std::exception& e) {
    fmt::print(stderr, "distributed_log_digest: {}\n", e.what());
    return 1;
}
