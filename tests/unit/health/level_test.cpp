#include <dockerflow/health/check.hpp>
#include <dockerflow/health/level.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>

namespace dockerflow {
namespace {

constexpr std::array<std::pair<level, const char*>, 6> all_levels{{
    {level::ok, "ok"},
    {level::debug, "debug"},
    {level::info, "info"},
    {level::warning, "warning"},
    {level::error, "error"},
    {level::critical, "critical"},
}};

TEST(Level, NamesMatchPythonDockerflow) {
  for (const auto& [value, name] : all_levels) EXPECT_EQ(to_string(value), name);
}

TEST(Level, NamesRoundTrip) {
  for (const auto& [value, name] : all_levels) {
    const auto parsed = parse_level(to_string(value));
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, value) << name;
  }
}

TEST(Level, NumericValuesMatchPythonDockerflow) {
  EXPECT_EQ(to_int(level::ok), 0);
  EXPECT_EQ(to_int(level::debug), 10);
  EXPECT_EQ(to_int(level::info), 20);
  EXPECT_EQ(to_int(level::warning), 30);
  EXPECT_EQ(to_int(level::error), 40);
  EXPECT_EQ(to_int(level::critical), 50);
}

TEST(Level, UnknownNamesDoNotParse) {
  for (const char* name : {"", "OK", "Error", "warn", "fatal", "err", "info ", " info", "40"})
    EXPECT_FALSE(parse_level(name).has_value()) << '"' << name << '"';
}

TEST(Level, WorstPicksTheMoreSevereEitherWay) {
  for (const auto& [a, a_name] : all_levels) {
    for (const auto& [b, b_name] : all_levels) {
      const level expected = to_int(a) >= to_int(b) ? a : b;
      EXPECT_EQ(worst(a, b), expected) << a_name << " vs " << b_name;
      EXPECT_EQ(worst(b, a), expected) << b_name << " vs " << a_name;
    }
  }
  EXPECT_EQ(worst(level::warning, level::error), level::error);
  EXPECT_EQ(worst(level::critical, level::ok), level::critical);
  EXPECT_EQ(worst(level::info, level::info), level::info);
}

TEST(Level, OnlyErrorAndCriticalAreFailures) {
  EXPECT_FALSE(is_failure(level::ok));
  EXPECT_FALSE(is_failure(level::debug));
  EXPECT_FALSE(is_failure(level::info));
  EXPECT_FALSE(is_failure(level::warning));  // still serving
  EXPECT_TRUE(is_failure(level::error));
  EXPECT_TRUE(is_failure(level::critical));
}

TEST(Level, CheckResultWorstLevel) {
  EXPECT_EQ(check_result{}.worst_level(), level::ok);
  check_result r;
  r.messages = {make_message(level::info, "x.I001", "i"), warning_message("x.W001", "w"),
                make_message(level::debug, "x.D001", "d")};
  EXPECT_EQ(r.worst_level(), level::warning);
  r.messages.push_back(error_message("x.E001", "e"));
  EXPECT_EQ(r.worst_level(), level::error);
}

TEST(Level, MessageConstructorsSetTheSeverity) {
  EXPECT_EQ(error_message("a", "b").severity, level::error);
  EXPECT_EQ(warning_message("a", "b").severity, level::warning);
  const auto m = make_message(level::critical, "db.C001", "gone");
  EXPECT_EQ(m.severity, level::critical);
  EXPECT_EQ(m.id, "db.C001");
  EXPECT_EQ(m.text, "gone");
}

}  // namespace
}  // namespace dockerflow
