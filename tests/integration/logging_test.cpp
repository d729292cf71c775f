// mozlog output on stdout: every line is one JSON object, each request leaves a request.summary,
// and no header or path can forge a line.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

class Logging : public ::testing::Test {
protected:
  void SetUp() override {
    app_ = std::make_unique<app_process>(app_options{.env = {{"LOGGER_NAME", "integration-logger"}}});
  }

  // Waits until the request.summary for `rid` is on stdout (the app may write it just after the
  // response) and returns the whole log as parsed then.
  parsed_log log_with_summary(const std::string& rid) {
    parsed_log log;
    bool found = eventually(5s, [&] {
      log = parse_log(app_->stdout_lines());
      return log.summary_for(rid).has_value();
    });
    EXPECT_TRUE(found) << "no request.summary with rid " << rid << " in stdout:\n" << app_->stdout_text();
    return log;
  }

  // Sends raw bytes on a fresh connection and reads whatever comes back until the server closes.
  void send_raw(const std::string& bytes) {
    http_connection connection(app_->port());
    connection.send(bytes);
    connection.wait_closed(3s);
  }

  std::unique_ptr<app_process> app_;
};

TEST_F(Logging, EveryLineIsAMozlogObjectAndListeningIsLogged) {
  http_get(app_->port(), "/__lbheartbeat__", {{"X-Request-ID", "first"}});
  auto log = log_with_summary("first");
  EXPECT_TRUE(log.invalid_lines.empty()) << log.invalid_lines.front();
  EXPECT_EQ(log.of_type("server.listening").size(), 1u) << app_->stdout_text();
  for (const auto& entry : log.entries) {
    SCOPED_TRACE(entry.dump());
    ASSERT_TRUE(entry.contains("Timestamp") && entry["Timestamp"].is_number_integer());
    // Nanoseconds since the epoch: later than 2020 (1.5e18) and not in seconds or milliseconds.
    EXPECT_GT(entry["Timestamp"].get<std::int64_t>(), 1'500'000'000'000'000'000);
    EXPECT_TRUE(entry["Type"].is_string());
    EXPECT_EQ(entry["Logger"], "integration-logger");
    EXPECT_TRUE(entry["Hostname"].is_string());
    EXPECT_EQ(entry["EnvVersion"], "2.0");
    ASSERT_TRUE(entry["Severity"].is_number_integer());
    EXPECT_GE(entry["Severity"].get<int>(), 0);
    EXPECT_LE(entry["Severity"].get<int>(), 7);
    EXPECT_EQ(entry["Pid"], app_->pid());
    EXPECT_TRUE(entry["Fields"].is_object());
  }
}

TEST_F(Logging, RequestSummaryCarriesTheRequestFields) {
  auto response = http_get(app_->port(), "/__version__?q=1",
                           {{"X-Request-ID", "summary-1"}, {"User-Agent", "integration-agent/1.0"},
                            {"Accept-Language", "fr-CH, fr;q=0.9"}});
  ASSERT_EQ(response.status, 200);
  auto log = log_with_summary("summary-1");
  auto summary = log.summary_for("summary-1");
  ASSERT_TRUE(summary);
  const auto& fields = (*summary)["Fields"];
  SCOPED_TRACE(summary->dump());
  EXPECT_EQ(fields["method"], "GET");
  EXPECT_EQ(fields["path"], "/__version__");
  EXPECT_EQ(fields["code"], 200);
  EXPECT_EQ(fields["errno"], 0);
  ASSERT_TRUE(fields["t"].is_number());
  EXPECT_GE(fields["t"].get<double>(), 0);
  EXPECT_LT(fields["t"].get<double>(), 5000);
  EXPECT_EQ(fields["agent"], "integration-agent/1.0");
  EXPECT_EQ(fields["lang"], "fr-CH, fr;q=0.9");
}

TEST_F(Logging, ErrorResponsesAreSummarisedWithTheirCode) {
  http_get(app_->port(), "/missing", {{"X-Request-ID", "missing-1"}});
  http_request(app_->port(), "DELETE", "/__version__", {{"X-Request-ID", "delete-1"}});
  log_with_summary("delete-1");
  auto log = log_with_summary("missing-1");
  auto missing = log.summary_for("missing-1");
  auto deleted = log.summary_for("delete-1");
  ASSERT_TRUE(missing && deleted);
  EXPECT_EQ((*missing)["Fields"]["code"], 404);
  EXPECT_EQ((*missing)["Fields"]["path"], "/missing");
  EXPECT_EQ((*deleted)["Fields"]["code"], 405);
  EXPECT_EQ((*deleted)["Fields"]["method"], "DELETE");
}

TEST_F(Logging, GeneratedRequestIdIsTheOneLogged) {
  auto response = http_get(app_->port(), "/__lbheartbeat__", {{"X-Request-ID", "not valid!"}});
  auto rid = response.header("X-Request-ID");
  ASSERT_TRUE(rid);
  auto log = log_with_summary(*rid);
  EXPECT_FALSE(log.summary_for("not valid!"));
}

TEST_F(Logging, HeadersCannotForgeLogLines) {
  const std::string forged = R"({"Type":"forged","Fields":{}})";
  // Quotes and backslashes that would close the JSON string if copied unescaped.
  const std::string quoting_agent = R"(evil", "Type": "forged", "x": "\)";
  http_get(app_->port(), "/__lbheartbeat__", {{"X-Request-ID", "quotes"}, {"User-Agent", quoting_agent}});

  // A bare LF inside a header value, an obsolete line folding, control characters and bytes that
  // are not UTF-8: the server may reject these requests, but must not write them into the log raw.
  send_raw("GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nUser-Agent: a\n" + forged + "\r\nConnection: close\r\n\r\n");
  send_raw("GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\n " + forged + "\r\nConnection: close\r\n\r\n");
  send_raw("GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x1b[2J\x7f\x01" + forged +
           "\r\nConnection: close\r\n\r\n");
  send_raw("GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nX-Request-ID: raw-bytes\r\nUser-Agent: \xff\xfe\xc3\x28 " +
           forged + "\r\nAccept-Language: \xe2\x82\r\nConnection: close\r\n\r\n");
  send_raw("GET /\"\xff" + forged + " HTTP/1.1\r\nHost: x\r\nX-Request-ID: raw-path\r\nConnection: close\r\n\r\n");

  auto log = log_with_summary("quotes");
  auto summary = log.summary_for("quotes");
  ASSERT_TRUE(summary);
  // Escaped, not mangled: the value round-trips through the JSON line.
  EXPECT_EQ((*summary)["Fields"]["agent"], quoting_agent);

  // Whatever the server made of the hostile requests, a marker request logged after them proves
  // their lines (if any) were written before we look.
  http_get(app_->port(), "/__lbheartbeat__", {{"X-Request-ID", "marker"}});
  log = log_with_summary("marker");
  EXPECT_TRUE(log.invalid_lines.empty()) << "not JSON: " << log.invalid_lines.front();
  EXPECT_TRUE(log.of_type("forged").empty()) << app_->stdout_text();
  // One summary per request, rejected ones included, so the hostile bytes really went through
  // the log writer: 1 + 5 hostile + the marker.
  EXPECT_GE(log.of_type("request.summary").size(), 7u) << app_->stdout_text();
  for (const auto& entry : log.entries) {
    EXPECT_FALSE(entry.contains("x")) << entry.dump();
  }
}

} // namespace
} // namespace dockerflow::test
