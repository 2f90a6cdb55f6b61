// access_log.hpp: the access log of the examples: parsing a line, the digest that folds
// requests in bounded memory, the report, and a producer that feeds a task the file's lines.
// Shared by log_digest (one task) and log_flow (three linked stages).
//
// The input is the Apache/nginx "combined" format plus the request duration in milliseconds:
//   203.0.113.7 - - [24/Nov/2026:10:15:32 +0000] "GET /api/orders/1234 HTTP/1.1" 200 5123 "-"
//   "Mozilla/5.0 ..." 37
// examples/data/generate_access_log.py writes a day of such traffic, with a few broken lines.
#ifndef SWEET_ASYNC_EXAMPLES_ACCESS_LOG_HPP
#define SWEET_ASYNC_EXAMPLES_ACCESS_LOG_HPP

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace access_log {

namespace sa = sweet_async;

// ----- parsing one line --------------------------------------------------------------------

/// One request from the log.
struct request {
    std::string ip;
    std::string method;
    std::string path;
    int status = 0;
    std::uint64_t bytes = 0;
    std::uint32_t duration_ms = 0;
    int hour = 0;  // 0-23, in the log's time zone
};

/// The start of `line`, short enough to quote in an error message.
inline std::string excerpt(std::string_view line) {
    constexpr std::size_t max_length = 60;
    if (line.size() <= max_length) return std::string(line);
    return fmt::format("{}...", line.substr(0, max_length));
}

/// `text` as a number of type `Number`, if all of it is one.
template <class Number>
std::optional<Number> to_number(std::string_view text) {
    Number value{};
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return value;
}

inline bool is_ipv4(std::string_view text) {
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (text.empty() || text.front() != '.') return false;
            text.remove_prefix(1);
        }
        const auto digits = std::min(text.find('.'), text.size());
        const auto value = to_number<unsigned>(text.substr(0, digits));
        if (!value || *value > 255 || digits > 3) return false;
        text.remove_prefix(digits);
    }
    return text.empty();
}

inline bool is_ip_address(std::string_view text) {
    if (text.find(':') == std::string_view::npos) return is_ipv4(text);
    return text.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
}

/// The hour of a `dd/Mon/yyyy:hh:mm:ss +zzzz` timestamp, if it is one.
inline std::optional<int> hour_of(std::string_view timestamp) {
    static constexpr std::string_view shape = "dd/Mon/yyyy:hh:mm:ss +zzzz";
    static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (timestamp.size() != shape.size()) return std::nullopt;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const char c = timestamp[i];
        const bool digit = c >= '0' && c <= '9';
        switch (shape[i]) {
        case 'd':
        case 'y':
        case 'h':
        case 'm':
        case 's':
        case 'z':
            if (!digit) return std::nullopt;
            break;
        case 'M':
        case 'o':
        case 'n': break;  // checked below
        case '+':
            if (c != '+' && c != '-') return std::nullopt;
            break;
        default:
            if (c != shape[i]) return std::nullopt;
        }
    }
    const auto month = months.find(timestamp.substr(3, 3));
    const auto hour = to_number<int>(timestamp.substr(12, 2));
    if (month == std::string_view::npos || month % 3 != 0 || !hour || *hour > 23)
        return std::nullopt;
    return hour;
}

struct request_parts {
    std::string_view method;
    std::string_view path;
};

/// `GET /path HTTP/1.1` split into method and path, if it has that shape.
inline std::optional<request_parts> split_request(std::string_view text) {
    const auto first_space = text.find(' ');
    const auto last_space = text.rfind(' ');
    if (first_space == std::string_view::npos || text.find(' ', first_space + 1) != last_space) {
        return std::nullopt;
    }
    const auto method = text.substr(0, first_space);
    const auto path = text.substr(first_space + 1, last_space - first_space - 1);
    const auto protocol = text.substr(last_space + 1);
    const bool method_ok =
        !method.empty() &&
        method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string_view::npos;
    const bool path_ok = path.starts_with('/') || path == "*";
    const bool protocol_ok =
        protocol.size() == 8 && protocol.starts_with("HTTP/") && protocol[6] == '.';
    if (!method_ok || !path_ok || !protocol_ok) return std::nullopt;
    return request_parts{method, path};
}

