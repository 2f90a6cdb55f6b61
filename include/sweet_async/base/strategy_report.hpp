// sweet_async/base/strategy_report.hpp: what a strategy says about how it is processing.
#ifndef SWEET_ASYNC_BASE_STRATEGY_REPORT_HPP
#define SWEET_ASYNC_BASE_STRATEGY_REPORT_HPP

#include <string>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// How a task's strategy is processing: its current choice, and the decisions
/// that led there (for fixed strategies, only the current choice). Read it
/// live with `emitting_task::strategy_report()` or at the end from the final
/// result.
struct strategy_report {
    /// E.g. "serial", "parallel(workers=2..8)", "adaptive: parallel(4)".
    std::string current{};
    /// Every change the strategy made, oldest first, each with its reason
    /// (the most recent 64 are kept).
    std::vector<std::string> decisions{};
};

}  // namespace sweet_async

/// The current choice, then one indented line per decision:
/// "adaptive: parallel(4)\n  <decision>\n  <decision>".
template <>
struct fmt::formatter<sweet_async::strategy_report> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::strategy_report& report, fmt::format_context& ctx) const {
        std::string text = fmt::format("{}", report.current);
        for (const auto& decision : report.decisions)
            text += fmt::format("\n  {}", decision);
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_BASE_STRATEGY_REPORT_HPP
