#include <dockerflow/ops/mozlog.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

const mozlog_origin origin{"dockerflow-app", "web-1", 4242};

std::chrono::system_clock::time_point at_nanos(std::int64_t nanos) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(nanos)));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Mozlog, LineHasEveryMozlogField) {
  const auto line = render_mozlog(origin, at_nanos(1'700'000'000'123'456'789), level::info, "request.summary",
                                  {{"path", "/__heartbeat__"}, {"code", 200}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line);
  std::set<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"Timestamp", "Type", "Logger", "Hostname", "EnvVersion", "Severity", "Pid",
                                         "Fields"}));
  ASSERT_TRUE(json["Timestamp"].is_number_integer());
  EXPECT_EQ(json["Timestamp"].get<std::int64_t>(), 1'700'000'000'123'456'789);
  EXPECT_EQ(json["Type"], "request.summary");
  EXPECT_EQ(json["Logger"], "dockerflow-app");
  EXPECT_EQ(json["Hostname"], "web-1");
  EXPECT_EQ(json["EnvVersion"], "2.0");
  ASSERT_TRUE(json["Severity"].is_number_integer());
  EXPECT_EQ(json["Severity"].get<int>(), 6);
  ASSERT_TRUE(json["Pid"].is_number_integer());
  EXPECT_EQ(json["Pid"].get<std::int64_t>(), 4242);
  EXPECT_EQ(json["Fields"], (nlohmann::json{{"path", "/__heartbeat__"}, {"code", 200}}));
}

TEST(Mozlog, SeverityFollowsSyslog) {
  const std::vector<std::pair<level, int>> expected{
      {level::critical, 2}, {level::error, 3}, {level::warning, 4}, {level::info, 6}, {level::debug, 7}};
  for (const auto& [l, severity] : expected) {
    EXPECT_EQ(syslog_severity(l), severity) << to_string(l);
    const auto json = nlohmann::json::parse(render_mozlog(origin, at_nanos(1), l, "t", nlohmann::json::object()));
    EXPECT_EQ(json["Severity"].get<int>(), severity) << to_string(l);
  }
}

TEST(Mozlog, HostileFieldsStayOnOneParsableLine) {
  const std::string forged = "x\"}\n{\"Type\":\"forged\",\"Severity\":0}";
  const nlohmann::json fields{{"agent", forged},
                              {"lang", "en\r\nX-Injected: 1"},
                              {"path", std::string("/a\x01\x1b[31m\x7f\x00z", 11)},
                              {"rid", "tab\there \\ back"}};
  const auto line = render_mozlog(origin, at_nanos(5), level::warning, "request.summary", fields);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  for (const char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control byte in the line";
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["Type"], "request.summary");
  EXPECT_EQ(json["Fields"]["agent"], forged);
  EXPECT_EQ(json["Fields"]["lang"], "en\r\nX-Injected: 1");
  EXPECT_EQ(json["Fields"]["path"], std::string("/a\x01\x1b[31m\x7f\x00z", 11));
  EXPECT_EQ(json["Fields"]["rid"], "tab\there \\ back");
}

TEST(Mozlog, InvalidUtf8IsReplacedNotThrown) {
  const nlohmann::json fields{{"agent", "curl \xff\xfe\n"}, {"bad\xc3key", "v"}, {"lang", "\xe2\x82"}};
  std::string line;
  ASSERT_NO_THROW(line = render_mozlog(origin, at_nanos(5), level::info, "type\xff\n", fields));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  nlohmann::json json;
  ASSERT_NO_THROW(json = nlohmann::json::parse(line));
  const auto agent = json["Fields"]["agent"].get<std::string>();
  EXPECT_EQ(agent.rfind("curl ", 0), 0u);
  EXPECT_NE(agent.find("\xef\xbf\xbd"), std::string::npos);
  EXPECT_EQ(json["Fields"].size(), 3u);
  EXPECT_EQ(json["Type"].get<std::string>().rfind("type", 0), 0u);
}