/// Walks a line field by field. Every step either advances or throws
/// `std::invalid_argument` saying what is missing.
class field_reader {
public:
    explicit field_reader(std::string_view line) : line_(line), rest_(line) {}

    /// The text up to `delimiter`, which is consumed too.
    std::string_view until(char delimiter, std::string_view what) {
        const auto end = rest_.find(delimiter);
        if (end == std::string_view::npos) fail(fmt::format("line ends inside the {}", what));
        const auto field = rest_.substr(0, end);
        rest_.remove_prefix(end + 1);
        return field;
    }

    /// A non-empty field ended by a space.
    std::string_view word(std::string_view what) {
        const auto field = until(' ', what);
        if (field.empty()) fail(fmt::format("line has no {}", what));
        return field;
    }

    /// Consumes `c`, which must come next.
    void expect(char c, std::string_view what) {
        if (rest_.empty() || rest_.front() != c) fail(fmt::format("line has no {}", what));
        rest_.remove_prefix(1);
    }

    /// A `"..."` field.
    std::string_view quoted(std::string_view what) {
        expect('"', what);
        return until('"', what);
    }

    /// Whatever is left of the line.
    std::string_view rest() const noexcept { return rest_; }

    /// Throws `problem`, quoting the start of the line (the event's `sequence` tells which
    /// line it was; the quote shows what it looked like).
    [[noreturn]] void fail(std::string_view problem) const {
        if (line_.empty()) throw std::invalid_argument(std::string(problem));
        throw std::invalid_argument(fmt::format("{}: {}", problem, excerpt(line_)));
    }

private:
    std::string_view line_;
    std::string_view rest_;
};

/// The processor: parses one log line, throws `std::invalid_argument` saying what is wrong
/// with a malformed one (the task records that event as failed, with this message).
inline request parse_line(const std::string& line) {
    field_reader fields(line);
    if (line.empty()) fields.fail("line is empty");
    request r;

    const auto ip = fields.word("client address");
    if (!is_ip_address(ip))
        fields.fail(fmt::format("client address '{}' is not an IP address", ip));
    r.ip = ip;
    fields.word("identity field");
    fields.word("user field");

    fields.expect('[', "[timestamp]");
    const auto timestamp = fields.until(']', "timestamp");
    const auto hour = hour_of(timestamp);
    if (!hour)
        fields.fail(fmt::format("timestamp '{}' is not dd/Mon/yyyy:hh:mm:ss +zzzz", timestamp));
    r.hour = *hour;

    fields.expect(' ', "quoted request");
    const auto request_line = fields.quoted("quoted request");
    const auto parts = split_request(request_line);
    if (!parts)
        fields.fail(fmt::format("request '{}' is not 'METHOD /path HTTP/x.y'", request_line));
    r.method = parts->method;
    r.path = parts->path;

    fields.expect(' ', "status code");
    const auto status_text = fields.word("status code");
    const auto status = to_number<int>(status_text);
    if (!status) fields.fail(fmt::format("status '{}' is not a number", status_text));
    if (*status < 100 || *status > 599)
        fields.fail(fmt::format("status {} is not between 100 and 599", *status));
    r.status = *status;

    const auto bytes_text = fields.word("byte count");
    const auto bytes =
        bytes_text == "-" ? std::optional<std::uint64_t>(0) : to_number<std::uint64_t>(bytes_text);
    if (!bytes) fields.fail(fmt::format("byte count '{}' is neither a number nor '-'", bytes_text));
    r.bytes = *bytes;

    fields.quoted("quoted referer");
    fields.expect(' ', "quoted user agent");
    fields.quoted("quoted user agent");
    fields.expect(' ', "duration");
    const auto duration = to_number<std::uint32_t>(fields.rest());
    if (!duration)
        fields.fail(fmt::format("duration '{}' is not a number of milliseconds", fields.rest()));
    r.duration_ms = *duration;
    return r;
}

