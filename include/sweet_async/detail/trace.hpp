// sweet_async/detail/trace.hpp: the lifecycle lines written when tracing is on.
#ifndef SWEET_ASYNC_DETAIL_TRACE_HPP
#define SWEET_ASYNC_DETAIL_TRACE_HPP

#include <cstdio>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace sweet_async::detail {

/// Writes `[sweet_async] task '<name>' <message>` to stderr, one line per call
/// (a single write, so lines from several threads do not interleave).
template <class... Args>
void trace(std::string_view task_name, fmt::format_string<Args...> format, Args&&... args) {
    fmt::memory_buffer line;
    fmt::format_to(std::back_inserter(line), "[sweet_async] task '{}' ", task_name);
    fmt::format_to(std::back_inserter(line), format, std::forward<Args>(args)...);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
}

/// `trace` for places that must not throw (formatting may allocate):
/// tracing is best effort there.
template <class... Args>
void trace_nothrow(std::string_view task_name, fmt::format_string<Args...> format,
                   Args&&... args) noexcept {
    try {
        trace(task_name, format, std::forward<Args>(args)...);
    } catch (...) {
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_TRACE_HPP
