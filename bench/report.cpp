// bench/report.cpp: the fmt table and the hand-written JSON (no JSON library: the project's only
// dependencies are Asio, fmt and Catch2).
#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace bench {

std::optional<bool> row::met() const {
    if (!target || !ratio) return std::nullopt;
    switch (direction) {
    case goal::at_least: return *ratio >= *target;
    case goal::at_most: return *ratio <= *target;
    case goal::above: return *ratio > *target;
    case goal::within: return std::fabs(*ratio - 1.0) <= *target;
    }
    return std::nullopt;
}

std::string si(double value) {
    const double magnitude = std::fabs(value);
    if (magnitude >= 1e9) return fmt::format("{:.2f}G", value / 1e9);
    if (magnitude >= 1e6) return fmt::format("{:.2f}M", value / 1e6);
    if (magnitude >= 1e3) return fmt::format("{:.1f}k", value / 1e3);
    return fmt::format("{:.3g}", value);
}

namespace {

std::string_view goal_symbol(goal g) {
    switch (g) {
    case goal::at_least: return ">=";
    case goal::at_most: return "<=";
    case goal::above: return ">";
    case goal::within: return "1+-";
    }
    return "?";
}

std::string_view goal_name(goal g) {
    switch (g) {
    case goal::at_least: return "at_least";
    case goal::at_most: return "at_most";
    case goal::above: return "above";
    case goal::within: return "within";
    }
    return "unknown";
}

std::string target_text(const row& r) {
    if (!r.target) return "-";
    return fmt::format("{}{:.2f}", goal_symbol(r.direction), *r.target);
}

std::string met_text(const row& r) {
    if (!r.problem.empty()) return "ERROR";
    const auto met = r.met();
    if (!met) return "-";
    return *met ? "yes" : "NO";
}

std::string truncated(std::string_view text, std::size_t width) {
    if (text.size() <= width) return std::string(text);
    return fmt::format("{}~", text.substr(0, width - 1));
}

}  // namespace

void print_table(std::FILE* out, std::span<const row> rows) {
    constexpr std::string_view layout =
        "{:<36} {:>9} {:>8} {:>9}  {:<38} {:>9} {:>7} {:>7} {:>5}\n";
    const std::string header =
        fmt::format(fmt::runtime(layout), "scenario", "events", "seconds", "events/s", "baseline",
                    "base ev/s", "ratio", "target", "met?");
    fmt::print(out, "{}{}\n", header, std::string(header.size() - 1, '-'));
    for (const row& r : rows) {
        fmt::print(out, fmt::runtime(layout), truncated(r.name, 36), r.events,
                   fmt::format("{:.3f}", r.seconds), si(r.events_per_second),
                   truncated(r.baseline, 38),
                   r.baseline_events_per_second ? si(*r.baseline_events_per_second) : "-",
                   r.ratio ? fmt::format("{:.2f}", *r.ratio) : "-", target_text(r), met_text(r));
    }
    // What does not fit a column: ratios of something other than events/s, latency, memory,
    // what an adaptive task ended on, and problems.
    bool first = true;
    for (const row& r : rows) {
        if (r.metrics.empty() && r.note.empty() && r.problem.empty() &&
            r.ratio_of == "events_per_second" && !r.peak_rss_bytes)
            continue;
        if (first) fmt::print(out, "\n");
        first = false;
        fmt::print(out, "{}:", r.name);
        if (r.ratio_of != "events_per_second") fmt::print(out, " ratio of {};", r.ratio_of);
        if (r.peak_rss_bytes)
            fmt::print(out, " peak_rss={:.1f}MiB;", *r.peak_rss_bytes / 1048576.0);
        for (const metric& m : r.metrics)
            fmt::print(out, " {}={};", m.name, si(m.value));
        if (!r.note.empty()) fmt::print(out, " {}", r.note);
        if (!r.problem.empty()) fmt::print(out, " PROBLEM: {}", r.problem);
        fmt::print(out, "\n");
    }
}

namespace {

/// `text` as a JSON string literal.
std::string quoted(std::string_view text) {
    std::string result = "\"";
    for (const char c : text) {
        switch (c) {
        case '"': result += "\\\""; break;
        case '\\': result += "\\\\"; break;
        case '\n': result += "\\n"; break;
        case '\r': result += "\\r"; break;
        case '\t': result += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                result += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            } else {
                result += c;
            }
        }
    }
    return result + '"';
}

/// A number as JSON; JSON has no NaN or infinity, so those become null.
std::string number(double value) {
    if (!std::isfinite(value)) return "null";
    return fmt::format("{}", value);
}

template <class T>
std::string optional_number(const std::optional<T>& value) {
    if (!value) return "null";
    if constexpr (std::is_floating_point_v<T>) {
        return number(*value);
    } else {
        return fmt::format("{}", *value);
    }
}

std::string optional_string(std::string_view text) {
    return text.empty() ? "null" : quoted(text);
}

std::string json_row(const row& r) {
    std::string metrics = "{";
    for (const metric& m : r.metrics) {
        metrics += fmt::format("{}{}: {}", metrics.size() > 1 ? ", " : "", quoted(m.name),
                               number(m.value));
    }
    metrics += "}";
    const auto met = r.met();
    return fmt::format(
        "    {{\"name\": {}, \"events\": {}, \"seconds\": {}, \"events_per_second\": {}, "
        "\"events_per_second_slowest\": {}, \"baseline\": {}, \"baseline_events_per_second\": {}, "
        "\"ratio\": {}, \"ratio_of\": {}, "
        "\"target\": {}, \"target_direction\": {}, \"met\": {}, \"peak_rss_bytes\": {}, "
        "\"metrics\": {}, \"note\": {}, \"problem\": {}}}",
        quoted(r.name), r.events, number(r.seconds), number(r.events_per_second),
        optional_number(r.slowest_events_per_second), quoted(r.baseline),
        optional_number(r.baseline_events_per_second), optional_number(r.ratio), quoted(r.ratio_of),
        optional_number(r.target), r.target ? quoted(goal_name(r.direction)) : "null",
        met ? (*met ? "true" : "false") : "null", optional_number(r.peak_rss_bytes), metrics,
        optional_string(r.note), optional_string(r.problem));
}

}  // namespace

void write_json(const std::string& path, const run_info& info, std::span<const row> rows) {
    std::string text = fmt::format(
        "{{\n  \"benchmark\": \"sweet_async_bench\",\n  \"mode\": {},\n  \"repetitions\": {},\n"
        "  \"aggregation\": \"best of the repetitions; subject and baseline runs alternate\",\n"
        "  \"wall_seconds\": {},\n  \"compiler\": {},\n  \"optimized\": {},\n"
        "  \"cpu_rounds_per_microsecond\": {},\n  \"scenarios\": [\n",
        quoted(info.quick ? "quick" : "full"), info.repetitions, number(info.wall_seconds),
        quoted(info.compiler), info.optimized ? "true" : "false",
        number(info.rounds_per_microsecond));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        text += json_row(rows[i]);
        text += i + 1 < rows.size() ? ",\n" : "\n";
    }
    text += "  ]\n}\n";

    std::FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) throw std::runtime_error(fmt::format("cannot open {}", path));
    const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    // fclose flushes: a full disk shows up here, not in fwrite.
    if (std::fclose(file) != 0 || !written) {
        throw std::runtime_error(fmt::format("cannot write {}", path));
    }
}

}  // namespace bench
