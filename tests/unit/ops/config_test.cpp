#include <dockerflow/ops/config.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The message of the config_error that `env` raises; fails the test when nothing is thrown.
std::string config_error_for(const environment& env) {
  try {
    parse_config(env);
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_config accepted an invalid environment";
  return {};
}

std::string redis_error_for(const std::string& url) {
  try {
    parse_redis_url(url);
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_redis_url accepted " << url;
  return {};
}

TEST(Config, DefaultsWhenNothingIsSet) {
  const auto c = parse_config({});
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8000);
  EXPECT_FALSE(c.database_url.has_value());
  EXPECT_FALSE(c.redis.has_value());
  EXPECT_EQ(c.redis_url_redacted, "");
  EXPECT_EQ(c.version_file, "version.json");
  EXPECT_EQ(c.check_timeout, 2000ms);
  EXPECT_EQ(c.heartbeat_failed_status, 500u);
  EXPECT_EQ(c.log_level, level::info);
  EXPECT_EQ(c.logger_name, "dockerflow-app");
}

TEST(Config, UnrelatedVariablesAreIgnored) {
  const auto c = parse_config({{"PATH", "/usr/bin"}, {"HOME", "/root"}, {"port", "abc"}});
  EXPECT_EQ(c.port, 8000);
}

TEST(Config, EveryVariableValid) {
  const auto c = parse_config({
      {"PORT", "9090"},
      {"HOST", "127.0.0.1"},
      {"DATABASE_URL", "postgres://app:s3cret@db:5432/app"},
      {"REDIS_URL", "redis://:r3dis@cache:6380/2"},
      {"DOCKERFLOW_VERSION_FILE", "/app/version.json"},
      {"DOCKERFLOW_CHECK_TIMEOUT_MS", "750"},
      {"DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "503"},
      {"LOG_LEVEL", "debug"},
      {"LOGGER_NAME", "my-service"},
  });
  EXPECT_EQ(c.port, 9090);
  EXPECT_EQ(c.host, "127.0.0.1");
  ASSERT_TRUE(c.database_url.has_value());
  EXPECT_EQ(*c.database_url, "postgres://app:s3cret@db:5432/app");
  ASSERT_TRUE(c.redis.has_value());
  EXPECT_EQ(c.redis->host, "cache");
  EXPECT_EQ(c.redis->port, 6380);
  EXPECT_EQ(c.redis->password, "r3dis");
  EXPECT_EQ(c.redis->database, 2);
  EXPECT_EQ(c.redis_url_redacted, "redis://:***@cache:6380/2");
  EXPECT_EQ(c.version_file, "/app/version.json");
  EXPECT_EQ(c.check_timeout, 750ms);
  EXPECT_EQ(c.heartbeat_failed_status, 503u);
  EXPECT_EQ(c.log_level, level::debug);
  EXPECT_EQ(c.logger_name, "my-service");
}

TEST(Config, PortBoundsAreAccepted) {
  EXPECT_EQ(parse_config({{"PORT", "1"}}).port, 1);
  EXPECT_EQ(parse_config({{"PORT", "65535"}}).port, 65535);
}

TEST(Config, PortErrorMessageIsTheDocumentedLine) {
  EXPECT_EQ(config_error_for({{"PORT", "abc"}}), "invalid PORT=\"abc\": expected an integer from 1 to 65535");
}

class InvalidPort : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidPort, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"PORT", value}});
  EXPECT_TRUE(contains(message, "PORT=\"" + value + "\"")) << message;
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidPort,
                         ::testing::Values("abc", "0", "65536", "80x", "", "-1", " 80", "80 ", "+80", "8000000000000000000000"));

class InvalidHost : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidHost, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"HOST", value}});
  EXPECT_TRUE(contains(message, "HOST=\"" + value + "\"")) << message;
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidHost,
                         ::testing::Values("localhost", "example.com", "1.2.3", "256.0.0.1", "", "0.0.0.0 ", "::g"));

