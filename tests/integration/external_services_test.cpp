// The app against PostgreSQL and Redis that something else runs (docker-compose.test.yml's
// services). Skipped unless DOCKERFLOW_TEST_DATABASE_URL and DOCKERFLOW_TEST_REDIS_URL are set.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

TEST(ExternalServices, HeartbeatIsOkAgainstTheConfiguredServers) {
  const char* database_url = std::getenv("DOCKERFLOW_TEST_DATABASE_URL");
  const char* redis_url = std::getenv("DOCKERFLOW_TEST_REDIS_URL");
  if (database_url == nullptr || *database_url == '\0' || redis_url == nullptr || *redis_url == '\0') {
    GTEST_SKIP() << "DOCKERFLOW_TEST_DATABASE_URL and DOCKERFLOW_TEST_REDIS_URL are not both set";
  }
  app_process app({.env = {{"DATABASE_URL", database_url}, {"REDIS_URL", redis_url}}});
  // Services that were just started may still be warming up: poll, bounded.
  http_response response;
  bool ok = eventually(
      30s,
      [&] {
        response = http_get(app.port(), "/__heartbeat__", {}, 10s);
        return response.status == 200;
      },
      500ms);
  ASSERT_TRUE(ok) << response.status << " " << response.body;
  auto body = response.json();
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["checks"]["postgres"], "ok");
  EXPECT_EQ(body["checks"]["redis"], "ok");
}

} // namespace
} // namespace dockerflow::test
