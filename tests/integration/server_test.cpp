// The server as a library user runs it, in this process: routes of its own on a real loopback socket.
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"

#include <dockerflow/checks/postgres_check.hpp>
#include <dockerflow/health/heartbeat.hpp>

#include <dockerflow/http/lifecycle.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/router.hpp>
#include <dockerflow/http/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

class InProcessServer : public ::testing::Test {
 protected:
  void start() {
    srv_.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    srv_.start();
    loop_ = std::thread([this] { io_.run(); });
  }
  ~InProcessServer() override {
    srv_.stop();
    io_.stop();
    if (loop_.joinable()) loop_.join();
  }
  std::uint16_t port() const { return srv_.local_endpoint().port(); }

  boost::asio::io_context io_;
  dockerflow::router routes_;
  mozlog log_ = make_stdout_mozlog("server-test", level::warning);
  lifecycle life_;
  metrics_fanout measure_;
  server srv_{io_, routes_, log_, life_, measure_};
  std::thread loop_;
};

// "Respond exactly once" is a rule a handler can break; a second answer must change nothing.
TEST_F(InProcessServer, ASecondAnswerFromAHandlerIsIgnored) {
  routes_.add_get("/twice", [](const dockerflow::http_request&, responder respond) {
    respond(dockerflow::http_response{200, "text/plain", "first", {}});
    respond(dockerflow::http_response{500, "text/plain", "second", {}});
  });
  routes_.add_get("/later", [](const dockerflow::http_request&, responder respond) {
    // Answering from another thread, twice at once, is no different.
    std::thread a([respond] { respond(dockerflow::http_response{200, "text/plain", "a", {}}); });
    std::thread b([respond] { respond(dockerflow::http_response{200, "text/plain", "b", {}}); });
    a.join();
    b.join();
  });
  start();
  http_connection c(port());
  for (int i = 0; i < 3; ++i) {
    c.send(make_request("GET", "/twice"));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "first");
    c.send(make_request("GET", "/later"));
    const auto later = c.read_response();
    EXPECT_TRUE(later.body == "a" || later.body == "b") << later.body;
  }
  // Nothing else arrives: no second response was written for any request.
  EXPECT_FALSE(c.wait_closed(300ms));
  EXPECT_TRUE(c.unread().empty()) << c.unread();
}

// Application routes: bodies under the route's limit reach the handler with the headers; anything
// over it, or a body for a route that takes none, is refused before it is read.
TEST_F(InProcessServer, ApplicationRoutesGetBodiesAndHeadersWithinTheirLimit) {
  routes_.add(
      "POST", "/echo",
      [](const dockerflow::http_request& r, responder respond) {
        respond(dockerflow::http_response{200, "text/plain", r.body + "|" + r.header("X-Tag") + "|" + r.request_id, {}});
      },
      {.body_limit = 16});
  routes_.add_get("/plain", [](const dockerflow::http_request&, responder respond) {
    respond(dockerflow::http_response{200, "text/plain", "plain", {}});
  });
  start();
  http_connection c(port());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nX-Tag: t1\r\nX-Request-ID: r-1\r\nContent-Length: 5\r\n\r\nhello");
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello|t1|r-1");
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.starts_with("abcde||")) << r.body;

  EXPECT_EQ(http_request(port(), "POST", "/echo", {{"Content-Length", "17"}}).status, 413) << "announced over the limit";
  {
    http_connection chunked(port());
    chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n" + std::string(17, 'x') +
                 "\r\n0\r\n\r\n");
    EXPECT_EQ(chunked.read_response().status, 413) << "a chunked body over the limit";
  }
  {
    http_connection none(port());
    none.send("GET /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_EQ(none.read_response().status, 413) << "a route without a body limit takes no body";
  }
  const auto head = http_request(port(), "HEAD", "/plain");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "5");
  EXPECT_EQ(http_request(port(), "PUT", "/plain").status, 405);
  EXPECT_EQ(http_get(port(), "/none").status, 404);
}

// A monitor scrapes right after its probe: the request must be counted before its answer leaves. The
// backend takes its time counting, so an answer written first would reach the client uncounted.
TEST_F(InProcessServer, ARequestIsCountedBeforeItsAnswerIsSent) {
  struct slow_counter final : metrics {
    std::atomic<int> requests{0};
    void request(std::string_view, unsigned, std::chrono::microseconds) override {
      std::this_thread::sleep_for(200ms);
      ++requests;
    }
    void heartbeat(bool) override {}
    void check(std::string_view, level, std::chrono::milliseconds) override {}
  };
  auto counter = std::make_shared<slow_counter>();
  measure_ = metrics_fanout({counter});
  routes_.add_get("/ping", [](const dockerflow::http_request&, responder respond) {
    respond(dockerflow::http_response{200, "text/plain", "pong", {}});
  });
  start();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(http_get(port(), "/ping").status, 200);
    EXPECT_EQ(counter->requests.load(), i) << "answer #" << i << " arrived before it was counted";
  }
}

// Checks are named at registration: two Postgres checks report as "primary" and "replica", each
// with its own message ids.
TEST(NamedChecks, TwoPostgresChecksReportUnderTheirNames) {
  postgres_server primary;
  postgres_server replica;
  boost::asio::io_context io;
  std::vector<std::unique_ptr<check>> checks;
  checks.push_back(std::make_unique<postgres_check>(primary.url(), 2s, std::nullopt, "primary"));
  checks.push_back(std::make_unique<postgres_check>(replica.url(), 2s, std::nullopt, "replica"));
  heartbeat beat(io.get_executor(), std::move(checks), 2s);
  replica.stop();
  std::optional<heartbeat_report> report;
  beat.async_run([&](heartbeat_report r) { report = std::move(r); });
  io.run_for(5s);
  ASSERT_TRUE(report.has_value());
  const auto body = nlohmann::json::parse(report->to_json());
  EXPECT_EQ(body["checks"], nlohmann::json({{"primary", "ok"}, {"replica", "error"}})) << body.dump();
  EXPECT_TRUE(body["details"]["replica"]["messages"].contains("replica.E001")) << body.dump();
}

}  // namespace
}  // namespace dockerflow::test
