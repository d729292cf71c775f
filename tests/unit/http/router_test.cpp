#include <dockerflow/http/router.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace dockerflow {
namespace {

std::vector<std::string> header_values(const http_response& r, const std::string& name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : r.headers)
    if (key == name) values.push_back(value);
  return values;
}

class Router : public ::testing::Test {
 protected:
  void SetUp() override {
    routes_.add_get("/a", [this](const http_request& request, responder respond) {
      seen_.push_back(request);
      respond(http_response{200, "text/plain", "A", {}});
    });
    routes_.add_get("/b", [](const http_request&, responder respond) {
      respond(http_response{201, "text/plain", "B", {{"X-Route", "b"}}});
    });
  }

  std::optional<http_response> dispatch(std::string method, std::string path) {
    std::optional<http_response> answer;
    int calls = 0;
    routes_.dispatch(http_request{std::move(method), std::move(path), "rid-1"}, [&](http_response r) {
      ++calls;
      answer = std::move(r);
    });
    EXPECT_LE(calls, 1) << "respond must be called exactly once";
    return answer;
  }

  router routes_;
  std::vector<http_request> seen_;
};

TEST_F(Router, ExactPathReachesItsHandler) {
  const auto a = dispatch("GET", "/a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->body, "A");
  const auto b = dispatch("GET", "/b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 201u);
  EXPECT_EQ(header_values(*b, "X-Route"), std::vector<std::string>{"b"});
}

TEST_F(Router, HandlerSeesTheRequest) {
  dispatch("GET", "/a");
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].method, "GET");
  EXPECT_EQ(seen_[0].path, "/a");
  EXPECT_EQ(seen_[0].request_id, "rid-1");
}

TEST_F(Router, OnlyExactPathsMatch) {
  for (const char* path : {"/a/", "/A", "/ab", "a", "", "/", "//a", "/a/b", "/a?x=1"}) {
    const auto r = dispatch("GET", path);
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->status, 404u) << path;
  }
  EXPECT_TRUE(seen_.empty());
}

TEST_F(Router, UnknownPathIsA404Json) {
  const auto r = dispatch("GET", "/missing");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404u);
  EXPECT_EQ(r->content_type, "application/json");
  const auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["status"].get<int>(), 404);
  EXPECT_EQ(body["error"], "Not Found");
  EXPECT_EQ(header_values(*r, "Cache-Control"), std::vector<std::string>{"no-store"});
  EXPECT_TRUE(header_values(*r, "Allow").empty());
}

TEST_F(Router, OtherMethodsOnAKnownPathAre405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "get", "head"}) {
    const auto r = dispatch(method, "/a");
    ASSERT_TRUE(r.has_value()) << method;
    EXPECT_EQ(r->status, 405u) << method;
    EXPECT_EQ(header_values(*r, "Allow"), std::vector<std::string>{"GET, HEAD"}) << method;
    EXPECT_EQ(header_values(*r, "Cache-Control"), std::vector<std::string>{"no-store"}) << method;
    EXPECT_EQ(r->content_type, "application/json") << method;
    EXPECT_EQ(nlohmann::json::parse(r->body)["status"].get<int>(), 405) << method;
  }
  EXPECT_TRUE(seen_.empty()) << "the handler must not run for another method";
}

TEST_F(Router, HeadIsServedByTheGetHandler) {
  const auto r = dispatch("HEAD", "/a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "A");  // the server drops it; the handler need not know
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].method, "HEAD");
}

TEST(RouterAsync, HandlersMayAnswerLater) {
  router routes;
  responder saved;
  routes.add_get("/later", [&](const http_request&, responder respond) { saved = std::move(respond); });
  std::optional<http_response> answer;
  routes.dispatch(http_request{"GET", "/later", ""}, [&](http_response r) { answer = std::move(r); });
  EXPECT_FALSE(answer.has_value());
  ASSERT_TRUE(saved);
  saved(http_response{202, "text/plain", "done", {}});
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 202u);
  EXPECT_EQ(answer->body, "done");
}

