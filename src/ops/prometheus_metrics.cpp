#include <dockerflow/ops/prometheus_metrics.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace dockerflow {
namespace {

constexpr std::array<std::string_view, prometheus_metrics::duration_buckets.size() + 1> bucket_labels{
    "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"};
constexpr std::array<level, 6> levels{level::ok,      level::debug, level::info,
                                      level::warning, level::error, level::critical};

std::size_t level_index(level l) noexcept {
  return std::min<std::size_t>(static_cast<std::size_t>(std::max(to_int(l), 0) / 10), levels.size() - 1);
}

// Label values may hold any text; the format reserves backslash, double quote and newline.
void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// The shortest text that reads back as the same double, as Prometheus' own clients write values.
void append_number(std::string& out, double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out.append(text, result.ptr);
}

void append_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// `name{labels} value`; `labels` is already escaped, without braces.
void append_sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out.append(name).append("{").append(labels).append("} ").append(std::to_string(value)).append("\n");
}
void append_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out.append(name).append("{").append(labels).append("} ");
  append_number(out, value);
  out += '\n';
}

std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string text;
  for (const auto& [key, value] : pairs) {
    if (!text.empty()) text += ',';
    text.append(key).append("=\"");
    append_label_value(text, value);
    text += '"';
  }
  return text;
}

}  // namespace

prometheus_metrics::prometheus_metrics(std::function<std::uint64_t()> log_lines_dropped)
    : log_lines_dropped_(std::move(log_lines_dropped)) {}

void prometheus_metrics::request(std::string_view route, unsigned status, std::chrono::microseconds duration) {
  const auto micros = static_cast<std::uint64_t>(std::max<std::chrono::microseconds::rep>(duration.count(), 0));
  const double seconds = static_cast<double>(micros) / 1e6;
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(duration_buckets.begin(), duration_buckets.end(), seconds) - duration_buckets.begin());
  std::lock_guard lock(mutex_);
  auto by_route = requests_.find(route);
  if (by_route == requests_.end()) by_route = requests_.emplace(std::string(route), std::map<unsigned, request_series>{}).first;
  auto& series = by_route->second[status];
  ++series.in_bucket[bucket];
  ++series.count;
  series.micros += micros;
}

void prometheus_metrics::heartbeat(bool passed) {
  std::lock_guard lock(mutex_);
  ++(passed ? heartbeats_passed_ : heartbeats_failed_);
}

void prometheus_metrics::check(std::string_view name, level reported, std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  auto found = checks_.find(name);
  if (found == checks_.end()) found = checks_.emplace(std::string(name), check_series{}).first;
  auto& series = found->second;
  series.last = reported;
  series.last_duration = std::max(duration, std::chrono::milliseconds::zero());
  ++series.results[level_index(reported)];
}

std::string prometheus_metrics::render() const {
  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mutex_);
  render_requests(out);
  append_family(out, "dockerflow_heartbeats_total", "counter",
                "Answers of /__heartbeat__, by result: pass is HTTP 200, fail any error status.");
  append_sample(out, "dockerflow_heartbeats_total", labels({{"result", "pass"}}), heartbeats_passed_);
  append_sample(out, "dockerflow_heartbeats_total", labels({{"result", "fail"}}), heartbeats_failed_);
  render_checks(out);
  if (log_lines_dropped_) {
    append_family(out, "dockerflow_log_lines_dropped_total", "counter",
                  "Log lines dropped because stdout did not take them (a stalled log reader).");
    out.append("dockerflow_log_lines_dropped_total ").append(std::to_string(log_lines_dropped_())).append("\n");
  }
  return out;
}

void prometheus_metrics::render_requests(std::string& out) const {
  append_family(out, "dockerflow_requests_total", "counter",
                "Requests answered, by the route that matched (other: no route) and HTTP status code.");
  for (const auto& [route, by_code] : requests_)
    for (const auto& [code, series] : by_code)
      append_sample(out, "dockerflow_requests_total", labels({{"route", route}, {"code", std::to_string(code)}}),
                    series.count);
  append_family(out, "dockerflow_request_duration_seconds", "histogram",
                "Time from a request's arrival to its answer, by route and HTTP status code.");
  for (const auto& [route, by_code] : requests_) {
    for (const auto& [code, series] : by_code) {
      const auto code_text = std::to_string(code);
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < bucket_labels.size(); ++i) {
        cumulative += series.in_bucket[i];
        append_sample(out, "dockerflow_request_duration_seconds_bucket",
                      labels({{"route", route}, {"code", code_text}, {"le", bucket_labels[i]}}), cumulative);
      }
      const auto route_code = labels({{"route", route}, {"code", code_text}});
      append_sample(out, "dockerflow_request_duration_seconds_sum", route_code,
                    static_cast<double>(series.micros) / 1e6);
      append_sample(out, "dockerflow_request_duration_seconds_count", route_code, series.count);
    }
  }
}

void prometheus_metrics::render_checks(std::string& out) const {
  append_family(out, "dockerflow_check_level", "gauge",
                "Level of the check's last result: 0 ok, 10 debug, 20 info, 30 warning, 40 error, 50 critical.");
  for (const auto& [name, series] : checks_)
    append_sample(out, "dockerflow_check_level", labels({{"check", name}}),
                  static_cast<std::uint64_t>(to_int(series.last)));
  append_family(out, "dockerflow_check_duration_seconds", "gauge", "Duration of the check's last probe.");
  for (const auto& [name, series] : checks_)
    append_sample(out, "dockerflow_check_duration_seconds", labels({{"check", name}}),
                  static_cast<double>(series.last_duration.count()) / 1e3);
  // Every status of a known check is present from its first result on, so rate() sees the first error.
  append_family(out, "dockerflow_check_results_total", "counter", "Check results reported, by check and level.");
  for (const auto& [name, series] : checks_)
    for (std::size_t i = 0; i < levels.size(); ++i)
      append_sample(out, "dockerflow_check_results_total", labels({{"check", name}, {"status", to_string(levels[i])}}),
                    series.results[i]);
}

void add_metrics_routes(router& routes, const prometheus_metrics& registry) {
  routes.add_get("/metrics", [&registry](const http_request&, responder respond) {
    respond(http_response{200, std::string(prometheus_content_type), registry.render(), {{"Cache-Control", "no-store"}}});
  });
}

}  // namespace dockerflow
