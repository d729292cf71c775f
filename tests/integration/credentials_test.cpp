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

// libpq takes an unencoded '?' in the password (its userinfo ends at the first '@' before any '/'),
// so the probe's own parameters must go after the host, not into the password.
TEST(Credentials, AQuestionMarkInThePostgresPasswordStillConnects) {
  postgres_server postgres({.password = "pa?ss:wo?rd"});
  app_process app({.env = {{"DATABASE_URL", postgres.url()}, {"DOCKERFLOW_CHECK_TIMEOUT_MS", "2000"}}});
  const auto response = http_get(app.port(), "/__heartbeat__");
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json()["checks"]["postgres"], "ok") << response.body;
}

// With the compose defaults user = password = database, scrubbing every occurrence of the password
// text turned 'database "dockerflow" does not exist' into 'database "***" does not exist'.
TEST(Credentials, ErrorsThatNameUserOrDatabaseAreNotGarbledByScrubbing) {
  postgres_server postgres;  // trusts TCP clients: any password gets as far as the database check
  const std::string same = "nosuchdb";
  const std::string url = "postgresql://" + same + ":" + same + "@127.0.0.1:" + std::to_string(postgres.port()) + "/" + same;
  app_process app({.env = {{"DATABASE_URL", url}}});
  const auto body = http_get(app.port(), "/__heartbeat__").json();
  const auto text = body["details"]["postgres"]["messages"]["postgres.E002"].get<std::string>();
  EXPECT_NE(text.find("\"" + same + "\""), std::string::npos) << text;
  EXPECT_EQ(text.find("***"), std::string::npos) << text;
}

// "?pass%77ord=" is the password to libpq; it must be hidden wherever the URL is printed.
TEST(Credentials, AnEncodedPasswordKeyIsNeverPrinted) {
  postgres_server postgres({.password = postgres_password});
  const std::string url = "postgresql://" + postgres.options().user + "@127.0.0.1:" + std::to_string(postgres.port()) +
                          "/" + postgres.options().database + "?pass%77ord=" + postgres_password;
  app_process app({.env = {{"DATABASE_URL", url}}});
  EXPECT_EQ(http_get(app.port(), "/__heartbeat__").status, 200) << "libpq took the encoded key as the password";
  flush_logs(app);
  ASSERT_TRUE(app.stop());
  expect_no_secret("stdout", app.stdout_text());
  expect_no_secret("stderr", app.stderr_text());

  app_process refused({.env = {{"DATABASE_URL", url + "&bogus_option=1"}}, .wait_until_ready = false});
  ASSERT_TRUE(refused.wait_for_exit(5s));
  EXPECT_NE(refused.stderr_text().find("DATABASE_URL"), std::string::npos) << refused.stderr_text();
  expect_no_secret("config error", refused.stderr_text());
}

} // namespace
} // namespace dockerflow::test