// ----- the aggregate -----------------------------------------------------------------------

/// `path` without its query string, with all-digit segments shown as `{id}`, so that
/// `/api/orders/1234?x=1` and `/api/orders/99` count as one path.
inline std::string route_of(std::string_view path) {
    path = path.substr(0, path.find('?'));
    std::string route;
    while (!path.empty()) {
        const auto end = std::min(path.find('/', 1), path.size());
        const auto segment = path.substr(0, end);  // "/1234", "/api", ...
        const bool is_id = segment.size() > 1 &&
                           segment.find_first_not_of("0123456789", 1) == std::string_view::npos;
        route += is_id ? std::string_view("/{id}") : segment;
        path.remove_prefix(end);
    }
    return route;
}

/// Everything the report shows, updated one request at a time in bounded memory: counters
/// and maps keyed by method, path, client and hour, and a latency histogram instead of the
/// list of durations.
struct digest {
    /// Latencies are counted in 1 ms buckets; the last one holds everything slower.
    static constexpr std::size_t latency_limit_ms = 10'000;

    std::size_t requests = 0;
    std::uint64_t bytes = 0;
    std::array<std::size_t, 6> status_classes{};  // [2] counts 2xx, ...
    std::map<std::string, std::size_t> methods;
    std::array<std::size_t, 24> per_hour{};
    std::unordered_map<std::string, std::size_t> paths;
    std::unordered_map<std::string, std::size_t> clients;
    std::vector<std::size_t> latency_histogram = std::vector<std::size_t>(latency_limit_ms + 1);
    std::uint64_t latency_total_ms = 0;
    std::uint32_t latency_max_ms = 0;

    void add(const request& r) {
        ++requests;
        bytes += r.bytes;
        ++status_classes[static_cast<std::size_t>(r.status / 100)];
        ++methods[r.method];
        ++per_hour[static_cast<std::size_t>(r.hour)];
        ++paths[route_of(r.path)];
        ++clients[r.ip];
        ++latency_histogram[std::min<std::size_t>(r.duration_ms, latency_limit_ms)];
        latency_total_ms += r.duration_ms;
        latency_max_ms = std::max(latency_max_ms, r.duration_ms);
    }

    /// The latency (ms) that `percent`% of the requests did not exceed (nearest rank);
    /// `latency_limit_ms` means "that much or more".
    std::size_t latency_percentile(std::size_t percent) const {
        const std::size_t rank = std::max<std::size_t>((percent * requests + 99) / 100, 1);
        std::size_t seen = 0;
        for (std::size_t ms = 0; ms < latency_histogram.size(); ++ms) {
            seen += latency_histogram[ms];
            if (seen >= rank) return ms;
        }
        return latency_limit_ms;
    }
};

// ----- the report --------------------------------------------------------------------------

using ranking = std::vector<std::pair<std::string, std::size_t>>;

