// sweet_async/base/detail/duration_text.hpp: durations written the way people write them.
#ifndef SWEET_ASYNC_BASE_DETAIL_DURATION_TEXT_HPP
#define SWEET_ASYNC_BASE_DETAIL_DURATION_TEXT_HPP

#include <chrono>
#include <string>

#include <fmt/format.h>

namespace sweet_async::detail {

/// `d` in the largest unit that shows it exactly: "5ms", "-2s", "1500us"
/// rather than "5000000ns". (Written here rather than with fmt/chrono.h, whose
/// formatter is a template instantiated per unit in every file.)
inline std::string duration_text(std::chrono::nanoseconds d) {
    struct unit {
        long long nanoseconds;
        const char* suffix;
    };
    static constexpr unit units[] = {{3'600'000'000'000, "h"},
                                     {60'000'000'000, "min"},
                                     {1'000'000'000, "s"},
                                     {1'000'000, "ms"},
                                     {1'000, "us"}};
    const long long count = d.count();
    if (count != 0) {
        for (const unit& u : units) {
            if (count % u.nanoseconds == 0)
                return fmt::format("{}{}", count / u.nanoseconds, u.suffix);
        }
    }
    return fmt::format("{}ns", count);
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_DURATION_TEXT_HPP
