// Passwords in DATABASE_URL and REDIS_URL are used, but never shown: not on stdout, not on stderr,
// not in heartbeat details, whether the server accepts them, rejects them or cannot be reached.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

// Distinctive enough that finding them anywhere can only mean a leak.
const std::string postgres_password = "PgS3cretQx71vW";
const std::string redis_password = "RdS3cretZm48kJ";

// Makes the app log its request.summary for a marker request, so everything it logged about the
// earlier requests is on stdout before the test searches it.
void flush_logs(app_process& app) {
  http_get(app.port(), "/__lbheartbeat__", {{"X-Request-ID", "flush-marker"}});
  EXPECT_TRUE(eventually(5s, [&] { return parse_log(app.stdout_lines()).summary_for("flush-marker").has_value(); }))
      << app.stdout_text();
}

void expect_no_secret(const std::string& where, const std::string& text) {
  EXPECT_EQ(text.find(postgres_password), std::string::npos) << "Postgres password in " << where << ":\n" << text;
  EXPECT_EQ(text.find(redis_password), std::string::npos) << "Redis password in " << where << ":\n" << text;
}

TEST(Credentials, CorrectPasswordsAreUsedButNeverPrinted) {
  postgres_server postgres({.password = postgres_password});
  redis_server redis({.password = redis_password});
  app_process app({.env = {{"DATABASE_URL", postgres.url()},
                           {"REDIS_URL", redis.url()},
                           {"LOG_LEVEL", "debug"},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  auto response = http_get(app.port(), "/__heartbeat__");
  // 200 proves both passwords reached the servers: both require them.
  EXPECT_EQ(response.status, 200) << response.body;
  expect_no_secret("heartbeat body", response.body);
  flush_logs(app);
  ASSERT_TRUE(app.stop());
  expect_no_secret("stdout", app.stdout_text());
  expect_no_secret("stderr", app.stderr_text());
}

TEST(Credentials, WrongPasswordsFailWithoutBeingPrinted) {
  postgres_server postgres({.password = "the-right-one"});
  redis_server redis({.password = "the-right-one"});
  app_process app({.env = {{"DATABASE_URL", "postgresql://dockerflow:" + postgres_password + "@127.0.0.1:" +
                                                std::to_string(postgres.port()) + "/dockerflow"},
                           {"REDIS_URL", "redis://:" + redis_password + "@127.0.0.1:" + std::to_string(redis.port())},
                           {"LOG_LEVEL", "debug"},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  auto response = http_get(app.port(), "/__heartbeat__");
  EXPECT_EQ(response.status, 500);
  auto body = response.json();
  EXPECT_EQ(body["checks"]["postgres"], "error") << body.dump();
  EXPECT_EQ(body["checks"]["redis"], "error") << body.dump();
  expect_no_secret("heartbeat body", response.body);
  flush_logs(app);
  ASSERT_TRUE(app.stop());
  expect_no_secret("stdout", app.stdout_text());
  expect_no_secret("stderr", app.stderr_text());
}

TEST(Credentials, UnreachableServersDoNotRevealPasswords) {
  app_process app({.env = {{"DATABASE_URL", "postgres://dockerflow:" + postgres_password + "@127.0.0.1:" +
                                                std::to_string(free_port()) + "/dockerflow"},
                           {"REDIS_URL", "redis://:" + redis_password + "@127.0.0.1:" + std::to_string(free_port()) + "/1"},
                           {"LOG_LEVEL", "debug"},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  for (int i = 0; i < 2; ++i) {
    auto response = http_get(app.port(), "/__heartbeat__");
    EXPECT_EQ(response.status, 500);
    expect_no_secret("heartbeat body", response.body);
  }
  flush_logs(app);
  ASSERT_TRUE(app.stop());
  expect_no_secret("stdout", app.stdout_text());
  expect_no_secret("stderr", app.stderr_text());
}

} // namespace
} // namespace dockerflow::test
