// sweet_async/base/error.hpp: the library's error codes and exception.
#ifndef SWEET_ASYNC_BASE_ERROR_HPP
#define SWEET_ASYNC_BASE_ERROR_HPP

#include <sweet_async/config.hpp>

#include <string>
#include <type_traits>

#include <sweet_async/base/detail/enum_formatter.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// Why an operation of the library did not succeed. Usable as a
/// `error_code` (category `async_task_category()`).
enum class async_task_error {
    failure = 1,            ///< The work failed (a processor threw, ...).
    timeout,                ///< A deadline passed first.
    cancelled,              ///< The task or the operation was cancelled.
    closed,                 ///< The task accepts no more events.
    full,                   ///< The channel had no free slot: `try_send` under any overflow
                            ///< policy; every send form under `overflow_policy::reject`.
    invalid_configuration,  ///< A builder option has a value that cannot work.
    result_taken,           ///< The final result was already handed out by `wait()`.
    abandoned,              ///< Its execution context was destroyed before the task finished.
};

/// The name of `error`, as spelled in the enumeration.
constexpr std::string_view to_string(async_task_error error) noexcept {
    switch (error) {
    case async_task_error::failure: return "failure";
    case async_task_error::timeout: return "timeout";
    case async_task_error::cancelled: return "cancelled";
    case async_task_error::closed: return "closed";
    case async_task_error::full: return "full";
    case async_task_error::invalid_configuration: return "invalid_configuration";
    case async_task_error::result_taken: return "result_taken";
    case async_task_error::abandoned: return "abandoned";
    }
    return "unknown";
}

namespace detail {

// boost::system::error_category's destructor is protected and non-virtual on purpose (categories
// are singletons, never deleted through the base); std::error_category's is public and virtual.
class async_task_category_impl final  // NOLINT(cppcoreguidelines-virtual-class-destructor)
    : public error_category {
public:
    const char* name() const noexcept override { return "sweet_async"; }

    std::string message(int value) const override {
        switch (static_cast<async_task_error>(value)) {
        case async_task_error::failure: return "the work failed";
        case async_task_error::timeout: return "the deadline passed";
        case async_task_error::cancelled: return "the task was cancelled";
        case async_task_error::closed: return "the task accepts no more events";
        case async_task_error::full: return "the channel is full";
        case async_task_error::invalid_configuration: return "invalid configuration";
        case async_task_error::result_taken: return "the final result was already taken";
        case async_task_error::abandoned:
            return "the execution context running the task was destroyed before the task finished";
        }
        return "unknown sweet_async error";
    }
};

}  // namespace detail

/// The error category of `async_task_error`.
inline const error_category& async_task_category() noexcept {
    static const detail::async_task_category_impl category;
    return category;
}

/// `error` as an `error_code` of `async_task_category()`; found by argument-dependent
/// lookup, so `error_code ec = async_task_error::timeout;` works.
inline error_code make_error_code(async_task_error error) noexcept {
    return {static_cast<int>(error), async_task_category()};
}

/// The exception the coroutine API throws; `code()` tells which
/// `async_task_error`, `what()` says what exactly went wrong.
class async_task_exception : public system_error {
public:
    /// An exception for `code`, whose `what()` is the code's message.
    explicit async_task_exception(error_code code) : system_error(code), message_(code.message()) {}
    /// An exception for `code`, whose `what()` is `what`.
    async_task_exception(error_code code, std::string what)
        : system_error(code),
          message_(std::move(what)) {}
    /// An exception for the library error `error`, whose `what()` is `what`.
    async_task_exception(async_task_error error, std::string what)
        : async_task_exception(make_error_code(error), std::move(what)) {}

    /// The message given at construction, without the code's generic text.
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

}  // namespace sweet_async

/// Makes `async_task_error` convertible to `error_code`.
SWEET_ASYNC_DETAIL_ERROR_CODE_ENUM(sweet_async::async_task_error);

/// The value's name, e.g. "timeout"; takes string format specs such as `{:>10}`.
template <>
struct fmt::formatter<sweet_async::async_task_error>
    : sweet_async::detail::enum_formatter<sweet_async::async_task_error> {};

/// "<error>: <what>", e.g. "timeout: task 'fetch' did not finish within 50ms";
/// an error code of another category shows its message instead of a name.
template <>
struct fmt::formatter<sweet_async::async_task_exception> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::async_task_exception& e, fmt::format_context& ctx) const {
        using sweet_async::detail::write_text;
        if (e.code().category() == sweet_async::async_task_category()) {
            return write_text(
                ctx,
                fmt::format("{}: {}", static_cast<sweet_async::async_task_error>(e.code().value()),
                            e.what()));
        }
        return write_text(ctx, fmt::format("{}: {}", e.code().message(), e.what()));
    }
};

#endif  // SWEET_ASYNC_BASE_ERROR_HPP
