// The server as a library user runs it, in this process: routes of its own on a real loopback socket.
#include "support/http_client.hpp"

#include <dockerflow/http/lifecycle.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/router.hpp>
#include <dockerflow/http/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dockerflow::test
