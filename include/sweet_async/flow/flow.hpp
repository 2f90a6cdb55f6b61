// sweet_async/flow/flow.hpp: the stages of a flow as one handle, to stop and to watch together.
#ifndef SWEET_ASYNC_FLOW_FLOW_HPP
#define SWEET_ASYNC_FLOW_FLOW_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/cancellation_level.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/channel/detail/task_inlet.hpp>
#include <sweet_async/flow/forwarding_collector.hpp>
#include <sweet_async/receiver/detail/task_control.hpp>
#include <sweet_async/task/sender.hpp>

namespace sweet_async {

/// Where one stage of a running flow is (see `flow::progress`).
struct stage_progress {
    std::string name;                           ///< The task's name.
    task_status status = task_status::running;  ///< Running, or how it ended.
    task_stats stats;                           ///< Its live counts.
};

namespace detail {

/// One stage of a `flow`, whatever it carries: what stopping and watching it needs.
struct flow_stage {
    std::shared_ptr<task_control> control;
    std::shared_ptr<const feeder_count> feeders;
};

}  // namespace detail

/// The stages of a flow as one handle: `cancel` stops them together, and
/// `progress` (or formatting the flow) shows each one's live counts. It
/// refers to the stages as their senders do, so it does not keep them open;
/// their final results are still each stage's own `wait()` (and
/// `flow_report::of` tells where every event ended). Cheap to copy; every
/// member may be called from any thread.
///
/// ```cpp
/// sa::flow stages(parse, enrich, store);          // emitting tasks or senders
/// stages.cancel(sa::cancellation_level::immediate);  // every stage, now
/// ```
class flow {
public:
    /// The flow of `stages` (emitting tasks or their senders), in the order
    /// they are listed in.
    template <class... Stages>
    explicit flow(const Stages&... stages) {
        stages_.reserve(sizeof...(Stages));
        (add(detail::sender_of(stages)), ...);
    }

    /// The flow of the tasks `stages` send to, in order: for flows built in a loop.
    template <class T, task_id Id>
    explicit flow(const std::vector<sender<T, Id>>& stages) {
        stages_.reserve(stages.size());
        for (const auto& s : stages)
            add(s);
    }

    /// `immediate`: every stage stops now, as its own `cancel(immediate)`
    /// does (events not yet processed end cancelled, results waiting for a
    /// next stage's room are not forwarded). `graceful`: the stages that no
    /// running stage of the flow feeds (its entries) accept nothing new and
    /// finish what was sent; the others end as completion propagates, after
    /// processing what reaches them, so nothing already in the flow is lost.
    void cancel(cancellation_level level = cancellation_level::graceful) const {
        if (level == cancellation_level::immediate) {
            for (const auto& stage : stages_)
                stage.control->request_stop(detail::stop_request::immediate);
            return;
        }
        for (const auto& stage : stages_)
            if (!stage.feeders->fed()) stage.control->request_stop(detail::stop_request::graceful);
    }

    /// Each stage's name, status and live counts, in order.
    std::vector<stage_progress> progress() const {
        std::vector<stage_progress> out;
        out.reserve(stages_.size());
        for (const auto& stage : stages_)
            out.push_back(progress_of(*stage.control));
        return out;
    }

    /// True once every stage has ended.
    bool ended() const {
        return std::all_of(stages_.begin(), stages_.end(), [](const auto& stage) {
            return stage.control->status() != task_status::running;
        });
    }

private:
    template <class Sender>
    void add(const Sender& s) {
        stages_.push_back(detail::flow_stage{s.control(), s.inlet()});
    }

    static stage_progress progress_of(const detail::task_control& stage) {
        return {stage.options.name, stage.status(), stage.stats()};
    }

    std::vector<detail::flow_stage> stages_;
};

}  // namespace sweet_async

/// "'parse' running 1200/2000": the stage's name, status, and events with an
/// outcome out of those it accepted.
template <>
struct fmt::formatter<sweet_async::stage_progress> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::stage_progress& p, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("'{}' {} {}/{}", p.name, p.status, p.stats.finished(), p.stats.sent));
    }
};

/// Live progress, one stage after the other: "'parse' running 1200/2000 |
/// 'enrich' running 1100/1190 | 'store' running 1000/1100".
template <>
struct fmt::formatter<sweet_async::flow> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::flow& f, fmt::format_context& ctx) const {
        std::string text;
        for (const auto& stage : f.progress()) {
            if (!text.empty()) text += " | ";
            text += fmt::format("{}", stage);
        }
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_FLOW_FLOW_HPP
