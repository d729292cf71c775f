// HTTP/1.1 handling under hostile or unusual clients: pipelining, limits, malformed input,
// half-open connections and clients that vanish mid-request.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

class HttpRobustness : public ::testing::Test {
protected:
  void SetUp() override { app_ = std::make_unique<app_process>(); }

  std::uint16_t port() const { return app_->port(); }

  // After any abuse the server must still be there and answer.
  void expect_still_serving() {
    ASSERT_TRUE(app_->process().running()) << "the app died: " << app_->process().status()->describe()
                                           << "\nstderr: " << app_->stderr_text();
    EXPECT_EQ(http_get(port(), "/__lbheartbeat__").status, 200);
  }

  // Sends `bytes`, expects one response with `status`, then the connection closed by the server.
  void expect_rejected_and_closed(const std::string& bytes, int status) {
    http_connection connection(port());
    connection.send(bytes);
    auto response = connection.read_response(false, 3s);
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_TRUE(connection.wait_closed(3s)) << "connection left open after " << status;
  }

  std::unique_ptr<app_process> app_;
};

TEST_F(HttpRobustness, PipelinedRequestsAreAnsweredInOrder) {
  http_connection connection(port());
  connection.send(make_request("GET", "/__lbheartbeat__", {{"X-Request-ID", "p1"}}) +
                  make_request("GET", "/__version__", {{"X-Request-ID", "p2"}}) +
                  make_request("GET", "/__heartbeat__", {{"X-Request-ID", "p3"}}));
  auto first = connection.read_response();
  auto second = connection.read_response();
  auto third = connection.read_response();
  EXPECT_EQ(first.header("X-Request-ID"), "p1");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "");
  EXPECT_EQ(second.header("X-Request-ID"), "p2");
  EXPECT_EQ(second.body, app_process::version_json);
  EXPECT_EQ(third.header("X-Request-ID"), "p3");
  EXPECT_EQ(third.json()["status"], "ok");
}

