// sweet_async/detail/duration_text.hpp: durations written the way people write them.
#ifndef SWEET_ASYNC_DETAIL_DURATION_TEXT_HPP
#define SWEET_ASYNC_DETAIL_DURATION_TEXT_HPP

#include <chrono>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace sweet_async::detail {

/// `d` in the largest unit that shows it exactly: "5ms", "-2s", "1500us"
/// rather than "5000000ns".
inline std::string duration_text(std::chrono::nanoseconds d) {
    using namespace std::chrono;
    if (d.count() != 0) {
        if (d % hours(1) == nanoseconds::zero()) return fmt::format("{}", duration_cast<hours>(d));
        if (d % minutes(1) == nanoseconds::zero())
            return fmt::format("{}", duration_cast<minutes>(d));
        if (d % seconds(1) == nanoseconds::zero())
            return fmt::format("{}", duration_cast<seconds>(d));
        if (d % milliseconds(1) == nanoseconds::zero()) {
            return fmt::format("{}", duration_cast<milliseconds>(d));
        }
        if (d % microseconds(1) == nanoseconds::zero()) {
            return fmt::format("{}us", duration_cast<microseconds>(d).count());
        }
    }
    return fmt::format("{}", d);
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_DURATION_TEXT_HPP