TEST(Config, HostAcceptsIpv4AndIpv6Addresses) {
  EXPECT_EQ(parse_config({{"HOST", "::"}}).host, "::");
  EXPECT_EQ(parse_config({{"HOST", "::1"}}).host, "::1");
  EXPECT_EQ(parse_config({{"HOST", "10.1.2.3"}}).host, "10.1.2.3");
}

class InvalidCheckTimeout : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidCheckTimeout, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"DOCKERFLOW_CHECK_TIMEOUT_MS", value}});
  EXPECT_TRUE(contains(message, "DOCKERFLOW_CHECK_TIMEOUT_MS=\"" + value + "\"")) << message;
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidCheckTimeout, ::testing::Values("0", "-1", "abc", "", "1.5", "100ms"));

TEST(Config, CheckTimeoutAcceptsPositiveMilliseconds) {
  EXPECT_EQ(parse_config({{"DOCKERFLOW_CHECK_TIMEOUT_MS", "1"}}).check_timeout, 1ms);
  EXPECT_EQ(parse_config({{"DOCKERFLOW_CHECK_TIMEOUT_MS", "2500"}}).check_timeout, 2500ms);
}

TEST(Config, SilencedChecksAreACommaSeparatedList) {
  EXPECT_TRUE(parse_config({}).silenced_checks.empty());
  EXPECT_EQ(parse_config({{"DOCKERFLOW_SILENCED_CHECKS", " redis.E001, ,postgres.W001 "}}).silenced_checks,
            (std::vector<std::string>{"redis.E001", "postgres.W001"}));
}

TEST(Config, DrainDefaultsToFiveSecondsAndAcceptsZeroToSixty) {
  EXPECT_EQ(parse_config({}).drain, 5s);
  EXPECT_EQ(parse_config({{"DOCKERFLOW_DRAIN_SECONDS", "0"}}).drain, 0s);
  EXPECT_EQ(parse_config({{"DOCKERFLOW_DRAIN_SECONDS", "60"}}).drain, 60s);
}

class InvalidDrain : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidDrain, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"DOCKERFLOW_DRAIN_SECONDS", value}});
  EXPECT_EQ(message, "invalid DOCKERFLOW_DRAIN_SECONDS=\"" + value + "\": expected seconds from 0 to 60");
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidDrain, ::testing::Values("61", "-1", "5s", "", "1.5", "abc"));

TEST(Config, ThreadsUnsetMeansTheUsableCpusAndAcceptsOneTo256) {
  EXPECT_FALSE(parse_config({}).threads.has_value());
  EXPECT_EQ(parse_config({{"DOCKERFLOW_THREADS", "1"}}).threads, 1u);
  EXPECT_EQ(parse_config({{"DOCKERFLOW_THREADS", "256"}}).threads, 256u);
}

class InvalidThreads : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidThreads, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"DOCKERFLOW_THREADS", value}});
  EXPECT_EQ(message, "invalid DOCKERFLOW_THREADS=\"" + value + "\": expected a number of threads from 1 to 256");
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidThreads, ::testing::Values("0", "257", "-2", "", "two", "2 "));

class InvalidFailedStatus : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidFailedStatus, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", value}});
  EXPECT_TRUE(contains(message, "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE=\"" + value + "\"")) << message;
}

// A heartbeat that fails with a 2xx, 3xx or 4xx would look healthy or misrouted to a load balancer.
INSTANTIATE_TEST_SUITE_P(Config, InvalidFailedStatus, ::testing::Values("200", "abc", "", "404", "499", "600", "5O3"));

