// Start-up validation: a bad version file or a bad variable stops the app at once with a non-zero
// exit and one stderr line naming the culprit; a valid configuration starts.
#include "support/app_process.hpp"
#include "support/http_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

struct failed_start {
  exit_status status;
  std::string stderr_text;
  std::string stdout_text;
};

// Starts the app expecting it to refuse; fails the test if it is still running after 5 s.
failed_start start_expecting_failure(app_options options) {
  options.wait_until_ready = false;
  app_process app(std::move(options));
  auto status = app.wait_for_exit(5s);
  EXPECT_TRUE(status) << "the app kept running; stderr:\n" << app.stderr_text();
  return {status.value_or(exit_status{}), app.stderr_text(), app.stdout_text()};
}

void expect_refusal_naming(const failed_start& result, const std::string& name) {
  EXPECT_TRUE(result.status.exited) << result.status.describe();
  EXPECT_NE(result.status.code, 0);
  EXPECT_NE(result.stderr_text.find(name), std::string::npos)
      << "stderr does not name " << name << ":\n" << result.stderr_text;
  // One line: what a person reads in `docker logs` must be the reason, not a stack of noise.
  EXPECT_EQ(std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'), 1) << result.stderr_text;
}

// ---- version file ----------------------------------------------------------------------------

struct bad_version_file {
  std::string name;
  std::string contents;
};

// Readable test names and failure messages instead of gtest's byte dump.
void PrintTo(const bad_version_file& value, std::ostream* out) {
  *out << value.name;
}

class BadVersionFile : public ::testing::TestWithParam<bad_version_file> {};

TEST_P(BadVersionFile, RefusesToStartNamingTheFile) {
  temp_dir dir;
  auto path = dir.write_file("custom-version.json", GetParam().contents);
  auto result = start_expecting_failure({.env = {{"DOCKERFLOW_VERSION_FILE", path.string()}}});
  expect_refusal_naming(result, path.string());
}

INSTANTIATE_TEST_SUITE_P(
    Contents, BadVersionFile,
    ::testing::Values(
        bad_version_file{"Empty", ""}, bad_version_file{"NotJson", "this is not json"},
        bad_version_file{"Truncated", R"({"source": "s", "version": "v", "commit": "c", "build": )"},
        bad_version_file{"Array", R"(["source", "version", "commit", "build"])"},
        bad_version_file{"MissingSource", R"({"version": "v", "commit": "c", "build": "b"})"},
        bad_version_file{"MissingVersion", R"({"source": "s", "commit": "c", "build": "b"})"},
        bad_version_file{"MissingCommit", R"({"source": "s", "version": "v", "build": "b"})"},
        bad_version_file{"MissingBuild", R"({"source": "s", "version": "v", "commit": "c"})"},
        bad_version_file{"NumberVersion", R"({"source": "s", "version": 1, "commit": "c", "build": "b"})"},
        bad_version_file{"NullCommit", R"({"source": "s", "version": "v", "commit": null, "build": "b"})"},
        bad_version_file{"ObjectBuild", R"({"source": "s", "version": "v", "commit": "c", "build": {}})"}),
    [](const auto& test_info) { return test_info.param.name; });

TEST(VersionFile, MissingFileIsNamed) {
  temp_dir dir;
  auto path = dir / "does-not-exist.json";
  auto result = start_expecting_failure({.env = {{"DOCKERFLOW_VERSION_FILE", path.string()}}});
  expect_refusal_naming(result, path.string());
}

TEST(VersionFile, MissingDefaultFileIsNamed) {
  auto result = start_expecting_failure({.write_version_file = false});
  expect_refusal_naming(result, "version.json");
}

TEST(VersionFile, ExplicitPathIsServed) {
  temp_dir dir;
  const std::string contents = R"({"source":"s","version":"9.9.9","commit":"c","build":"b","extra":[1,2]})";
  auto path = dir.write_file("v.json", contents);
  app_process app({.env = {{"DOCKERFLOW_VERSION_FILE", path.string()}}, .write_version_file = false});
  auto response = http_get(app.port(), "/__version__");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, contents);
}

