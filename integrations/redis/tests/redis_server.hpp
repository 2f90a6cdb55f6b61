// A real redis-server for the tests: started on a free loopback port in a temporary directory
// (and on a second one for TLS, when asked, with certificates made for the test process),
// stopped (or killed, or restarted) when a test says so, removed afterwards.
#ifndef SWEET_ASYNC_REDIS_TESTS_REDIS_SERVER_HPP
#define SWEET_ASYNC_REDIS_TESTS_REDIS_SERVER_HPP

#include <sweet_async/sweet_async.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sweet_async/redis.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace redis_test {

namespace redis = sweet_async::redis;

/// A loopback port nobody listens on right now (the kernel's choice).
inline std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    return probe.local_endpoint().port();
}

/// Starts the program `args[0]` with the arguments `args[1..]`; returns its process id.
/// `detached_output`: its standard streams go to /dev/null (a server that logs to a file), so
/// that a server outliving a test process that died cannot hold the test runner's output pipe
/// open (CTest would wait for it until its timeout).
inline pid_t spawn(const std::vector<std::string>& args, bool detached_output = false) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's signature, not written
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    if (detached_output) {
        for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
            ::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
    }
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(),
                                fmt::format("posix_spawn {}", args[0]));
    }
    return pid;
}

/// A new directory under the system's temporary one, named `prefix` and a unique suffix.
inline std::filesystem::path make_temporary_directory(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    return pattern;
}

/// Runs `args` (the program's path first) to its end; throws naming it unless it exits with 0.
inline void run_to_end(const std::vector<std::string>& args) {
    const pid_t pid = spawn(args, true);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(fmt::format("{} failed: {}", args.at(0), fmt::join(args, " ")));
}

/// A certificate authority, a server certificate it signed for 127.0.0.1 and localhost, a client
/// certificate it signed, and the client's key encrypted with `key_password`: made once per test
/// process with the openssl command line (EC P-256 keys: quick), removed at its exit.
class tls_certificates {
public:
    /// The password of `client_key_encrypted`.
    static constexpr const char* key_password = "k3y-pa55w0rd";

    static const tls_certificates& shared() {
        static const tls_certificates made;
        return made;
    }

    std::string file(const std::string& name) const { return (directory_ / name).string(); }
    std::string ca() const { return file("ca.crt"); }
    std::string server_certificate() const { return file("server.crt"); }
    std::string server_key() const { return file("server.key"); }
    std::string client_certificate() const { return file("client.crt"); }
    std::string client_key() const { return file("client.key"); }
    std::string client_key_encrypted() const { return file("client-encrypted.key"); }