TEST(Config, FailedStatusAccepts5xx) {
  EXPECT_EQ(parse_config({{"DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "503"}}).heartbeat_failed_status, 503u);
  EXPECT_EQ(parse_config({{"DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "500"}}).heartbeat_failed_status, 500u);
}

class InvalidLogLevel : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidLogLevel, IsRejectedNamingVariableAndValue) {
  const std::string value = GetParam();
  const auto message = config_error_for({{"LOG_LEVEL", value}});
  EXPECT_TRUE(contains(message, "LOG_LEVEL=\"" + value + "\"")) << message;
}

// "ok" is a check level, not a log threshold.
INSTANTIATE_TEST_SUITE_P(Config, InvalidLogLevel, ::testing::Values("ok", "verbose", "", "warn", "trace"));

TEST(Config, LogLevelAcceptsEveryThreshold) {
  EXPECT_EQ(parse_config({{"LOG_LEVEL", "debug"}}).log_level, level::debug);
  EXPECT_EQ(parse_config({{"LOG_LEVEL", "info"}}).log_level, level::info);
  EXPECT_EQ(parse_config({{"LOG_LEVEL", "warning"}}).log_level, level::warning);
  EXPECT_EQ(parse_config({{"LOG_LEVEL", "error"}}).log_level, level::error);
  EXPECT_EQ(parse_config({{"LOG_LEVEL", "critical"}}).log_level, level::critical);
}

TEST(Config, EmptyLoggerNameIsRejected) {
  const auto message = config_error_for({{"LOGGER_NAME", ""}});
  EXPECT_TRUE(contains(message, "LOGGER_NAME=\"\"")) << message;
}

TEST(Config, EmptyVersionFileIsRejected) {
  const auto message = config_error_for({{"DOCKERFLOW_VERSION_FILE", ""}});
  EXPECT_TRUE(contains(message, "DOCKERFLOW_VERSION_FILE")) << message;
}

TEST(Config, DatabaseUrlAcceptsBothSchemes) {
  EXPECT_EQ(parse_config({{"DATABASE_URL", "postgresql://u@h/db"}}).database_url, "postgresql://u@h/db");
  EXPECT_EQ(parse_config({{"DATABASE_URL", "postgres://h/db"}}).database_url, "postgres://h/db");
}

TEST(Config, EmptyUrlsMeanNoCheck) {
  const auto c = parse_config({{"DATABASE_URL", ""}, {"REDIS_URL", ""}});
  EXPECT_FALSE(c.database_url.has_value());
  EXPECT_FALSE(c.redis.has_value());
}

TEST(Config, BadDatabaseUrlNamesTheVariableButNotThePassword) {
  const auto message = config_error_for({{"DATABASE_URL", "mysql://app:hunter2@db/app"}});
  EXPECT_TRUE(contains(message, "DATABASE_URL=\"mysql://app:***@db/app\"")) << message;
  EXPECT_FALSE(contains(message, "hunter2")) << message;
}

TEST(Config, RedactedRedisUrlNeverHoldsThePassword) {
  const auto c = parse_config({{"REDIS_URL", "redis://user:hunter2@cache:6379/0"}});
  EXPECT_EQ(c.redis_url_redacted, "redis://user:***@cache:6379/0");
  EXPECT_EQ(c.redis->password, "hunter2");
}

// what() is documented as one line: a value pasted with a line break (or a CRLF .env file) must not
// split the start-up error in two.
TEST(Config, ErrorsStayOneLineWhenTheValueHasLineBreaks) {
  for (const std::string value : {"80\n81", "8000\r"}) {
    const auto message = config_error_for({{"PORT", value}});
    EXPECT_EQ(message.rfind("invalid PORT=", 0), 0u) << message;
    EXPECT_EQ(message.find_first_of("\r\n"), std::string::npos) << message;
  }
}

TEST(Config, ProcessEnvironmentSnapshotsTheRealEnvironment) {
  ASSERT_EQ(setenv("DOCKERFLOW_UNIT_PROBE", "a=b=c", 1), 0);
  ASSERT_EQ(setenv("DOCKERFLOW_UNIT_EMPTY", "", 1), 0);
  const auto env = process_environment();
  unsetenv("DOCKERFLOW_UNIT_PROBE");
  unsetenv("DOCKERFLOW_UNIT_EMPTY");
  ASSERT_EQ(env.count("DOCKERFLOW_UNIT_PROBE"), 1u);
  EXPECT_EQ(env.at("DOCKERFLOW_UNIT_PROBE"), "a=b=c") << "only the first '=' separates name and value";
  ASSERT_EQ(env.count("DOCKERFLOW_UNIT_EMPTY"), 1u);
  EXPECT_EQ(env.at("DOCKERFLOW_UNIT_EMPTY"), "");
}

// --- REDIS_URL ---

TEST(RedisUrl, HostOnlyUsesDefaults) {
  const auto e = parse_redis_url("redis://h");
  EXPECT_EQ(e.host, "h");
  EXPECT_EQ(e.port, 6379);
  EXPECT_EQ(e.password, "");
  EXPECT_EQ(e.database, 0);
}

TEST(RedisUrl, HostAndPort) {
  const auto e = parse_redis_url("redis://h:1234");
  EXPECT_EQ(e.host, "h");
  EXPECT_EQ(e.port, 1234);
  EXPECT_EQ(e.password, "");
  EXPECT_EQ(e.database, 0);
}

TEST(RedisUrl, PasswordPortAndDatabase) {
  const auto e = parse_redis_url("redis://:pw@h:1/2");
  EXPECT_EQ(e.host, "h");
  EXPECT_EQ(e.port, 1);
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(e.database, 2);
}

TEST(RedisUrl, UserAndPasswordUsesThePassword) {
  const auto e = parse_redis_url("redis://user:pw@h");
  EXPECT_EQ(e.host, "h");
  EXPECT_EQ(e.port, 6379);
  EXPECT_EQ(e.password, "pw");
}

TEST(RedisUrl, BracketedIpv6) {
  const auto e = parse_redis_url("redis://[::1]:6380/3");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.database, 3);
}

TEST(RedisUrl, BracketedIpv6WithoutPort) {
  const auto e = parse_redis_url("redis://[::1]");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 6379);
}

TEST(RedisUrl, PercentEncodedPasswordIsDecoded) {
  const auto e = parse_redis_url("redis://:p%40ss%3Aw%2Fd@h:6379");
  EXPECT_EQ(e.password, "p@ss:w/d");
  EXPECT_EQ(e.host, "h");
}

TEST(RedisUrl, MalformedPercentEscapesAreKeptLiterally) {
  EXPECT_EQ(parse_redis_url("redis://:50%@h").password, "50%");
  EXPECT_EQ(parse_redis_url("redis://:a%2@h").password, "a%2");
  EXPECT_EQ(parse_redis_url("redis://:a%zz@h").password, "a%zz");
  EXPECT_EQ(parse_redis_url("redis://:a%2g@h").password, "a%2g");
}

// '%' must be followed by two hex digits; "%-1" is not an escape (std::from_chars reads the '-' as a sign).
TEST(RedisUrl, SignIsNotAHexDigitInPercentEscapes) {
  EXPECT_EQ(parse_redis_url("redis://:a%-1@h").password, "a%-1");
}

TEST(RedisUrl, RawAtSignInPasswordSplitsAtTheLastOne) {
  const auto e = parse_redis_url("redis://:p@ss@h:7000");
  EXPECT_EQ(e.password, "p@ss");
  EXPECT_EQ(e.host, "h");
  EXPECT_EQ(e.port, 7000);
}

TEST(RedisUrl, TrailingSlashMeansDatabaseZero) {
  EXPECT_EQ(parse_redis_url("redis://h:1/").database, 0);
}

class InvalidRedisUrl : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidRedisUrl, IsRejectedNamingTheVariable) {
  const auto message = redis_error_for(GetParam());
  EXPECT_TRUE(contains(message, "REDIS_URL")) << message;
  EXPECT_TRUE(contains(message, GetParam())) << message;  // no password here, so the value is shown whole
}

INSTANTIATE_TEST_SUITE_P(RedisUrl, InvalidRedisUrl,
                         ::testing::Values("rediss://h", "http://h", "h:6379", "redis://", "redis://:1",
                                           "redis://h:abc", "redis://h:0", "redis://h:65536", "redis://h:12x",
                                           "redis://h/abc", "redis://h/-1", "redis://h/1x", "redis://[::1",
                                           "redis://[::1]6380"));

TEST(RedisUrl, ConfigErrorForRedisUrlNamesTheVariable) {
  const auto message = config_error_for({{"REDIS_URL", "rediss://cache:6379"}});
  EXPECT_TRUE(contains(message, "REDIS_URL=\"rediss://cache:6379\"")) << message;
}

class InvalidRedisUrlWithPassword : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidRedisUrlWithPassword, NeverShowsThePassword) {
  const auto message = config_error_for({{"REDIS_URL", GetParam()}});
  EXPECT_TRUE(contains(message, "REDIS_URL")) << message;
  EXPECT_FALSE(contains(message, "hunter2")) << message;
  EXPECT_TRUE(contains(message, "***")) << message;
}

INSTANTIATE_TEST_SUITE_P(RedisUrl, InvalidRedisUrlWithPassword,
                         ::testing::Values("rediss://:hunter2@h", "redis://:hunter2@h:abc", "redis://:hunter2@h:0",
                                           "redis://user:hunter2@h/abc", "redis://:hunter2@:6379",
                                           "redis://:hunter2@h/-1", "redis://:hunter2@[::1",
                                           "redis://:p@hunter2@h:99999", "redis://:hunter2%21@h:abc"));

TEST(RedisUrl, UserinfoFormsAsRedisPyReadsThem) {
  const auto password_only = parse_redis_url("redis://:pw@h");
  EXPECT_EQ(password_only.username, "");
  EXPECT_EQ(password_only.password, "pw");
  const auto acl_user = parse_redis_url("redis://app:pw@h");
  EXPECT_EQ(acl_user.username, "app");
  EXPECT_EQ(acl_user.password, "pw");
  const auto user_only = parse_redis_url("redis://app@h:6380");
  EXPECT_EQ(user_only.username, "app");
  EXPECT_EQ(user_only.password, "") << "a user without a password means no AUTH password";
  EXPECT_EQ(user_only.host, "h");
  EXPECT_EQ(user_only.port, 6380);
  EXPECT_EQ(parse_redis_url("redis://h").username, "");
}

// Generated passwords (base64) often contain '/'; unencoded, it must neither end up in the host nor
// be printed.
TEST(RedisUrl, UnencodedSlashInPasswordStaysInThePassword) {
  const auto e = parse_redis_url("redis://:hunt/er2@cache:6379/1");
  EXPECT_EQ(e.password, "hunt/er2");
  EXPECT_EQ(e.host, "cache");
  EXPECT_EQ(e.port, 6379);
  EXPECT_EQ(e.database, 1);
  const auto c = parse_config({{"REDIS_URL", "redis://:hunt/er2@cache:6379/1"}});
  EXPECT_FALSE(contains(c.redis_url_redacted, "hunt")) << c.redis_url_redacted;
}

TEST(RedisUrl, UnencodedSlashInPasswordIsHiddenInErrors) {
  const auto message = config_error_for({{"REDIS_URL", "redis://:hunt/er2@cache:abc"}});
  EXPECT_TRUE(contains(message, "REDIS_URL")) << message;
  EXPECT_FALSE(contains(message, "hunt")) << message;
  EXPECT_FALSE(contains(message, "er2")) << message;
}

// A typo in the scheme separator must not turn redaction off.
TEST(Config, MalformedUrlsWithPasswordsAreHiddenInErrors) {
  const auto database = config_error_for({{"DATABASE_URL", "postgres:/app:hunter2@db/app"}});
  EXPECT_TRUE(contains(database, "DATABASE_URL")) << database;
  EXPECT_FALSE(contains(database, "hunter2")) << database;
  const auto redis = config_error_for({{"REDIS_URL", "redis:/:hunter2@cache:6379"}});
  EXPECT_TRUE(contains(redis, "REDIS_URL")) << redis;
  EXPECT_FALSE(contains(redis, "hunter2")) << redis;
}

}  // namespace
}  // namespace dockerflow
