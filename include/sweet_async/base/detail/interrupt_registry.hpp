// sweet_async/base/detail/interrupt_registry.hpp: coroutines a stop request must interrupt.
#ifndef SWEET_ASYNC_BASE_DETAIL_INTERRUPT_REGISTRY_HPP
#define SWEET_ASYNC_BASE_DETAIL_INTERRUPT_REGISTRY_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_signal)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_type)
#include SWEET_ASYNC_ASIO_HEADER(post)

namespace sweet_async::detail {

/// One coroutine in flight that `cancel(immediate)` or the task's deadline
/// must interrupt: the signal bound to its cancellation slot, and the strand
/// it runs on. Asio's cancellation slots are not thread-safe, so the signal
/// is only ever emitted on that strand.
struct interruptible {
    explicit interruptible(asio::any_io_executor on) : strand(std::move(on)) {}

    const asio::any_io_executor strand;
    asio::cancellation_signal signal;
    /// Set on `strand` once the coroutine has ended: from then on its slot
    /// handler may refer to a finished operation, so the signal stays quiet.
    bool ended = false;
    std::size_t index = 0;  // position in the registry
};

/// The interruptible coroutines of one task. Touched on the consumer strand
/// only, so it needs no lock; entries are shared with the posted
/// interruptions so that a late one never outlives its signal.
class interrupt_registry {
public:
    /// Registers a coroutine that will run on `strand`.
    std::shared_ptr<interruptible> enter(asio::any_io_executor strand) {
        auto entry = std::make_shared<interruptible>(std::move(strand));
        entry->index = entries_.size();
        entries_.push_back(entry);
        return entry;
    }

    /// Forgets `entry` (swap-and-pop: order does not matter here).
    void leave(interruptible& entry) {
        const std::size_t index = entry.index;
        if (index >= entries_.size() || entries_[index].get() != &entry) return;
        if (index + 1 != entries_.size()) {
            entries_[index] = std::move(entries_.back());
            entries_[index]->index = index;
        }
        entries_.pop_back();
    }

    /// Emits terminal cancellation into every registered coroutine, each on
    /// its own strand.
    void interrupt_all() {
        for (const auto& entry : entries_) {
            asio::post(entry->strand, [entry] {
                if (!entry->ended) entry->signal.emit(asio::cancellation_type::terminal);
            });
        }
    }

private:
    std::vector<std::shared_ptr<interruptible>> entries_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_INTERRUPT_REGISTRY_HPP