// ---- environment -----------------------------------------------------------------------------

struct bad_variable {
  std::string name;
  std::string variable;
  std::string value;
};

void PrintTo(const bad_variable& value, std::ostream* out) {
  *out << value.variable << "=\"" << value.value << "\"";
}

class BadVariable : public ::testing::TestWithParam<bad_variable> {};

TEST_P(BadVariable, RefusesToStartNamingTheVariable) {
  const auto& param = GetParam();
  auto result = start_expecting_failure({.env = {{param.variable, param.value}}});
  expect_refusal_naming(result, param.variable);
}

INSTANTIATE_TEST_SUITE_P(
    Values, BadVariable,
    ::testing::Values(bad_variable{"PortNotANumber", "PORT", "abc"}, bad_variable{"PortZero", "PORT", "0"},
                      bad_variable{"PortTooLarge", "PORT", "70000"}, bad_variable{"PortNegative", "PORT", "-1"},
                      bad_variable{"PortTrailingJunk", "PORT", "80x"},
                      bad_variable{"TimeoutNotANumber", "DOCKERFLOW_CHECK_TIMEOUT_MS", "abc"},
                      bad_variable{"TimeoutNegative", "DOCKERFLOW_CHECK_TIMEOUT_MS", "-5"},
                      bad_variable{"TimeoutWithUnit", "DOCKERFLOW_CHECK_TIMEOUT_MS", "10ms"},
                      bad_variable{"FailedStatusNotANumber", "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "abc"},
                      bad_variable{"FailedStatusOutOfRange", "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "700"},
                      bad_variable{"LogLevelUnknown", "LOG_LEVEL", "verbose"},
                      bad_variable{"RedisUrlHttp", "REDIS_URL", "http://127.0.0.1:6379"},
                      bad_variable{"RedisUrlNoScheme", "REDIS_URL", "127.0.0.1:6379"},
                      bad_variable{"DatabaseUrlMysql", "DATABASE_URL", "mysql://user@127.0.0.1/db"},
                      bad_variable{"DatabaseUrlGarbage", "DATABASE_URL", "not a url"}),
    [](const auto& test_info) { return test_info.param.name; });

TEST(BadVariableSecrets, BadSchemeDoesNotPrintThePassword) {
  const std::string secret = "Sch3meS3cretPw";
  auto database = start_expecting_failure({.env = {{"DATABASE_URL", "mysql://user:" + secret + "@127.0.0.1/db"}}});
  expect_refusal_naming(database, "DATABASE_URL");
  EXPECT_EQ((database.stderr_text + database.stdout_text).find(secret), std::string::npos) << database.stderr_text;

  auto redis = start_expecting_failure({.env = {{"REDIS_URL", "tcp://:" + secret + "@127.0.0.1:6379"}}});
  expect_refusal_naming(redis, "REDIS_URL");
  EXPECT_EQ((redis.stderr_text + redis.stdout_text).find(secret), std::string::npos) << redis.stderr_text;
}

TEST(Port, PortAlreadyInUseIsNamed) {
  // A first app holds the port; a second one on the same port must fail loudly, not hang.
  app_process first;
  auto result = start_expecting_failure({.env = {{"PORT", std::to_string(first.port())}}});
  expect_refusal_naming(result, "PORT");
  EXPECT_EQ(http_get(first.port(), "/__lbheartbeat__").status, 200);
}

class ValidLogLevel : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidLogLevel, Starts) {
  app_process app({.env = {{"LOG_LEVEL", GetParam()}}});
  EXPECT_EQ(http_get(app.port(), "/__lbheartbeat__").status, 200);
  auto status = app.stop();
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->describe();
}

INSTANTIATE_TEST_SUITE_P(Levels, ValidLogLevel, ::testing::Values("debug", "info", "warning", "error", "critical"));

} // namespace
} // namespace dockerflow::test
