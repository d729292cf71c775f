#include <dockerflow/health/report_json_memo.hpp>

#include <gtest/gtest.h>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

heartbeat_report report_with(std::chrono::milliseconds age, std::vector<message> messages = {}) {
  return heartbeat_report{{{"postgres", check_result{std::move(messages), 3ms, age}}}};
}

TEST(ReportJsonMemo, RendersAsTheReportDoes) {
  report_json_memo memo;
  const auto report = report_with(5ms, {error_message("postgres.E001", "down")});
  EXPECT_EQ(memo.json(report, true), report.to_json(true));
  EXPECT_EQ(memo.json(report, false), report.to_json(false));
  EXPECT_EQ(memo.json(report, true), report.to_json(true)) << "the two shapes are kept apart";
}

TEST(ReportJsonMemo, AnyChangeInTheReportIsRenderedAnew) {
  report_json_memo memo;
  EXPECT_EQ(memo.json(report_with(5ms), true), report_with(5ms).to_json(true));
  EXPECT_EQ(memo.json(report_with(6ms), true), report_with(6ms).to_json(true));
  const auto failing = report_with(6ms, {error_message("postgres.E001", "down")});
  EXPECT_EQ(memo.json(failing, true), failing.to_json(true));
  const auto renamed = heartbeat_report{{{"redis", check_result{{}, 3ms, 6ms}}}};
  EXPECT_EQ(memo.json(renamed, true), renamed.to_json(true));
}

}  // namespace
}  // namespace dockerflow
