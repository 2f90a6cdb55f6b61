// sweet_async/base/uuid.hpp: 128-bit universally unique identifiers (RFC 4122).
#ifndef SWEET_ASYNC_BASE_UUID_HPP
#define SWEET_ASYNC_BASE_UUID_HPP

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace sweet_async {

/// A 128-bit identifier. `generate()` makes a random version 4 UUID; the text
/// form is the canonical lower-case `8-4-4-4-12` hexadecimal one.
///
/// It also models `task_id`, so it is the default identifier of tasks.
class uuid {
public:
    /// Length of the canonical text form.
    static constexpr std::size_t text_size = 36;

    /// The nil UUID (all bits zero).
    constexpr uuid() noexcept = default;

    /// A UUID with the given 128 bits, most significant half first.
    constexpr uuid(std::uint64_t high, std::uint64_t low) noexcept : high_(high), low_(low) {}

    /// A fresh random (version 4, variant 1) UUID. Thread-safe and lock-free:
    /// every thread draws from its own generator, seeded once from
    /// `std::random_device`.
    static uuid generate();

    /// Parses the canonical text form (either case). Returns `std::nullopt`
    /// when `text` is not exactly 36 characters of hex digits and dashes in
    /// the 8-4-4-4-12 layout.
    static std::optional<uuid> parse(std::string_view text) noexcept;

    /// Parses the canonical text form; throws `std::invalid_argument` naming
    /// the offending text when it is malformed.
    static uuid from_string(std::string_view text);

    /// The canonical text form, e.g. `"9b2f6c1e-3f4a-4d2b-8c7e-1a2b3c4d5e6f"`.
    std::string to_string() const;

    /// Writes the 36 characters of the text form to `out` (no terminator).
    char* format_to(char* out) const noexcept;

    /// The most significant 64 bits.
    constexpr std::uint64_t high() const noexcept { return high_; }
    /// The least significant 64 bits.
    constexpr std::uint64_t low() const noexcept { return low_; }
    /// True for the nil UUID (all bits zero), the default-constructed value.
    constexpr bool is_nil() const noexcept { return high_ == 0 && low_ == 0; }
    /// The version nibble (4 for generated UUIDs).
    constexpr unsigned version() const noexcept { return static_cast<unsigned>(high_ >> 12) & 0xF; }

    /// Equal when all 128 bits are.
    friend constexpr bool operator==(const uuid&, const uuid&) noexcept = default;
    /// Orders by the 128-bit value, so that a `uuid` can key an ordered container.
    friend constexpr std::strong_ordering operator<=>(const uuid&, const uuid&) noexcept = default;

private:
    std::uint64_t high_ = 0;
    std::uint64_t low_ = 0;
};

inline uuid uuid::generate() {
    // mt19937_64 per thread: no shared state, so generation never contends.
    thread_local std::mt19937_64 engine = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    std::uint64_t high = engine();
    std::uint64_t low = engine();
    high = (high & ~std::uint64_t{0xF000}) | std::uint64_t{0x4000};          // version 4
    low = (low & ~(std::uint64_t{0x3} << 62)) | (std::uint64_t{0x2} << 62);  // variant 1 (10xx)
    return uuid(high, low);
}

inline char* uuid::format_to(char* out) const noexcept {
    constexpr char digits[] = "0123456789abcdef";
    const auto nibble = [this](int index) {  // index 0..31, most significant first
        const std::uint64_t half = index < 16 ? high_ : low_;
        return static_cast<unsigned>(half >> (60 - 4 * (index % 16))) & 0xF;
    };
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) *out++ = '-';
        *out++ = digits[nibble(i)];
    }
    return out;
}

inline std::string uuid::to_string() const {
    std::string text(text_size, '\0');
    format_to(text.data());
    return text;
}

inline std::optional<uuid> uuid::parse(std::string_view text) noexcept {
    if (text.size() != text_size) return std::nullopt;
    std::uint64_t halves[2] = {0, 0};
    int digit_count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return std::nullopt;
            continue;
        }
        unsigned value = 0;
        if (c >= '0' && c <= '9') {
            value = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            value = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            value = static_cast<unsigned>(c - 'A' + 10);
        } else {
            return std::nullopt;
        }
        std::uint64_t& half = halves[digit_count / 16];
        half = (half << 4) | value;
        ++digit_count;
    }
    return uuid(halves[0], halves[1]);
}

inline uuid uuid::from_string(std::string_view text) {
    if (auto id = parse(text)) return *id;
    throw std::invalid_argument(
        fmt::format("uuid: '{}' is not a UUID in the canonical 8-4-4-4-12 hex form", text));
}

}  // namespace sweet_async

/// Hashes a `uuid` for unordered containers.
template <>
struct std::hash<sweet_async::uuid> {
    /// The hash of `id`.
    std::size_t operator()(const sweet_async::uuid& id) const noexcept {
        // Generated UUIDs are random already; mixing the halves is enough.
        return static_cast<std::size_t>(id.high() ^ (id.low() * 0x9E3779B97F4A7C15ULL));
    }
};

/// The canonical text form, "9b2f6c1e-3f4a-4d2b-8c7e-1a2b3c4d5e6f"; takes string format
/// specs. Allocation-free.
template <>
struct fmt::formatter<sweet_async::uuid> : fmt::formatter<std::string_view> {
    auto format(const sweet_async::uuid& id, fmt::format_context& ctx) const {
        char text[sweet_async::uuid::text_size];
        id.format_to(text);
        return fmt::formatter<std::string_view>::format(std::string_view(text, sizeof text), ctx);
    }
};

#endif  // SWEET_ASYNC_BASE_UUID_HPP
