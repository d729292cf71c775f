#include <dockerflow/ops/mozlog.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <random>
#include <regex>
#include <set>
#include <span>
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

// The JSON object the direct renderer must match: nlohmann's emplace keeps the first of equal keys,
// as its initializer-list constructor does.
nlohmann::json as_json(std::span<const log_field> fields) {
  auto object = nlohmann::json::object();
  for (const auto& f : fields) {
    if (const auto* text = std::get_if<std::string_view>(&f.value)) {
      object.emplace(std::string(f.name), std::string(*text));
    } else {
      object.emplace(std::string(f.name), std::get<std::int64_t>(f.value));
    }
  }
  return object;
}

void expect_same_line(const mozlog_origin& from, std::string_view type, std::span<const log_field> fields) {
  const auto when = at_nanos(1'700'000'000'123'456'789);
  const auto direct = render_mozlog(from, when, level::warning, type, fields);
  const auto through_json = render_mozlog(from, when, level::warning, type, as_json(fields));
  ASSERT_EQ(direct, through_json);
}

void expect_same_text(const std::string& text) {
  const std::vector<log_field> fields{{"agent", text}, {text, std::int64_t{1}}};
  expect_same_line({text, text, -7}, text, fields);
}

TEST(MozlogDirect, RequestSummaryIsTheSameLine) {
  const std::vector<log_field> fields{{"method", "GET"},  {"path", "/__heartbeat__"}, {"code", 200},
                                      {"errno", 0},       {"t", std::int64_t{12}},    {"rid", "b3f1c2"},
                                      {"agent", "curl/8"}, {"lang", "en-US,en;q=0.5"}};
  expect_same_line(origin, "request.summary", fields);
  const auto line = render_mozlog(origin, at_nanos(5), level::info, "request.summary", fields);
  EXPECT_EQ(line,
            R"({"EnvVersion":"2.0","Fields":{"agent":"curl/8","code":200,"errno":0,"lang":"en-US,en;q=0.5",)"
            R"("method":"GET","path":"/__heartbeat__","rid":"b3f1c2","t":12},"Hostname":"web-1",)"
            R"("Logger":"dockerflow-app","Pid":4242,"Severity":6,"Timestamp":5,"Type":"request.summary"})");
}

TEST(MozlogDirect, EmptyAndDuplicateFieldsAsNlohmannHasThem) {
  expect_same_line(origin, "t", {});
  const std::vector<log_field> twice{{"b", "first"}, {"a", 1}, {"b", "second"}, {"a", "x"}, {"", -1}};
  expect_same_line(origin, "t", twice);
  const std::vector<log_field> extremes{{"min", INT64_MIN}, {"max", INT64_MAX}, {"zero", 0}, {"neg", -42}};
  expect_same_line(origin, "t", extremes);
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("k" + std::to_string((i * 7) % 23));  // more than fit on the stack
  std::vector<log_field> many;
  for (const auto& n : names) many.push_back({n, static_cast<std::int64_t>(many.size())});
  expect_same_line(origin, "t", many);
}

TEST(MozlogDirect, EveryByteAndEveryPairEscapeAsNlohmannDoes) {
  for (int a = 0; a < 256; ++a) {
    expect_same_text(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; b += 5) expect_same_text({static_cast<char>(a), static_cast<char>(b)});
  }
}

TEST(MozlogDirect, Utf8EdgeCasesAsNlohmannDoes) {
  const std::vector<std::string> cases{
      "", "plain ascii / with slash", "\"quoted\" \\ back", "\b\f\n\r\t\x01\x1f\x7f", std::string("nul\0in", 6),
      "caf\xc3\xa9", "\xe2\x82\xac euro", "\xf0\x9f\x98\x80 emoji", "\xf4\x8f\xbf\xbf max",
      "\xf4\x90\x80\x80 too big", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong", "\xe0\x80\xaf overlong",
      "\xc3", "\xe2\x82", "\xf0\x9f\x98", "ab\xc3", "\xc3(", "\xe2\x28\xa1", "\xe2\x82\x28", "\xf0\x28\x8c\xbc",
      "\x80\x80\x80", "\xff\xfe\xfd", "\xc3\xc3\xa9", "\xe2\xe2\x82\xac", "\xf0\xf0\x9f\x98\x80x",
      "a\xff" "b\xc3\xa9" "c\xe2\x82" "d\xf0\x9f\x98\x80"};
  for (const auto& text : cases) expect_same_text(text);
}

TEST(MozlogDirect, RandomTextAsNlohmannDoes) {
  std::mt19937 random(20240601);
  std::uniform_int_distribution<int> length(0, 64);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> kind(0, 3);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    for (int n = length(random); n > 0; --n) {
      const auto k = kind(random);
      // Mostly bytes near UTF-8's structure, so sequences are often almost valid.
      const int b = k == 0 ? byte(random) : k == 1 ? 0x80 + byte(random) % 0x40 : k == 2 ? 0xc0 + byte(random) % 0x40 : 0x20 + byte(random) % 0x60;
      text += static_cast<char>(b);
    }
    expect_same_text(text);
  }
  std::string long_text;
  for (int n = 0; n < 100'000; ++n) long_text += static_cast<char>(byte(random));
  expect_same_text(long_text);
  expect_same_text(std::string(70'000, 'a') + "\xe2\x82\xac" + std::string(10'000, '\n'));
}

TEST(MozlogDirect, WriteLogsTheSameLineAsLog) {
  captured_log capture(spdlog::level::info);
  const mozlog log(capture.logger, origin);
  const std::string method = "GET";
  const std::string_view path = "/a\x01" "b\xff";
  const unsigned status = 404;  // converts without a cast
  const int error = -3;
  log.write(level::info, "request.summary", {{"method", method}, {"path", path}, {"code", status}, {"errno", error},
                                             {"t", static_cast<std::int64_t>(7)}});
  log.info("request.summary", {{"method", method}, {"path", std::string(path)}, {"code", status}, {"errno", error}, {"t", 7}});
  log.write(level::debug, "skipped", {{"n", 1}});
  const auto lines = lines_of(capture.out.str());
  ASSERT_EQ(lines.size(), 2u) << capture.out.str();
  const std::regex timestamp(R"("Timestamp":[0-9]+)");
  EXPECT_EQ(std::regex_replace(lines[0], timestamp, "T"), std::regex_replace(lines[1], timestamp, "T"));
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
