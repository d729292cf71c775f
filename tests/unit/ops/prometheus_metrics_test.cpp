#include <dockerflow/ops/prometheus_metrics.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of the sample written exactly `series` ("name{labels}"), if there is one.
std::optional<std::string> sample(const std::string& text, const std::string& series) {
  for (const auto& line : lines_of(text))
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  return std::nullopt;
}

std::size_t samples_of(const std::string& text, const std::string& name) {
  std::size_t count = 0;
  for (const auto& line : lines_of(text))
    if (line.rfind(name + "{", 0) == 0) ++count;
  return count;
}

const std::vector<std::pair<std::string, std::string>> families{
    {"dockerflow_requests_total", "counter"},        {"dockerflow_request_duration_seconds", "histogram"},
    {"dockerflow_heartbeats_total", "counter"},      {"dockerflow_check_level", "gauge"},
    {"dockerflow_check_duration_seconds", "gauge"},  {"dockerflow_check_results_total", "counter"},
};

TEST(Prometheus, EveryFamilyHasHelpAndTypeEvenBeforeAnySample) {
  const prometheus_metrics registry;
  const auto text = "\n" + registry.render();
  for (const auto& [name, type] : families) {
    EXPECT_NE(text.find("\n# HELP " + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find("# TYPE " + name + " " + type + "\n"), std::string::npos) << name;
  }
  EXPECT_EQ(sample(text, "dockerflow_heartbeats_total{result=\"pass\"}"), "0");
  EXPECT_EQ(sample(text, "dockerflow_heartbeats_total{result=\"fail\"}"), "0");
  EXPECT_EQ(text.back(), '\n');
}

TEST(Prometheus, EveryLineIsACommentOrASample) {
  prometheus_metrics registry([] { return std::uint64_t{3}; });
  registry.request("/__lbheartbeat__", 200, 10us);
  registry.heartbeat(true);
  registry.check("redis", level::ok, 1ms);
  const std::regex comment(R"(# (HELP|TYPE) [a-z_]+ .+)");
  const std::regex sample_line(R"([a-z_]+(\{([a-z_]+="[^"]*",?)+\})? [0-9.e+-]+)");
  for (const auto& line : lines_of(registry.render()))
    EXPECT_TRUE(std::regex_match(line, comment) || std::regex_match(line, sample_line)) << line;
}

// The log can only show dropped lines as a gap; the count is read from its source at each scrape.
TEST(Prometheus, DroppedLogLinesAreReadAtEachScrapeWhenThereIsASource) {
  EXPECT_EQ(prometheus_metrics().render().find("dockerflow_log_lines_dropped_total"), std::string::npos);
  std::uint64_t dropped = 0;
  const prometheus_metrics registry([&dropped] { return dropped; });
  auto text = registry.render();
  EXPECT_NE(text.find("# TYPE dockerflow_log_lines_dropped_total counter\n"), std::string::npos) << text;
  EXPECT_EQ(sample(text, "dockerflow_log_lines_dropped_total"), "0");
  dropped = 4096;
  EXPECT_EQ(sample(registry.render(), "dockerflow_log_lines_dropped_total"), "4096");
}

TEST(Prometheus, RequestsAreCountedByRouteAndCode) {
  prometheus_metrics registry;
  registry.request("/__lbheartbeat__", 200, 100us);
  registry.request("/__lbheartbeat__", 200, 100us);
  registry.request("/__lbheartbeat__", 503, 100us);
  registry.request("other", 404, 100us);
  const auto text = registry.render();
  EXPECT_EQ(sample(text, R"(dockerflow_requests_total{route="/__lbheartbeat__",code="200"})"), "2");
  EXPECT_EQ(sample(text, R"(dockerflow_requests_total{route="/__lbheartbeat__",code="503"})"), "1");
  EXPECT_EQ(sample(text, R"(dockerflow_requests_total{route="other",code="404"})"), "1");
  EXPECT_EQ(samples_of(text, "dockerflow_requests_total"), 3u);
}

TEST(Prometheus, DurationHistogramBucketsAreCumulative) {
  prometheus_metrics registry;
  for (const auto d : {500us, 1000us, 3000us, 2'000'000us, 10'000'000us})
    registry.request("/__heartbeat__", 200, std::chrono::microseconds(d));
  const auto text = registry.render();
  const std::string series = R"(dockerflow_request_duration_seconds_bucket{route="/__heartbeat__",code="200",le=")";
  const std::vector<std::pair<std::string, std::string>> buckets{
      {"0.001", "2"}, {"0.005", "3"}, {"0.01", "3"}, {"0.05", "3"}, {"0.1", "3"},
      {"0.5", "3"},   {"1", "3"},     {"5", "4"},    {"+Inf", "5"}};
  for (const auto& [le, count] : buckets) EXPECT_EQ(sample(text, series + le + "\"}"), count) << "le=" << le;
  EXPECT_EQ(samples_of(text, "dockerflow_request_duration_seconds_bucket"), buckets.size());
  EXPECT_EQ(sample(text, R"(dockerflow_request_duration_seconds_count{route="/__heartbeat__",code="200"})"), "5");
  EXPECT_EQ(sample(text, R"(dockerflow_request_duration_seconds_sum{route="/__heartbeat__",code="200"})"), "12.0045");
}

