#include "fake_checks.hpp"

#include <dockerflow/http/dockerflow_endpoints.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;
using testing::fixed_check;
using testing::make_checks;

const std::string version_bytes =
    "{\n  \"source\": \"https://github.com/example/app\",\n  \"version\": \"v9.9.9\",\n"
    "  \"commit\": \"abc123\",\n  \"build\": \"https://ci.example/42\"\n}\n";

std::vector<std::string> header_values(const http_response& r, const std::string& name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : r.headers)
    if (key == name) values.push_back(value);
  return values;
}

// The three Dockerflow routes on a router, with a heartbeat on an io_context.
class Endpoints : public ::testing::Test {
 protected:
  void serve(std::vector<std::unique_ptr<check>> checks, unsigned failed_status) {
    beat_ = std::make_unique<heartbeat>(io_.get_executor(), std::move(checks), 200ms);
    add_dockerflow_routes(routes_, version_, *beat_, life_, metrics_, {.heartbeat_failed_status = failed_status});
  }

  std::optional<http_response> get(const std::string& path, const std::string& method = "GET") {
    std::optional<http_response> answer;
    routes_.dispatch(http_request{method, path, "rid"}, [&](http_response r) { answer = std::move(r); });
    io_.restart();
    io_.run_for(2s);
    return answer;
  }

  boost::asio::io_context io_;
  version_info version_ = parse_version(version_bytes);
  std::unique_ptr<heartbeat> beat_;
  lifecycle life_;
  metrics_fanout metrics_;
  router routes_;
};

TEST_F(Endpoints, LbHeartbeatAnswers503WhileDrainingAndOtherRoutesStillServe) {
  serve({}, 500);
  life_.begin_drain();
  for (const char* method : {"GET", "HEAD"}) {
    const auto r = get("/__lbheartbeat__", method);
    ASSERT_TRUE(r.has_value()) << method;
    EXPECT_EQ(r->status, 503u) << method;
    EXPECT_EQ(r->body, "") << method;
  }
  const auto version = get("/__version__");
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(version->status, 200u);
  const auto beat = get("/__heartbeat__");
  ASSERT_TRUE(beat.has_value());
  EXPECT_EQ(beat->status, 200u);
}

TEST_F(Endpoints, LbHeartbeatIsAnEmpty200) {
  serve({}, 500);
  for (const char* method : {"GET", "HEAD"}) {
    const auto r = get("/__lbheartbeat__", method);
    ASSERT_TRUE(r.has_value()) << method;
    EXPECT_EQ(r->status, 200u) << method;
    EXPECT_EQ(r->body, "") << method;
    EXPECT_EQ(header_values(*r, "Cache-Control"), std::vector<std::string>{"no-store"}) << method;
  }
}

TEST_F(Endpoints, VersionReturnsTheFilesBytes) {
  serve({}, 500);
  for (const char* method : {"GET", "HEAD"}) {
    const auto r = get("/__version__", method);
    ASSERT_TRUE(r.has_value()) << method;
    EXPECT_EQ(r->status, 200u) << method;
    EXPECT_EQ(r->content_type, "application/json") << method;
    EXPECT_EQ(r->body, version_bytes) << method;
    EXPECT_EQ(header_values(*r, "Cache-Control"), std::vector<std::string>{"no-store"}) << method;
  }
}

TEST_F(Endpoints, HeartbeatWithoutChecksIsOk) {
  serve({}, 503);
  const auto r = get("/__heartbeat__");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(r->body, R"({"status":"ok","checks":{},"details":{}})");
  EXPECT_EQ(header_values(*r, "Cache-Control"), std::vector<std::string>{"no-store"});
}

TEST_F(Endpoints, FailingCheckGivesTheConfiguredStatus) {
  serve(make_checks(std::make_unique<fixed_check>("db", std::vector<message>{error_message("db.E001", "down")}),
                    std::make_unique<fixed_check>("cache", std::vector<message>{})),
        503);
  const auto r = get("/__heartbeat__");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(r->content_type, "application/json");
  const auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["status"], "error");
  EXPECT_EQ(body["checks"], (nlohmann::json{{"db", "error"}, {"cache", "ok"}}));
  EXPECT_EQ(body["details"]["db"]["messages"]["db.E001"], "down");
  EXPECT_EQ(header_values(*r, "Cache-Control"), std::vector<std::string>{"no-store"});
}

TEST_F(Endpoints, FailingCheckUsesTheDefault500) {
  serve(make_checks(std::make_unique<fixed_check>("db", std::vector<message>{error_message("db.E001", "down")})), 500);
  const auto r = get("/__heartbeat__");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500u);
}

TEST_F(Endpoints, WarningStillServes200) {
  serve(make_checks(std::make_unique<fixed_check>("db", std::vector<message>{warning_message("db.W001", "slow")})), 503);
  const auto r = get("/__heartbeat__");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(nlohmann::json::parse(r->body)["status"], "warning");
}

TEST_F(Endpoints, OtherMethodsAre405) {
  serve({}, 500);
  for (const char* path : {"/__lbheartbeat__", "/__version__", "/__heartbeat__"}) {
    const auto r = get(path, "POST");
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->status, 405u) << path;
    EXPECT_EQ(header_values(*r, "Allow"), std::vector<std::string>{"GET, HEAD"}) << path;
  }
}

TEST_F(Endpoints, UnknownPathIs404) {
  serve({}, 500);
  const auto r = get("/__nope__");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404u);
}

TEST_F(Endpoints, LbHeartbeatAnswersAtOnceWhileAHeartbeatHangs) {
  const auto g = std::make_shared<testing::gate>();
  serve(make_checks(std::make_unique<testing::gated_check>("db", g)), 503);
  std::optional<http_response> heartbeat_answer;
  routes_.dispatch(http_request{"GET", "/__heartbeat__", "r1"}, [&](http_response r) { heartbeat_answer = std::move(r); });
  ASSERT_TRUE(g->wait_for_runs(1, 2s));

  // Answered synchronously: no event loop turn, no dependency touched.
  std::optional<http_response> lb;
  routes_.dispatch(http_request{"GET", "/__lbheartbeat__", "r2"}, [&](http_response r) { lb = std::move(r); });
  ASSERT_TRUE(lb.has_value());
  EXPECT_EQ(lb->status, 200u);
  EXPECT_FALSE(heartbeat_answer.has_value());

  io_.run_for(2s);
  ASSERT_TRUE(heartbeat_answer.has_value());
  EXPECT_EQ(heartbeat_answer->status, 503u);
  EXPECT_EQ(nlohmann::json::parse(heartbeat_answer->body)["details"]["db"]["messages"]["db.E001"],
            "timed out after 200 ms");

  beat_.reset();
  g->release();
  EXPECT_TRUE(g->wait_destroyed(2s));
}

TEST(BearerToken, MatchesOnlyTheExactToken) {
  EXPECT_TRUE(bearer_token_matches("Bearer s3cret", "s3cret"));
  EXPECT_FALSE(bearer_token_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearer_token_matches("Bearer s3crett", "s3cret"));
  EXPECT_FALSE(bearer_token_matches("Bearer S3cret", "s3cret"));
  EXPECT_FALSE(bearer_token_matches("s3cret", "s3cret")) << "the scheme is required";
  EXPECT_FALSE(bearer_token_matches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(bearer_token_matches("", "s3cret"));
  EXPECT_FALSE(bearer_token_matches("Bearer ", "")) << "an empty token never matches";
}

}  // namespace
}  // namespace dockerflow
