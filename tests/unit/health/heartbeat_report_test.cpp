#include <dockerflow/health/heartbeat_report.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

check_outcome outcome(std::string name, std::vector<message> messages, std::chrono::milliseconds duration = 0ms) {
  return check_outcome{std::move(name), check_result{std::move(messages), duration}};
}

heartbeat_report report_with(level l) {
  if (l == level::ok) return heartbeat_report{{outcome("only", {})}};
  return heartbeat_report{{outcome("only", {make_message(l, "only.X001", "x")})}};
}

std::vector<std::string> keys_in_order(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

TEST(HeartbeatReport, NoChecksIsOk) {
  const heartbeat_report report;
  EXPECT_EQ(report.status(), level::ok);
  EXPECT_EQ(report.http_status(503), 200u);
  EXPECT_EQ(report.to_json(), R"({"status":"ok","checks":{},"details":{}})");
}

TEST(HeartbeatReport, StatusIsTheWorstLevelOfAllChecks) {
  const heartbeat_report report{{
      outcome("a", {}),
      outcome("b", {warning_message("b.W001", "slow")}),
      outcome("c", {make_message(level::info, "c.I001", "fyi")}),
  }};
  EXPECT_EQ(report.status(), level::warning);

  const heartbeat_report failing{{
      outcome("a", {warning_message("a.W001", "slow")}),
      outcome("b", {error_message("b.E001", "down"), make_message(level::critical, "b.C001", "gone")}),
      outcome("c", {}),
  }};
  EXPECT_EQ(failing.status(), level::critical);
}

TEST(HeartbeatReport, HttpStatusIs200BelowError) {
  for (const level l : {level::ok, level::debug, level::info, level::warning})
    EXPECT_EQ(report_with(l).http_status(503), 200u) << to_string(l);
}

TEST(HeartbeatReport, HttpStatusIsTheFailureCodeFromError) {
  for (const level l : {level::error, level::critical}) {
    EXPECT_EQ(report_with(l).http_status(503), 503u) << to_string(l);
    EXPECT_EQ(report_with(l).http_status(500), 500u) << to_string(l);
  }
}

TEST(HeartbeatReport, JsonIsExactlyPythonDockerflowsShape) {
  const heartbeat_report report{{
      outcome("postgres", {}, 3ms),
      outcome("redis", {error_message("redis.E001", "timed out after 2000 ms")}, 2001ms),
  }};
  EXPECT_EQ(report.to_json(),
            R"({"status":"error","checks":{"postgres":"ok","redis":"error"},)"
            R"("details":{"postgres":{"status":"ok","level":0,"messages":{},"duration_ms":3,"age_ms":0},)"
            R"("redis":{"status":"error","level":40,"messages":{"redis.E001":"timed out after 2000 ms"},"duration_ms":2001,"age_ms":0}}})");
}

TEST(HeartbeatReport, WithoutDetailsOnlyStatusAndChecks) {
  const heartbeat_report report{{
      outcome("postgres", {error_message("postgres.E002", "FATAL: role \"app\" on db.internal")}, 3ms),
  }};
  EXPECT_EQ(report.to_json(false), R"({"status":"error","checks":{"postgres":"error"}})");
}

TEST(HeartbeatReport, AgeIsReported) {
  heartbeat_report report{{outcome("redis", {}, 2ms)}};
  report.outcomes[0].result.age = 750ms;
  EXPECT_EQ(nlohmann::json::parse(report.to_json())["details"]["redis"]["age_ms"], 750);
}

TEST(HeartbeatReport, JsonKeysAndTypes) {
  const heartbeat_report report{{
      outcome("zeta", {warning_message("zeta.W001", "slow"), make_message(level::info, "zeta.I001", "note")}, 12ms),
      outcome("alpha", {}, 1ms),
  }};
  const auto json = nlohmann::ordered_json::parse(report.to_json());
  EXPECT_EQ(keys_in_order(json), (std::vector<std::string>{"status", "checks", "details"}));
  EXPECT_EQ(json["status"], "warning");
  // Registration order, not alphabetical.
  EXPECT_EQ(keys_in_order(json["checks"]), (std::vector<std::string>{"zeta", "alpha"}));
  EXPECT_EQ(keys_in_order(json["details"]), (std::vector<std::string>{"zeta", "alpha"}));
  EXPECT_EQ(json["checks"]["zeta"], "warning");
  EXPECT_EQ(json["checks"]["alpha"], "ok");

  const auto& zeta = json["details"]["zeta"];
  EXPECT_EQ(keys_in_order(zeta), (std::vector<std::string>{"status", "level", "messages", "duration_ms", "age_ms"}));
  EXPECT_EQ(zeta["status"], "warning");
  ASSERT_TRUE(zeta["level"].is_number_integer());
  EXPECT_EQ(zeta["level"].get<int>(), 30);
  ASSERT_TRUE(zeta["messages"].is_object());
  EXPECT_EQ(zeta["messages"].size(), 2u);
  EXPECT_EQ(zeta["messages"]["zeta.W001"], "slow");
  EXPECT_EQ(zeta["messages"]["zeta.I001"], "note");
  ASSERT_TRUE(zeta["duration_ms"].is_number_integer());
  EXPECT_EQ(zeta["duration_ms"].get<int>(), 12);

  const auto& alpha = json["details"]["alpha"];
  EXPECT_EQ(alpha["level"].get<int>(), 0);
  EXPECT_TRUE(alpha["messages"].is_object());
  EXPECT_TRUE(alpha["messages"].empty());
}

TEST(HeartbeatReport, SpecialCharactersInMessagesAreEscaped) {
  const std::string text = "quote \" backslash \\ newline \n tab \t bell \x07";
  const heartbeat_report report{{outcome("db", {error_message("db.E002", text)})}};
  const auto body = report.to_json();
  EXPECT_EQ(body.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(body);
  EXPECT_EQ(json["details"]["db"]["messages"]["db.E002"], text);
}

TEST(HeartbeatReport, InvalidUtf8InAMessageDoesNotThrow) {
  // Client libraries echo server bytes; a server in a legacy encoding must not break the heartbeat.
  const heartbeat_report report{{outcome("db", {error_message("db.E\xff", "caf\xe9 \xc3\x28 down")})}};
  std::string body;
  ASSERT_NO_THROW(body = report.to_json());
  nlohmann::json json;
  ASSERT_NO_THROW(json = nlohmann::json::parse(body));
  EXPECT_EQ(json["status"], "error");
  const auto& messages = json["details"]["db"]["messages"];
  ASSERT_EQ(messages.size(), 1u);
  const auto text = messages.begin().value().get<std::string>();
  EXPECT_EQ(text.rfind("caf", 0), 0u);
  EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos) << "invalid bytes become U+FFFD";
  EXPECT_NE(text.find(" down"), std::string::npos);
}

}  // namespace
}  // namespace dockerflow