TEST(Prometheus, HeartbeatsArePassesAndFailures) {
  prometheus_metrics registry;
  registry.heartbeat(true);
  registry.heartbeat(true);
  registry.heartbeat(false);
  const auto text = registry.render();
  EXPECT_EQ(sample(text, "dockerflow_heartbeats_total{result=\"pass\"}"), "2");
  EXPECT_EQ(sample(text, "dockerflow_heartbeats_total{result=\"fail\"}"), "1");
}

TEST(Prometheus, ChecksHaveTheLastLevelAndDurationAndCountEveryResult) {
  prometheus_metrics registry;
  registry.check("redis", level::error, 2000ms);
  registry.check("redis", level::ok, 3ms);
  registry.check("postgres", level::warning, 1250ms);
  const auto text = registry.render();
  EXPECT_EQ(sample(text, R"(dockerflow_check_level{check="redis"})"), "0");
  EXPECT_EQ(sample(text, R"(dockerflow_check_level{check="postgres"})"), "30");
  EXPECT_EQ(sample(text, R"(dockerflow_check_duration_seconds{check="redis"})"), "0.003");
  EXPECT_EQ(sample(text, R"(dockerflow_check_duration_seconds{check="postgres"})"), "1.25");
  EXPECT_EQ(sample(text, R"(dockerflow_check_results_total{check="redis",status="error"})"), "1");
  EXPECT_EQ(sample(text, R"(dockerflow_check_results_total{check="redis",status="ok"})"), "1");
  EXPECT_EQ(sample(text, R"(dockerflow_check_results_total{check="redis",status="critical"})"), "0")
      << "a status is there from the first result on, so rate() sees its first increase";
  EXPECT_EQ(sample(text, R"(dockerflow_check_results_total{check="postgres",status="warning"})"), "1");
  EXPECT_EQ(samples_of(text, "dockerflow_check_results_total"), 12u);
}

TEST(Prometheus, LabelValuesAreEscaped) {
  prometheus_metrics registry;
  registry.check("a\"b\\c\nd", level::critical, 1ms);
  registry.request("/we\"ird", 200, 1us);
  const auto text = registry.render();
  EXPECT_EQ(sample(text, R"(dockerflow_check_level{check="a\"b\\c\nd"})"), "50") << text;
  EXPECT_EQ(sample(text, R"(dockerflow_requests_total{route="/we\"ird",code="200"})"), "1") << text;
}

TEST(Prometheus, ConcurrentUpdatesAreAllCounted) {
  prometheus_metrics registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&registry] {
      for (int i = 0; i < 1000; ++i) {
        registry.request("/__lbheartbeat__", 200, 1us);
        registry.heartbeat(i % 2 == 0);
        registry.check("redis", level::ok, 1ms);
        if (i % 100 == 0) (void)registry.render();
      }
    });
  for (auto& thread : threads) thread.join();
  const auto text = registry.render();
  EXPECT_EQ(sample(text, R"(dockerflow_requests_total{route="/__lbheartbeat__",code="200"})"), "4000");
  EXPECT_EQ(sample(text, "dockerflow_heartbeats_total{result=\"pass\"}"), "2000");
  EXPECT_EQ(sample(text, R"(dockerflow_check_results_total{check="redis",status="ok"})"), "4000");
}

TEST(Prometheus, MetricsRouteServesTheTextFormat) {
  prometheus_metrics registry;
  registry.heartbeat(false);
  router routes;
  add_metrics_routes(routes, registry);
  http_request request;
  request.method = "GET";
  request.path = "/metrics";
  std::optional<http_response> answer;
  routes.dispatch(request, [&](http_response r) { answer = std::move(r); });
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200u);
  EXPECT_EQ(answer->content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(answer->body, registry.render());
  EXPECT_EQ(sample(answer->body, "dockerflow_heartbeats_total{result=\"fail\"}"), "1");
  EXPECT_TRUE(routes.serves("/metrics"));
  EXPECT_FALSE(routes.serves("/__heartbeat__")) << "the metrics router serves /metrics alone";
}

}  // namespace
}  // namespace dockerflow