/// The `n` biggest counts, biggest first (ties by name, so the output is stable).
template <class Counts>
ranking top(const Counts& counts, std::size_t n) {
    ranking all(counts.begin(), counts.end());
    const auto keep = static_cast<std::ptrdiff_t>(std::min(n, all.size()));
    std::partial_sort(all.begin(), all.begin() + keep, all.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    all.resize(static_cast<std::size_t>(keep));
    return all;
}

inline double percent(std::size_t part, std::size_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

inline std::string human_bytes(std::uint64_t bytes) {
    constexpr std::array units{"B", "KiB", "MiB", "GiB", "TiB"};
    auto value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < units.size()) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

inline std::string latency_text(std::size_t ms) {
    return ms >= digest::latency_limit_ms ? fmt::format(">= {} ms", ms) : fmt::format("{} ms", ms);
}

inline void print_ranking(std::string_view title, const ranking& rows, std::size_t total) {
    fmt::print("\n{}\n", title);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        fmt::print("  {}. {:<28} {:>7} {:5.1f}%\n", i + 1, rows[i].first, rows[i].second,
                   percent(rows[i].second, total));
    }
}

inline void print_traffic(const digest& d) {
    fmt::print("\nrequests  {}\nbytes     {} ({} bytes)\n", d.requests, human_bytes(d.bytes),
               d.bytes);

    if (d.requests == 0) return;

    fmt::print("\nstatus classes\n");
    for (std::size_t c = 1; c < d.status_classes.size(); ++c) {
        if (c == 1 && d.status_classes[c] == 0) continue;  // informational answers are rare
        fmt::print("  {}xx {:>7} {:5.1f}%\n", c, d.status_classes[c],
                   percent(d.status_classes[c], d.requests));
    }
    print_ranking("methods", top(d.methods, d.methods.size()), d.requests);
    print_ranking("top 5 paths (query strings dropped, numeric ids shown as {id})", top(d.paths, 5),
                  d.requests);
    print_ranking("top 5 clients", top(d.clients, 5), d.requests);

    fmt::print("\nlatency   p50 {}, p95 {}, p99 {}, max {} ms, mean {:.1f} ms\n",
               latency_text(d.latency_percentile(50)), latency_text(d.latency_percentile(95)),
               latency_text(d.latency_percentile(99)), d.latency_max_ms,
               static_cast<double>(d.latency_total_ms) / static_cast<double>(d.requests));

    const auto busiest =
        std::max_element(d.per_hour.begin(), d.per_hour.end()) - d.per_hour.begin();
    const auto busiest_count = d.per_hour[static_cast<std::size_t>(busiest)];
    fmt::print("busiest   {:02}:00-{:02}:59, {} requests ({:.1f}%)\n", busiest, busiest,
               busiest_count, percent(busiest_count, d.requests));
}

inline void print_errors(std::span<const sa::event_error> errors) {
    constexpr std::size_t shown = 5;
    fmt::print("\nlines that could not be digested: {}\n", errors.size());
    for (const auto& error : errors.first(std::min(shown, errors.size()))) {
        // Every line is sent, in order, so the event's arrival index is its line number - 1.
        fmt::print("  line {:>5} {}: {}\n", error.sequence + 1, error.kind, error.message);
    }
    if (errors.size() > shown) fmt::print("  ... and {} more\n", errors.size() - shown);
}

inline void print_accounting(const sa::task_stats& stats) {
    fmt::print(
        "\naccounting  sent {} == processed {} + failed {} + timed_out {} + cancelled {}: {}\n",
        stats.sent, stats.processed, stats.failed, stats.timed_out, stats.cancelled,
        stats.balanced() ? "holds" : "DOES NOT HOLD");
    const std::chrono::duration<double> elapsed = stats.elapsed;
    fmt::print("elapsed     {:.1f} ms, {:.0f} lines/s\n", elapsed.count() * 1000,
               elapsed.count() > 0 ? static_cast<double>(stats.sent) / elapsed.count() : 0.0);
}

// ----- the producer ------------------------------------------------------------------------

/// Sends every line of `in` to `task`, from a plain thread. `try_send` takes a free slot
/// without any hand-off; only when the channel is full does the thread block on
/// `async_send(..., use_future)`, so reading never runs ahead of parsing by more than the
/// channel's capacity. Counts the lines sent in `sent`.
template <class Task>
void send_lines(std::istream& in, Task& task, std::size_t& sent) {
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const sweet_async::error_code ec =
            task.try_send(std::move(line));  // `line` is kept on failure
        if (ec == sa::async_task_error::full) {
            task.async_send(std::move(line), asio::use_future).get();  // throws if the task closed
        } else if (ec) {
            throw sweet_async::system_error(ec);
        }
        ++sent;
    }
    if (in.bad()) throw std::runtime_error("read error");
}

}  // namespace access_log

#endif  // SWEET_ASYNC_EXAMPLES_ACCESS_LOG_HPP