TEST(RouterAsync, AddingAPathAgainReplacesItsHandler) {
  router routes;
  routes.add_get("/x", [](const http_request&, responder respond) { respond(http_response{200, "", "old", {}}); });
  routes.add_get("/x", [](const http_request&, responder respond) { respond(http_response{200, "", "new", {}}); });
  std::string body;
  routes.dispatch(http_request{"GET", "/x", ""}, [&](http_response r) { body = r.body; });
  EXPECT_EQ(body, "new");
}

TEST(RouterErrorResponse, Shape) {
  const auto r = router::error_response(503, "Service Unavailable");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.content_type, "application/json");
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body, (nlohmann::json{{"status", 503}, {"error", "Service Unavailable"}}));
  EXPECT_EQ(header_values(r, "Cache-Control"), std::vector<std::string>{"no-store"});
  EXPECT_EQ(r.headers.size(), 1u);
}

TEST(RouterErrorResponse, ReasonIsEscaped) {
  const auto r = router::error_response(400, "Bad \"Request\"\n");
  EXPECT_EQ(r.body.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "Bad \"Request\"\n");
}

TEST(QueryValues, EveryValueOfTheNameDecoded) {
  EXPECT_EQ(query_values("exclude=redis&exclude=postgres", "exclude"), (std::vector<std::string>{"redis", "postgres"}));
  EXPECT_EQ(query_values("a=1&exclude=my%20check&b", "exclude"), (std::vector<std::string>{"my check"}));
  EXPECT_EQ(query_values("exclude=a+b", "exclude"), (std::vector<std::string>{"a b"}));
  EXPECT_EQ(query_values("excluded=x&exclude", "exclude"), (std::vector<std::string>{""}));
  EXPECT_TRUE(query_values("", "exclude").empty());
  EXPECT_EQ(query_values("exclude=%zz%4", "exclude"), (std::vector<std::string>{"%zz%4"})) << "bad escapes stay as sent";
}

TEST(RouterServes, TellsRegisteredPaths) {
  router routes;
  routes.add_get("/a", [](const http_request&, responder r) { r({}); });
  EXPECT_TRUE(routes.serves("/a"));
  EXPECT_FALSE(routes.serves("/b"));
}

TEST(RouterMethods, AnyMethodExactAndPrefixPaths) {
  router routes;
  std::vector<std::string> seen;
  const auto remember = [&seen](std::string tag) {
    return [&seen, tag](const http_request& r, responder respond) {
      seen.push_back(tag + " " + r.method + " " + r.path);
      respond(http_response{200, "text/plain", tag, {}});
    };
  };
  routes.add("POST", "/api/items", remember("create"), {.body_limit = 1024});
  routes.add("GET", "/api/items", remember("list"));
  routes.add_prefix("GET", "/api/items/", remember("one"));
  routes.add_prefix("GET", "/api/", remember("api"));
  const auto answer = [&](std::string method, std::string path) {
    std::optional<http_response> out;
    routes.dispatch(http_request{std::move(method), std::move(path), "rid"}, [&](http_response r) { out = std::move(r); });
    return out;
  };
  EXPECT_EQ(answer("POST", "/api/items")->body, "create");
  EXPECT_EQ(answer("GET", "/api/items")->body, "list");
  EXPECT_EQ(answer("HEAD", "/api/items")->body, "list") << "HEAD is served by GET";
  EXPECT_EQ(answer("GET", "/api/items/7")->body, "one") << "the longest prefix wins";
  EXPECT_EQ(answer("GET", "/api/other")->body, "api");
  const auto not_allowed = answer("DELETE", "/api/items");
  EXPECT_EQ(not_allowed->status, 405u);
  EXPECT_EQ(header_values(*not_allowed, "Allow"), std::vector<std::string>{"GET, HEAD, POST"});
  EXPECT_EQ(answer("GET", "/elsewhere")->status, 404u);
  EXPECT_EQ(routes.body_limit("POST", "/api/items"), 1024u);
  EXPECT_EQ(routes.body_limit("GET", "/api/items"), 0u);
  EXPECT_EQ(routes.largest_body_limit(), 1024u);
  EXPECT_EQ(routes.route_name("/api/items/7"), "/api/items/");
  EXPECT_EQ(routes.route_name("/nope"), std::nullopt);
}

}  // namespace
}  // namespace dockerflow