TEST_F(HttpRobustness, PipelinedHeadIsFollowedDirectlyByTheNextResponse) {
  http_connection connection(port());
  connection.send(make_request("HEAD", "/__version__", {{"X-Request-ID", "h1"}}) +
                  make_request("GET", "/__version__", {{"X-Request-ID", "h2"}}) +
                  make_request("HEAD", "/__heartbeat__", {{"X-Request-ID", "h3"}}) +
                  make_request("GET", "/nope", {{"X-Request-ID", "h4"}}));
  auto head = connection.read_response(true);
  auto get = connection.read_response();
  auto head_heartbeat = connection.read_response(true);
  auto missing = connection.read_response();
  EXPECT_EQ(head.header("X-Request-ID"), "h1");
  EXPECT_EQ(get.header("X-Request-ID"), "h2");
  EXPECT_EQ(get.body, app_process::version_json);
  EXPECT_EQ(head_heartbeat.header("X-Request-ID"), "h3");
  EXPECT_EQ(missing.header("X-Request-ID"), "h4");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(HttpRobustness, Http10ClientIsAnsweredAndClosed) {
  // Load balancers' health probes often still speak HTTP/1.0 without keep-alive.
  http_connection connection(port());
  connection.send("GET /__lbheartbeat__ HTTP/1.0\r\n\r\n");
  auto response = connection.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  EXPECT_TRUE(connection.wait_closed(3s)) << "HTTP/1.0 connection without keep-alive left open";
}

TEST_F(HttpRobustness, ConnectionCloseIsHonoured) {
  http_connection connection(port());
  connection.send(make_request("GET", "/__version__", {{"Connection", "close"}}));
  EXPECT_EQ(connection.read_response().body, app_process::version_json);
  EXPECT_TRUE(connection.wait_closed(3s));
  EXPECT_EQ(connection.unread(), "");
}

TEST_F(HttpRobustness, HeadersOverEightKibAreRejectedWith431) {
  expect_rejected_and_closed(make_request("GET", "/__lbheartbeat__", {{"X-Big", std::string(9000, 'a')}}), 431);
  header_list many;
  for (int i = 0; i < 100; ++i) {
    many.emplace_back("X-Header-" + std::to_string(i), std::string(100, 'b'));
  }
  expect_rejected_and_closed(make_request("GET", "/__lbheartbeat__", many), 431);
  expect_still_serving();
}

TEST_F(HttpRobustness, HeadersUnderTheLimitAreAccepted) {
  auto response = http_get(port(), "/__lbheartbeat__", {{"X-Big", std::string(6000, 'a')}});
  EXPECT_EQ(response.status, 200);
}

TEST_F(HttpRobustness, HugeContentLengthIsRefusedWithoutReadingTheBody) {
  http_connection connection(port());
  auto start = test_clock::now();
  // The body is never sent: a server that waited for it would only answer at its read timeout.
  connection.send("GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n");
  auto response = connection.read_response(false, 3s);
  EXPECT_EQ(response.status, 413);
  EXPECT_LT(test_clock::now() - start, 1s);
  EXPECT_TRUE(connection.wait_closed(3s));
  expect_still_serving();
}

// The refusal is sent while a body the server will never use is still arriving (4 MiB: more than the
// socket buffers hold, so the client is still sending when the answer goes out). Closing with those
// bytes unread makes the kernel send RST, and the client fails with EPIPE/ECONNRESET instead of
// reading the 413 (without the lingering close, 4 to 13 of 40 arrived here).
TEST_F(HttpRobustness, ARefusalArrivesEvenWithUnreadBodyBytesBehindIt) {
  const std::string request =
      "POST /__heartbeat__ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + std::string(4 * 1024 * 1024, 'x');
  int answered = 0;
  std::string first_failure;
  constexpr int attempts = 40;
  for (int i = 0; i < attempts; ++i) {
    try {
      http_connection connection(port());
      connection.send(request, 5s);
      // A client that reads its answer a moment later (it was still busy sending, or scheduled out)
      // finds an RST there first unless the server drained what it did not read.
      std::this_thread::sleep_for(20ms);
      const auto response = connection.read_response(false, 5s);
      if (response.status == 413) ++answered;
    } catch (const std::exception& e) {
      if (first_failure.empty()) first_failure = e.what();
    }
  }
  EXPECT_EQ(answered, attempts) << "first failure: " << first_failure;
  expect_still_serving();
}

TEST_F(HttpRobustness, AnyBodyIsRefusedWith413) {
  expect_rejected_and_closed("POST /__heartbeat__ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 413);
  expect_rejected_and_closed("GET /__version__ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n0\r\n\r\n",
                             413);
  expect_still_serving();
}

TEST_F(HttpRobustness, MalformedRequestsAreRejectedWith400) {
  for (const std::string& bytes : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET\r\n\r\n"),
           std::string("GET /__lbheartbeat__ HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
           std::string("GET /__lbheartbeat__ HTTX/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET /__lbheartbeat__ HTTP/1.1\r\nNo colon here\r\n\r\n"),
           std::string("G\x01T /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n\r\n"),
       }) {
    SCOPED_TRACE(bytes);
    expect_rejected_and_closed(bytes, 400);
  }
  expect_still_serving();
}

TEST_F(HttpRobustness, BinaryGarbageIsClosedWithoutHarm) {
  // A TLS ClientHello sent to the plain-HTTP port, as a misconfigured client would.
  const std::string client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\xff\xfe\x00\x00", 16);
  http_connection connection(port());
  connection.send(client_hello);
  EXPECT_TRUE(connection.wait_closed(3s));
  expect_still_serving();
}

TEST_F(HttpRobustness, HalfOpenClientsDoNotBlockOthersAndAreTimedOut) {
  std::vector<std::unique_ptr<tcp_connection>> silent;
  std::vector<std::unique_ptr<tcp_connection>> partial;
  for (int i = 0; i < 300; ++i) {
    auto connection = std::make_unique<tcp_connection>(port(), 5s);
    if (i % 3 == 0) {
      silent.push_back(std::move(connection));
    } else {
      connection->send_all("GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n", 5s);
      partial.push_back(std::move(connection));
    }
  }
  auto start = test_clock::now();
  auto response = http_get(port(), "/__lbheartbeat__", {}, 5s);
  EXPECT_EQ(response.status, 200);
  EXPECT_LT(test_clock::now() - start, 500ms) << "a new client waited behind 300 half-open ones";

  // A request must be complete within 10 s of its first byte: the partial ones are closed then.
  auto deadline = test_clock::now() + 13s;
  std::size_t closed = 0;
  for (auto& connection : partial) {
    std::string ignored;
    if (connection->read_until_closed(ignored, deadline)) {
      ++closed;
    }
  }
  EXPECT_EQ(closed, partial.size()) << "clients with an incomplete request still open after 13 s";
  expect_still_serving();
}

TEST(HttpDisconnect, ClientVanishingMidHeartbeatDoesNotHurtTheServer) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()}, {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.pause();
  {
    // One client closes politely, one resets, both while their heartbeat waits on frozen Redis.
    http_connection polite(app.port());
    http_connection rude(app.port());
    polite.send(make_request("GET", "/__heartbeat__", {{"X-Request-ID", "polite"}}));
    rude.send(make_request("GET", "/__heartbeat__", {{"X-Request-ID", "rude"}}));
    std::this_thread::sleep_for(200ms);
    polite.socket().close();
    rude.socket().abort();
  }
  // This heartbeat ends after the abandoned ones had to write their answers to dead sockets.
  auto response = http_get(app.port(), "/__heartbeat__", {}, 5s);
  EXPECT_EQ(response.status, 500);
  ASSERT_TRUE(app.process().running()) << app.process().status()->describe() << "\n" << app.stderr_text();
  redis.resume();
  EXPECT_TRUE(eventually(10s, [&] { return http_get(app.port(), "/__heartbeat__", {}, 5s).status == 200; }, 100ms));
  auto log = parse_log(app.stdout_lines());
  EXPECT_TRUE(log.invalid_lines.empty()) << log.invalid_lines.front();
}

} // namespace
} // namespace dockerflow::test
