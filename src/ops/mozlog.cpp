#include <dockerflow/ops/mozlog.hpp>

#include <dockerflow/ops/batched_line_writer.hpp>
#include <dockerflow/ops/json_string.hpp>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

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

// spdlog's front (levels, the logger API) on a batched_line_writer. The payload is the whole
// mozlog line, so the sink ignores spdlog's pattern and takes it as it is. No lock of its own: the
// writer has one.
class batched_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit batched_sink(std::shared_ptr<batched_line_writer> writer) : writer_(std::move(writer)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    writer_->append(std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::shared_ptr<batched_line_writer> writer_;
};

std::int64_t nanos_since_epoch(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
}

void append_integer(std::string& out, std::int64_t value) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

void append_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out += ':';
}

// Insertion sort: stable (so the first of equal names comes first), allocates nothing, and lines
// have a handful of fields.
void sort_by_name(std::span<const log_field*> order) {
  for (std::size_t i = 1; i < order.size(); ++i) {
    const auto* f = order[i];
    auto j = i;
    for (; j > 0 && f->name < order[j - 1]->name; --j) order[j] = order[j - 1];
    order[j] = f;
  }
}

void append_value(std::string& out, const log_field& f) {
  if (const auto* text = std::get_if<std::string_view>(&f.value)) {
    append_json_string(out, *text);
  } else {
    append_integer(out, std::get<std::int64_t>(f.value));
  }
}

// As a nlohmann::json object holds them: keys sorted bytewise, the first of equal keys kept.
void append_fields(std::string& out, std::span<const log_field> fields) {
  std::array<const log_field*, 16> small{};
  std::vector<const log_field*> large;
  if (fields.size() > small.size()) large.resize(fields.size());
  const std::span<const log_field*> order =
      large.empty() ? std::span<const log_field*>(small.data(), fields.size()) : std::span<const log_field*>(large);
  for (std::size_t i = 0; i < fields.size(); ++i) order[i] = &fields[i];
  sort_by_name(order);
  out += '{';
  const log_field* previous = nullptr;
  for (const auto* f : order) {
    if (previous && previous->name == f->name) continue;
    if (previous) out += ',';
    previous = f;
    append_key(out, f->name);
    append_value(out, *f);
  }
  out += '}';
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

std::string render_mozlog(const mozlog_origin& origin, std::chrono::system_clock::time_point when, level severity,
                          std::string_view type, std::span<const log_field> fields) {
  std::string line;
  line.reserve(160 + origin.logger.size() + origin.hostname.size() + type.size() + fields.size() * 24);
  line += R"({"EnvVersion":"2.0","Fields":)";
  append_fields(line, fields);
  line += R"(,"Hostname":)";
  append_json_string(line, origin.hostname);
  line += R"(,"Logger":)";
  append_json_string(line, origin.logger);
  line += R"(,"Pid":)";
  append_integer(line, origin.pid);
  line += R"(,"Severity":)";
  append_integer(line, syslog_severity(severity));
  line += R"(,"Timestamp":)";
  append_integer(line, nanos_since_epoch(when));
  line += R"(,"Type":)";
  append_json_string(line, type);
  line += '}';
  return line;
}

mozlog::mozlog(std::shared_ptr<spdlog::logger> sink, mozlog_origin origin,
               std::shared_ptr<batched_line_writer> writer)
    : writer_(std::move(writer)), sink_(std::move(sink)), origin_(std::move(origin)) {}

bool mozlog::enabled(level severity) const noexcept { return sink_->should_log(to_spdlog(severity)); }

void mozlog::log(level severity, std::string_view type, const nlohmann::json& fields) const {
  if (!enabled(severity)) return;
  sink_->log(to_spdlog(severity), render_mozlog(origin_, std::chrono::system_clock::now(), severity, type, fields));
}

void mozlog::write(level severity, std::string_view type, std::initializer_list<log_field> fields) const {
  if (!enabled(severity)) return;
  const auto line = render_mozlog(origin_, std::chrono::system_clock::now(), severity, type,
                                  std::span<const log_field>(fields.begin(), fields.size()));
  sink_->log(to_spdlog(severity), spdlog::string_view_t(line.data(), line.size()));
}

bool mozlog::written_within(std::chrono::milliseconds limit) const {
  if (!writer_) return true;  // synchronous sink: every line is already written
  return writer_->written_within(limit);
}

std::uint64_t mozlog::dropped_lines() const { return writer_ ? writer_->dropped() : 0; }

mozlog make_stdout_mozlog(const std::string& name, level minimum) {
  // Straight to fd 1, not through stdio: nothing else writes to stdout once the service runs.
  auto writer = std::make_shared<batched_line_writer>(batched_line_writer::options{});
  auto logger = std::make_shared<spdlog::logger>(name, std::make_shared<batched_sink>(writer));
  logger->set_level(to_spdlog(minimum));
  return mozlog(std::move(logger), {name, local_hostname(), static_cast<std::int64_t>(getpid())}, std::move(writer));
}

}  // namespace dockerflow
