// The three Dockerflow endpoints, methods, routing and request ids, against the real binary with
// no checks configured (checks are covered by heartbeat_test.cpp).
#include "support/app_process.hpp"
#include "support/http_client.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <regex>
#include <string>
#include <tuple>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

const std::regex uuid_pattern("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", std::regex::icase);

class Endpoints : public ::testing::Test {
protected:
  // One app for the whole suite: these tests only read, and starting it per test would cost time.
  static void SetUpTestSuite() { app_ = std::make_unique<app_process>(); }
  static void TearDownTestSuite() { app_.reset(); }

  static std::uint16_t port() { return app_->port(); }

  // Sends a HEAD request with Connection: close and returns the response plus every byte the
  // server sent after the headers, which must be none.
  static std::pair<http_response, std::string> head(const std::string& target) {
    http_connection connection(port());
    connection.send(make_request("HEAD", target, {{"Connection", "close"}}));
    auto response = connection.read_response(true);
    EXPECT_TRUE(connection.wait_closed(5s)) << "server kept the connection open despite Connection: close";
    return {response, connection.unread()};
  }

  static std::unique_ptr<app_process> app_;
};

std::unique_ptr<app_process> Endpoints::app_;

TEST_F(Endpoints, LbheartbeatGetIsEmpty200) {
  auto response = http_get(port(), "/__lbheartbeat__");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  EXPECT_EQ(response.header("Content-Length").value_or("0"), "0");
}

TEST_F(Endpoints, LbheartbeatHeadHasNoBody) {
  auto [response, after_headers] = head("/__lbheartbeat__");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  EXPECT_EQ(after_headers, "");
}

TEST_F(Endpoints, VersionGetServesTheFileBytesAsJson) {
  auto response = http_get(port(), "/__version__");
  EXPECT_EQ(response.status, 200);
  ASSERT_TRUE(response.header("Content-Type"));
  EXPECT_EQ(response.header("Content-Type")->rfind("application/json", 0), 0u) << *response.header("Content-Type");
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  EXPECT_EQ(response.body, app_process::version_json);
  auto body = response.json();
  EXPECT_EQ(body["commit"], "0123456789abcdef0123456789abcdef01234567");
}

TEST_F(Endpoints, VersionHeadHasHeadersButNoBody) {
  auto [response, after_headers] = head("/__version__");
  EXPECT_EQ(response.status, 200);
  ASSERT_TRUE(response.header("Content-Type"));
  EXPECT_EQ(response.header("Content-Type")->rfind("application/json", 0), 0u);
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  EXPECT_EQ(after_headers, "");
}

TEST_F(Endpoints, HeartbeatWithoutChecksIsOk) {
  auto response = http_get(port(), "/__heartbeat__");
  EXPECT_EQ(response.status, 200);
  ASSERT_TRUE(response.header("Content-Type"));
  EXPECT_EQ(response.header("Content-Type")->rfind("application/json", 0), 0u);
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  auto body = response.json();
  EXPECT_EQ(body["status"], "ok");
  ASSERT_TRUE(body["checks"].is_object()) << body.dump();
  EXPECT_TRUE(body["checks"].empty()) << body.dump();
  EXPECT_TRUE(body["details"].is_object()) << body.dump();
  EXPECT_TRUE(body["details"].empty()) << body.dump();
}

TEST_F(Endpoints, HeartbeatHeadHasNoBody) {
  auto [response, after_headers] = head("/__heartbeat__");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  EXPECT_EQ(after_headers, "");
}

TEST_F(Endpoints, UnknownPathIs404Json) {
  for (const char* target : {"/", "/nope", "/__heartbeat__/extra", "/__lbheartbeat__x", "/__VERSION__"}) {
    SCOPED_TRACE(target);
    auto response = http_get(port(), target);
    EXPECT_EQ(response.status, 404);
    ASSERT_TRUE(response.header("Content-Type"));
    EXPECT_EQ(response.header("Content-Type")->rfind("application/json", 0), 0u);
    EXPECT_NO_THROW(std::ignore = response.json()) << response.body;
  }
}

TEST_F(Endpoints, QueryStringIsIgnoredForRouting) {
  auto lb = http_get(port(), "/__lbheartbeat__?probe=1");
  EXPECT_EQ(lb.status, 200);
  EXPECT_EQ(lb.body, "");
  auto version = http_get(port(), "/__version__?a=b&c");
  EXPECT_EQ(version.status, 200);
  EXPECT_EQ(version.body, app_process::version_json);
  auto heartbeat = http_get(port(), "/__heartbeat__?verbose=true");
  EXPECT_EQ(heartbeat.status, 200);
  EXPECT_EQ(heartbeat.json()["status"], "ok");
  EXPECT_EQ(http_get(port(), "/nope?x=/__lbheartbeat__").status, 404);
}

TEST_F(Endpoints, KeepAliveServesSeveralRequestsOnOneConnection) {
  http_connection connection(port());
  for (int i = 0; i < 5; ++i) {
    connection.send(make_request("GET", "/__version__"));
    auto response = connection.read_response();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, app_process::version_json);
  }
}

TEST_F(Endpoints, RequestIdIsEchoedWhenValid) {
  std::string longest(128, 'a');
  for (const std::string& rid : {std::string("abc-123_x.Y"), std::string("7"), longest}) {
    auto response = http_get(port(), "/__lbheartbeat__", {{"X-Request-ID", rid}});
    EXPECT_EQ(response.header("X-Request-ID"), rid);
  }
}

TEST_F(Endpoints, InvalidRequestIdIsReplacedByAUuid) {
  for (const std::string& rid : {std::string(129, 'a'), std::string("has space"), std::string("semi;colon"),
                                 std::string("slash/ed"), std::string("quote\"d"), std::string("caf\xc3\xa9"),
                                 std::string("")}) {
    SCOPED_TRACE("X-Request-ID: " + rid);
    auto response = http_get(port(), "/__version__", {{"X-Request-ID", rid}});
    EXPECT_EQ(response.status, 200);
    auto echoed = response.header("X-Request-ID");
    ASSERT_TRUE(echoed);
    EXPECT_NE(*echoed, rid);
    EXPECT_TRUE(std::regex_match(*echoed, uuid_pattern)) << *echoed;
  }
}

TEST_F(Endpoints, MissingRequestIdGetsAFreshUuidEachTime) {
  auto first = http_get(port(), "/__lbheartbeat__").header("X-Request-ID");
  auto second = http_get(port(), "/__lbheartbeat__").header("X-Request-ID");
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_TRUE(std::regex_match(*first, uuid_pattern)) << *first;
  EXPECT_TRUE(std::regex_match(*second, uuid_pattern)) << *second;
  EXPECT_NE(*first, *second);
}

class MethodNotAllowed : public Endpoints,
                         public ::testing::WithParamInterface<std::tuple<std::string, std::string>> {};

TEST_P(MethodNotAllowed, Is405WithAllowHeader) {
  const auto& [method, target] = GetParam();
  auto response = http_request(port(), method, target);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
}

INSTANTIATE_TEST_SUITE_P(DockerflowPaths, MethodNotAllowed,
                         ::testing::Combine(::testing::Values("POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
                                            ::testing::Values("/__lbheartbeat__", "/__version__",
                                                              "/__heartbeat__")),
                         [](const auto& test_info) {
                           auto target = std::get<1>(test_info.param);
                           std::string name = std::get<0>(test_info.param) + "_";
                           for (char c : target) {
                             if (std::isalnum(static_cast<unsigned char>(c))) {
                               name += c;
                             }
                           }
                           return name;
                         });

} // namespace
} // namespace dockerflow::test
