#include <dockerflow/ops/mozlog.hpp>

#include <spdlog/async.h>
#include <thread>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include <unistd.h>

namespace dockerflow {
namespace {

spdlog::level::level_enum to_spdlog(level l) noexcept {
  switch (l) {
    case level::ok:
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warning: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
    case level::critical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

std::string local_hostname() {
  char buffer[256] = {};
  return gethostname(buffer, sizeof buffer - 1) == 0 ? std::string(buffer) : std::string("unknown");
}

}  // namespace

int syslog_severity(level l) noexcept {
  switch (l) {
    case level::critical: return 2;
    case level::error: return 3;
    case level::warning: return 4;
    case level::info: return 6;
    case level::ok:
    case level::debug: return 7;
  }
  return 6;
}

std::string render_mozlog(const mozlog_origin& origin, std::chrono::system_clock::time_point when, level severity,
                          std::string_view type, const nlohmann::json& fields) {
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  const nlohmann::json line{{"Timestamp", nanos},
                            {"Type", type},
                            {"Logger", origin.logger},
                            {"Hostname", origin.hostname},
                            {"EnvVersion", "2.0"},
                            {"Severity", syslog_severity(severity)},
                            {"Pid", origin.pid},
                            {"Fields", fields}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

mozlog::mozlog(std::shared_ptr<spdlog::logger> sink, mozlog_origin origin,
               std::shared_ptr<spdlog::details::thread_pool> writer)
    : writer_(std::move(writer)), sink_(std::move(sink)), origin_(std::move(origin)) {}

bool mozlog::enabled(level severity) const noexcept { return sink_->should_log(to_spdlog(severity)); }

void mozlog::log(level severity, std::string_view type, const nlohmann::json& fields) const {
  if (!enabled(severity)) return;
  sink_->log(to_spdlog(severity), render_mozlog(origin_, std::chrono::system_clock::now(), severity, type, fields));
}

bool mozlog::written_within(std::chrono::milliseconds limit) const {
  if (!writer_) return true;  // synchronous sink: every line is already written
  // The flush is queued behind every line; once the queue is empty the writer has taken it, and each
  // line before it was written and flushed by the stdout sink.
  sink_->flush();
  const auto until = std::chrono::steady_clock::now() + limit;
  while (writer_->queue_size() > 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

mozlog make_stdout_mozlog(const std::string& name, level minimum) {
  // Line-buffered: each line reaches the log collector as soon as it is written.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  auto writer = std::make_shared<spdlog::details::thread_pool>(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>(name, std::move(sink), writer,
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_pattern("%v");  // the payload is the whole mozlog line
  logger->set_level(to_spdlog(minimum));
  return mozlog(std::move(logger), {name, local_hostname(), static_cast<std::int64_t>(getpid())}, std::move(writer));
}

}  // namespace dockerflow
