// sweet_async/base/detail/exception_text.hpp: what an exception says, for a result or a trace.
#ifndef SWEET_ASYNC_BASE_DETAIL_EXCEPTION_TEXT_HPP
#define SWEET_ASYNC_BASE_DETAIL_EXCEPTION_TEXT_HPP

#include <exception>
#include <string>

namespace sweet_async::detail {

/// The message of `failure`, which user code threw (a processor, a strategy,
/// an emitter): anything may be thrown, not only a `std::exception`.
inline std::string exception_text(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception (not derived from std::exception)";
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_EXCEPTION_TEXT_HPP
