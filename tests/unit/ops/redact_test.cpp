#include <dockerflow/ops/redact.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace dockerflow {
namespace {

TEST(RedactUrl, PostgresPassword) {
  EXPECT_EQ(redact_url("postgres://u:p@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(redact_url("postgresql://app:s3cr3t@db.internal:5432/app?sslmode=require"),
            "postgresql://app:***@db.internal:5432/app?sslmode=require");
}

TEST(RedactUrl, PasswordParametersAreHidden) {
  EXPECT_EQ(redact_url("postgres://h/db?password=hunter2&sslmode=require"),
            "postgres://h/db?password=***&sslmode=require");
  EXPECT_EQ(redact_url("postgres://u:p@h/db?password=x"), "postgres://u:***@h/db?password=***");
  EXPECT_EQ(redact_url("postgres://h/db?password="), "postgres://h/db?password=***");
}

// libpq percent-decodes parameter names, so an encoded "password" key sets the password too.
TEST(RedactUrl, EncodedPasswordKeysAreHidden) {
  EXPECT_EQ(redact_url("postgres://h/db?pass%77ord=secret"), "postgres://h/db?pass%77ord=***");
  EXPECT_EQ(redact_url("postgres://h/db?sslmode=require&%70%61%73%73%77%6f%72%64=secret&x=1"),
            "postgres://h/db?sslmode=require&%70%61%73%73%77%6f%72%64=***&x=1");
  EXPECT_EQ(url_secrets("postgres://h/db?pass%77ord=secret"), std::vector<std::string>{"secret"});
  EXPECT_EQ(redact_url("postgres://h/db?passwords=x&user=password"), "postgres://h/db?passwords=x&user=password")
      << "other keys and values are left alone";
}

TEST(RedactUrl, RedisPasswordWithoutUser) {
  EXPECT_EQ(redact_url("redis://:p@h:1"), "redis://:***@h:1");
  EXPECT_EQ(redact_url("redis://:hunter2@cache:6379/0"), "redis://:***@cache:6379/0");
}

TEST(RedactUrl, AtSignInPasswordIsHiddenWhole) {
  EXPECT_EQ(redact_url("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(redact_url("redis://:a@b@c@h:1"), "redis://:***@h:1");
}

TEST(RedactUrl, ColonInPasswordIsHiddenWhole) {
  EXPECT_EQ(redact_url("postgres://u:pa:ss@h/db"), "postgres://u:***@h/db");
}

TEST(RedactUrl, EmptyPasswordIsStillMasked) {
  EXPECT_EQ(redact_url("postgres://u:@h/db"), "postgres://u:***@h/db");
}

TEST(RedactUrl, WithoutPasswordIsUnchanged) {
  EXPECT_EQ(redact_url("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(redact_url("postgres://h:5432/db"), "postgres://h:5432/db");
  EXPECT_EQ(redact_url("redis://h:6379/0"), "redis://h:6379/0");
  EXPECT_EQ(redact_url("redis://[::1]:6379"), "redis://[::1]:6379");
}

// Unencoded '/', '?' or '#' in a password would end a well-formed authority early; the whole secret must
// still be hidden.
TEST(RedactUrl, DelimitersInPasswordAreHiddenWhole) {
  EXPECT_EQ(redact_url("postgres://u:pa/ss@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(redact_url("redis://:a?b#c/d@h:1/0"), "redis://:***@h:1/0");
}

TEST(RedactUrl, PathAndQueryWithoutUserinfoAreUnchanged) {
  EXPECT_EQ(redact_url("postgres://h/db?sslmode=require&application_name=a:b"),
            "postgres://h/db?sslmode=require&application_name=a:b");
}

TEST(RedactUrl, NotAUrlIsUnchanged) {
  EXPECT_EQ(redact_url(""), "");
  EXPECT_EQ(redact_url("not a url"), "not a url");
  EXPECT_EQ(redact_url("host=db user=app"), "host=db user=app");
}

TEST(Scrub, RemovesEveryOccurrence) {
  EXPECT_EQ(scrub("auth failed for hunter2; retry with hunter2", "hunter2"), "auth failed for ***; retry with ***");
  EXPECT_EQ(scrub("hunter2hunter2", "hunter2"), "******");
}

TEST(Scrub, LeavesTextWithoutTheSecretAlone) {
  EXPECT_EQ(scrub("connection refused", "hunter2"), "connection refused");
  EXPECT_EQ(scrub("", "hunter2"), "");
}

TEST(Scrub, EmptySecretChangesNothing) {
  EXPECT_EQ(scrub("connection refused", ""), "connection refused");
}

// A secret that occurs inside the "***" mask: each replacement creates a new match at the same spot.
// Run in a child with an alarm so that a hang fails this test instead of the suite.
TEST(Scrub, SecretMadeOfAsterisksTerminates) {
  EXPECT_EXIT(
      {
        alarm(2);
        const auto one = scrub("password * rejected", "*");
        const auto two = scrub("password ** rejected", "**");
        std::_Exit(one.find("password") == 0 && two.find("rejected") != std::string::npos ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace dockerflow