TEST(Mozlog, InvalidUtf8InOriginIsReplacedToo) {
  const mozlog_origin odd{"logger\xff", "host\xfe\n", 1};
  std::string line;
  ASSERT_NO_THROW(line = render_mozlog(odd, at_nanos(5), level::info, "t", nlohmann::json::object()));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  nlohmann::json json;
  ASSERT_NO_THROW(json = nlohmann::json::parse(line));
  EXPECT_EQ(json["Pid"].get<int>(), 1);
}

struct captured_log {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;

  explicit captured_log(spdlog::level::level_enum minimum) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    logger = std::make_shared<spdlog::logger>("unit-test", std::move(sink));
    logger->set_pattern("%v");
    logger->set_level(minimum);
  }
};

TEST(Mozlog, RespectsTheMinimumLevel) {
  captured_log capture(spdlog::level::warn);
  const mozlog log(capture.logger, origin);
  EXPECT_FALSE(log.enabled(level::debug));
  EXPECT_FALSE(log.enabled(level::info));
  EXPECT_TRUE(log.enabled(level::warning));
  EXPECT_TRUE(log.enabled(level::error));
  EXPECT_TRUE(log.enabled(level::critical));

  log.info("skipped.info", {{"n", 1}});
  log.log(level::debug, "skipped.debug", {{"n", 2}});
  EXPECT_EQ(capture.out.str(), "");

  const auto before = std::chrono::system_clock::now();
  log.warning("kept.warning", {{"n", 3}});
  log.error("kept.error", {{"n", 4}});
  log.log(level::critical, "kept.critical", {{"n", 5}});
  const auto after = std::chrono::system_clock::now();

  const auto lines = lines_of(capture.out.str());
  ASSERT_EQ(lines.size(), 3u) << capture.out.str();
  const std::vector<std::pair<std::string, int>> expected{{"kept.warning", 4}, {"kept.error", 3}, {"kept.critical", 2}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto json = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(json["Type"], expected[i].first);
    EXPECT_EQ(json["Severity"].get<int>(), expected[i].second);
    EXPECT_EQ(json["Logger"], "dockerflow-app");
    EXPECT_EQ(json["Pid"].get<std::int64_t>(), 4242);
    EXPECT_EQ(json["Fields"]["n"].get<int>(), static_cast<int>(i) + 3);
    const auto ts = json["Timestamp"].get<std::int64_t>();
    EXPECT_GE(ts, std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()).count());
    EXPECT_LE(ts, std::chrono::duration_cast<std::chrono::nanoseconds>(after.time_since_epoch()).count());
  }
}

TEST(Mozlog, DebugThresholdLetsDebugThrough) {
  captured_log capture(spdlog::level::debug);
  const mozlog log(capture.logger, origin);
  EXPECT_TRUE(log.enabled(level::debug));
  log.log(level::debug, "dbg", nlohmann::json::object());
  const auto lines = lines_of(capture.out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["Severity"].get<int>(), 7);
}

TEST(Mozlog, LoggedHostileFieldsStayOneLine) {
  captured_log capture(spdlog::level::info);
  const mozlog log(capture.logger, origin);
  log.info("request.summary", {{"agent", "a\nb\r\n{\"Type\":\"forged\"}\xff"}});
  const auto lines = lines_of(capture.out.str());
  ASSERT_EQ(lines.size(), 1u) << capture.out.str();
  EXPECT_EQ(nlohmann::json::parse(lines[0])["Type"], "request.summary");
}

TEST(Mozlog, StdoutLoggerHonoursItsMinimum) {
  const auto log = make_stdout_mozlog("unit-test-stdout", level::error);
  EXPECT_FALSE(log.enabled(level::warning));
  EXPECT_FALSE(log.enabled(level::info));
  EXPECT_TRUE(log.enabled(level::error));
  EXPECT_TRUE(log.enabled(level::critical));
}

}  // namespace
}  // namespace dockerflow
