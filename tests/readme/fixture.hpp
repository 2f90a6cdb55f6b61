// tests/readme/fixture.hpp: what the documentation's fragments take for granted. Each name stands
// for something a reader's program already has; the fragments are compiled after this header.
#ifndef SWEET_ASYNC_TESTS_README_FIXTURE_HPP
#define SWEET_ASYNC_TESTS_README_FIXTURE_HPP

// First, as the guide asks of a build without the CMake target: it configures Asio.
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <asio.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

inline asio::io_context io;        // the application's event loop
inline asio::thread_pool pool{2};  // or its thread pool
inline int f(int value) {
    return value;
}  // a processor

inline std::mutex log_mutex;  // an application's log
inline std::ostringstream log_file;

struct order {  // what an order-processing task receives
    int id = 0;
};
inline int handle_order(const order& o) {
    return o.id;
}
inline asio::awaitable<std::string> download() {
    co_return "payload";
}

#endif  // SWEET_ASYNC_TESTS_README_FIXTURE_HPP