    tls_certificates(const tls_certificates&) = delete;
    tls_certificates& operator=(const tls_certificates&) = delete;
    ~tls_certificates() {
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }

private:
    tls_certificates() : directory_(make_temporary_directory("sweet_async_tls")) {
#ifdef SWEET_ASYNC_OPENSSL_PROGRAM
        const std::string openssl = SWEET_ASYNC_OPENSSL_PROGRAM;
#else
        const std::string openssl = "openssl";  // not built with TLS: fails to spawn, named
#endif
        auto new_key = [&](const std::string& name) {
            run_to_end({openssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", file(name)});
        };
        new_key("ca.key");
        run_to_end({openssl, "req", "-x509", "-new", "-key", file("ca.key"), "-days", "2", "-subj",
                    "/CN=sweet_async test CA", "-out", ca()});
        // One certificate signed by the CA for `subject`, with the extensions in `extensions`.
        auto sign = [&](const std::string& stem, const char* subject, const char* extensions) {
            const std::string key = file(stem + ".key");
            const std::string request = file(stem + ".csr");
            const std::string settings = file(stem + ".ext");
            new_key(stem + ".key");
            std::FILE* out = std::fopen(settings.c_str(), "w");
            if (out == nullptr) throw std::runtime_error("cannot write " + settings);
            std::fputs(extensions, out);
            std::fclose(out);
            run_to_end({openssl, "req", "-new", "-key", key, "-subj", subject, "-out", request});
            run_to_end({openssl, "x509", "-req", "-in", request, "-CA", ca(), "-CAkey",
                        file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", settings,
                        "-out", file(stem + ".crt")});
        };
        sign("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        sign("client", "/CN=sweet_async test worker", "extendedKeyUsage=clientAuth\n");
        run_to_end({openssl, "pkcs8", "-topk8", "-in", client_key(), "-out", client_key_encrypted(),
                    "-passout", std::string("pass:") + key_password});
    }

    std::filesystem::path directory_;
};

/// A server's TLS port, besides its plain one (which the fixture's own clients use).
struct tls_listener {
    /// `--tls-auth-clients yes`: a client without a certificate the CA signed is refused.
    bool client_certificates_required = false;
};

/// One redis-server process of the test's own.
class redis_server {
public:
    /// A server that keeps nothing on disk, or, `persistent`, one that writes every command
    /// to its append-only file before replying (so that a restart loses nothing).
    explicit redis_server(bool persistent = false) : redis_server(persistent, {}, {}) {}

    /// A server started with `arguments` besides ours (`--requirepass`, `--user`, ...) whose
    /// default user's password is `admin_password` (empty: none), which the fixture's own
    /// clients present; listening for TLS too when `tls` says so.
    redis_server(bool persistent, std::vector<std::string> arguments, std::string admin_password,
                 std::optional<tls_listener> tls = {})
        : directory_(make_temporary_directory("sweet_async_redis")),
          persistent_(persistent),
          arguments_(std::move(arguments)),
          admin_password_(std::move(admin_password)),
          tls_(tls) {
        for (int attempt = 0;; ++attempt) {
            port_ = free_port();
            if (tls_) tls_port_ = free_port();
            try {
                start();
                return;
            } catch (const std::runtime_error&) {
                stop(SIGKILL);  // if it is still there
                if (attempt == 4) throw;
            }
        }
    }

    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    ~redis_server() {
        stop(SIGTERM);
        sweet_async::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }

    asio::ip::tcp::endpoint endpoint() const { return {asio::ip::address_v4::loopback(), port_}; }

    /// The server, as a client presenting `username` and `password` (none: the admin's).
    redis::server address(std::string username = {},
                          std::optional<std::string> password = {}) const {
        auto where = redis::server::at(endpoint());
        where.username = std::move(username);
        where.password = password ? std::move(*password) : admin_password_;
        return where;
    }

    /// The server's TLS port, as a client trusting the test CA and presenting `username` and
    /// `password` (none: the admin's).
    redis::server tls_address(std::string username = {},
                              std::optional<std::string> password = {}) const {
        auto where = address(std::move(username), std::move(password));
        where.port = tls_port_;
        where.tls = redis::tls_options{.ca_file = tls_certificates::shared().ca()};
        return where;
    }

    /// Stops the server with `signal` (SIGKILL: as if it crashed) and reaps it.
    void stop(int signal = SIGTERM) {
        if (pid_ <= 0) return;
        ::kill(pid_, signal);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    /// Starts it again on the same port and directory.
    void restart() {
        stop();
        start();
    }

private:
    void start() {
        std::vector<std::string> args{SWEET_ASYNC_REDIS_SERVER,
                                      "--port",
                                      std::to_string(port_),
                                      "--bind",
                                      "127.0.0.1",
                                      "--dir",
                                      directory_.string(),
                                      "--save",
                                      "",
                                      "--appendonly",
                                      persistent_ ? "yes" : "no",
                                      "--appendfsync",
                                      "always",
                                      "--logfile",
                                      (directory_ / "redis.log").string()};
        if (tls_) {
            const auto& certificates = tls_certificates::shared();
            args.insert(args.end(),
                        {"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                         certificates.server_certificate(), "--tls-key-file",
                         certificates.server_key(), "--tls-ca-cert-file", certificates.ca(),
                         "--tls-auth-clients", tls_->client_certificates_required ? "yes" : "no"});
        }
        args.insert(args.end(), arguments_.begin(), arguments_.end());
        pid_ = spawn(args, true);
        wait_until_listening();
    }

    /// Polls the port until the server accepts (it takes a few milliseconds), or fails the
    /// test after 20 s naming the log.
    void wait_until_listening() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        asio::io_context io;
        for (;;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;  // reaped
                // Most likely the port was taken between free_port() and the bind (by another
                // test's server: tests run in parallel).
                throw std::runtime_error(fmt::format("redis-server exited at start on port {}; "
                                                     "see {}",
                                                     port_, (directory_ / "redis.log").string()));
            }
            asio::ip::tcp::socket probe(io);
            sweet_async::error_code ec;
            probe.connect(endpoint(), ec);
            if (!ec && serves_our_directory(probe)) return;
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error(fmt::format("redis-server did not listen on {} within "
                                                     "20 s; see {}",
                                                     port_, (directory_ / "redis.log").string()));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    /// True when the server on the other end of `probe` is this one (`CONFIG GET dir` names
    /// our directory), not another test's that got the same port first.
    bool serves_our_directory(asio::ip::tcp::socket& probe) const {
        sweet_async::error_code ec;
        std::string request = "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n";
        if (!admin_password_.empty()) {
            request = fmt::format("*2\r\n$4\r\nAUTH\r\n${}\r\n{}\r\n", admin_password_.size(),
                                  admin_password_) +
                      request;
        }
        asio::write(probe, asio::buffer(request), ec);
        // The whole answer: +OK to AUTH (when sent), then the array: five lines.
        const std::size_t lines = admin_password_.empty() ? 5 : 6;
        std::string answer;
        while (!ec && !answer.starts_with('-') && answer.find("\r\n-") == std::string::npos) {
            std::size_t ends = 0;
            for (auto at = answer.find("\r\n"); at != std::string::npos;
                 at = answer.find("\r\n", at + 2))
                ++ends;
            if (ends >= lines) break;
            std::array<char, 4096> chunk{};
            const std::size_t n = probe.read_some(asio::buffer(chunk), ec);
            answer.append(chunk.data(), n);
        }
        return !ec && answer.find(directory_.string()) != std::string::npos;
    }

    std::uint16_t port_ = 0;
    std::uint16_t tls_port_ = 0;
    std::filesystem::path directory_;
    bool persistent_;
    std::vector<std::string> arguments_;
    std::string admin_password_;
    std::optional<tls_listener> tls_;
    pid_t pid_ = -1;
};

/// A blocking client for setting the scene and checking the server's view (its own I/O thread).
class scene {
public:
    explicit scene(const redis_server& server) : connection_(io_.get_executor()) {
        thread_ = std::thread([this] { io_.run(); });
        connection_.async_connect(server.address(), asio::use_future).get();
    }
    ~scene() {
        connection_.close();
        guard_.reset();
        thread_.join();
    }
    redis::reply operator()(std::vector<std::string> command) {
        return connection_.async_execute(std::move(command), asio::use_future).get();
    }
    /// Adds `count` entries {n: first..}, pipelined; returns their ids.
    std::vector<std::string> add(const std::string& stream, int first, int count) {
        std::vector<std::future<redis::reply>> replies;
        for (int i = first; i < first + count; ++i) {
            replies.push_back(connection_.async_execute(
                {"XADD", stream, "*", "n", std::to_string(i)}, asio::use_future));
        }
        std::vector<std::string> ids;
        for (auto& r : replies)
            ids.push_back(r.get().text);
        return ids;
    }
    std::int64_t pending(const std::string& stream, const std::string& group) {
        return (*this)({"XPENDING", stream, group}).elements.at(0).integer;
    }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
    redis::connection connection_;
    std::thread thread_;
};

/// Runs a stream worker of `stream` on `where` until the group is drained (a serial task whose
/// results are the entries' id lengths, acknowledged), settles it; returns the task's result
/// and the source's stats.
inline auto run_drained_worker(const redis::server& where, const std::string& stream) {
    asio::io_context io;
    redis::stream_source source(
        io.get_executor(), where,
        {.stream = stream, .group = "g", .consumer = "w1", .end_when_drained = true});
    auto task = sweet_async::emitting_builder<redis::stream_entry>(io)
                    .name("worker")
                    .emitter(source.reader())
                    .receiver(sweet_async::serial{},
                              redis::decoding([](const redis::stream_entry& e) { return e.id; },
                                              [](const std::string& id) { return id.size(); }))
                    .collector(redis::acknowledging<std::size_t>(source))
                    .start_queue();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    io.restart();
    auto settled = source.async_settle(asio::use_future);
    io.run();
    settled.get();
    return std::pair(result.get(), source.stats());
}

}  // namespace redis_test

#endif  // SWEET_ASYNC_REDIS_TESTS_REDIS_SERVER_HPP
