// sslmode=verify-full to a real PostgreSQL serving TLS with a certificate from a CA made for the test.
// libpq 15 reads neither SSL_CERT_FILE nor a system store, so the check passes the process's
// SSL_CERT_FILE (the image sets it to its CA bundle) as sslrootcert unless the URL names its own.
#include "support/app_process.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

std::string verify_full_url(const postgres_server& postgres, const std::string& extra = "") {
  return "postgresql://" + postgres.options().user + "@localhost:" + std::to_string(postgres.port()) + "/" +
         postgres.options().database + "?sslmode=verify-full" + extra;
}

nlohmann::json heartbeat_of(const env_map& env) {
  app_process app({.env = env});
  return http_get(app.port(), "/__heartbeat__").json();
}

class PostgresTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { postgres_ = new postgres_server({.tls = true}); }
  static void TearDownTestSuite() {
    delete postgres_;
    postgres_ = nullptr;
  }
  static postgres_server* postgres_;
};
postgres_server* PostgresTls::postgres_ = nullptr;

TEST_F(PostgresTls, VerifyFullTrustsTheBundleInSslCertFile) {
  const auto body = heartbeat_of({{"DATABASE_URL", verify_full_url(*postgres_)}, {"SSL_CERT_FILE", postgres_->ca_file()}});
  EXPECT_EQ(body["checks"]["postgres"], "ok") << body.dump();
}

TEST_F(PostgresTls, AnotherCaIsRefused) {
  const auto body =
      heartbeat_of({{"DATABASE_URL", verify_full_url(*postgres_)}, {"SSL_CERT_FILE", postgres_->other_ca_file()}});
  EXPECT_EQ(body["checks"]["postgres"], "error") << body.dump();
  EXPECT_NE(body.dump().find("certificate verify failed"), std::string::npos) << body.dump();
}

TEST_F(PostgresTls, WithoutABundleVerifyFullFailsAndSaysWhy) {
  const auto body = heartbeat_of({{"DATABASE_URL", verify_full_url(*postgres_)}});
  EXPECT_EQ(body["checks"]["postgres"], "error") << body.dump();
  EXPECT_NE(body.dump().find("root certificate"), std::string::npos) << body.dump();
}

TEST_F(PostgresTls, TheUrlsOwnSslrootcertWins) {
  const auto body = heartbeat_of({{"DATABASE_URL", verify_full_url(*postgres_, "&sslrootcert=" + postgres_->ca_file().string())},
                                  {"SSL_CERT_FILE", postgres_->other_ca_file()}});
  EXPECT_EQ(body["checks"]["postgres"], "ok") << body.dump();
}

TEST_F(PostgresTls, TheHostNameIsVerified) {
  // 127.0.0.1 is in the certificate too; a name that is not must fail under verify-full.
  const std::string url = "postgresql://" + postgres_->options().user + "@127.0.0.2:" + std::to_string(postgres_->port()) +
                          "/" + postgres_->options().database + "?sslmode=verify-full&hostaddr=127.0.0.1&host=db.invalid";
  const auto body = heartbeat_of({{"DATABASE_URL", url}, {"SSL_CERT_FILE", postgres_->ca_file()}});
  EXPECT_EQ(body["checks"]["postgres"], "error") << body.dump();
}

}  // namespace
}  // namespace dockerflow::test
