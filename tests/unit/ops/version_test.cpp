#include <dockerflow/ops/version.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace dockerflow {
namespace {

namespace fs = std::filesystem;

const std::string valid = R"({"source":"https://github.com/mozilla-services/app","version":"v1.2.3",)"
                          R"("commit":"0123456789abcdef0123456789abcdef01234567","build":"https://circleci.com/gh/x/1"})";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string version_error_for(const std::string& bytes) {
  try {
    parse_version(bytes);
  } catch (const version_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_version accepted " << bytes;
  return {};
}

TEST(ParseVersion, ReadsEveryField) {
  const auto v = parse_version(valid);
  EXPECT_EQ(v.source, "https://github.com/mozilla-services/app");
  EXPECT_EQ(v.version, "v1.2.3");
  EXPECT_EQ(v.commit, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(v.build, "https://circleci.com/gh/x/1");
  EXPECT_EQ(v.raw, valid);
}

TEST(ParseVersion, EmptyStringsAreStrings) {
  // An untagged CI build writes "version": "".
  const auto v = parse_version(R"({"source":"s","version":"","commit":"c","build":"b"})");
  EXPECT_EQ(v.version, "");
}

TEST(ParseVersion, RawBytesArePreservedExactly) {
  const std::string bytes =
      "{\r\n  \"build\" : \"b\",\n\t\"commit\": \"c\",\n  \"version\": \"caf\\u00e9 \xc3\xa9\",\n"
      "  \"source\": \"s\", \"extra\": [1, 2, {\"x\": null}]\n}\n\n";
  const auto v = parse_version(bytes);
  EXPECT_EQ(v.raw, bytes);
  EXPECT_EQ(v.version, "caf\xc3\xa9 \xc3\xa9");
  EXPECT_EQ(v.build, "b");
}

TEST(ParseVersion, InvalidJsonIsRejected) {
  for (const std::string bytes : {"", "{", "not json", "{\"source\":\"s\",}", "{'source':'s'}"})
    EXPECT_THROW(parse_version(bytes), version_error) << bytes;
}

TEST(ParseVersion, NonObjectsAreRejected) {
  for (const std::string bytes : {"[]", "[{\"source\":\"s\"}]", "\"text\"", "42", "null", "true"})
    EXPECT_THROW(parse_version(bytes), version_error) << bytes;
}

class MissingOrWrongField : public ::testing::TestWithParam<const char*> {};

TEST_P(MissingOrWrongField, MissingFieldIsNamed) {
  auto doc = nlohmann::json::parse(valid);
  doc.erase(GetParam());
  const auto message = version_error_for(doc.dump());
  EXPECT_TRUE(contains(message, GetParam())) << message;
}

TEST_P(MissingOrWrongField, NonStringFieldIsNamed) {
  for (const auto& wrong : {nlohmann::json(1), nlohmann::json(nullptr), nlohmann::json::object(),
                            nlohmann::json::array({"x"}), nlohmann::json(true)}) {
    auto doc = nlohmann::json::parse(valid);
    doc[GetParam()] = wrong;
    const auto message = version_error_for(doc.dump());
    EXPECT_TRUE(contains(message, GetParam())) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(ParseVersion, MissingOrWrongField, ::testing::Values("source", "version", "commit", "build"));

class VersionFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dockerflow-unit-version-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string load_error_for(const std::string& path) {
    try {
      load_version_file(path);
    } catch (const version_error& e) {
      return e.what();
    }
    ADD_FAILURE() << "load_version_file accepted " << path;
    return {};
  }

  fs::path dir_;
};

TEST_F(VersionFile, LoadsTheFilesBytes) {
  const std::string bytes = valid + "\n";
  const auto v = load_version_file(write("version.json", bytes));
  EXPECT_EQ(v.raw, bytes);
  EXPECT_EQ(v.version, "v1.2.3");
}

TEST_F(VersionFile, MissingFileNamesThePath) {
  const auto path = (dir_ / "nope" / "version.json").string();
  const auto message = load_error_for(path);
  EXPECT_TRUE(contains(message, path)) << message;
}

TEST_F(VersionFile, MalformedFileNamesThePathAndTheProblem) {
  const auto path = write("version.json", R"({"source":"s","version":"v","build":"b"})");
  const auto message = load_error_for(path);
  EXPECT_TRUE(contains(message, path)) << message;
  EXPECT_TRUE(contains(message, "commit")) << message;
}

TEST_F(VersionFile, InvalidJsonFileNamesThePath) {
  const auto path = write("version.json", "{\"source\": ");
  EXPECT_TRUE(contains(load_error_for(path), path));
}

TEST_F(VersionFile, EmptyFileNamesThePath) {
  const auto path = write("empty.json", "");
  EXPECT_TRUE(contains(load_error_for(path), path));
}

TEST_F(VersionFile, DirectoryNamesThePath) {
  const auto path = dir_.string();
  EXPECT_TRUE(contains(load_error_for(path), path));
}

}  // namespace
}  // namespace dockerflow
