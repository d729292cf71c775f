#include <dockerflow/ops/metric_name.hpp>

#include <gtest/gtest.h>

namespace dockerflow {
namespace {

TEST(MetricName, DockerflowRoutesLoseTheirSlashAndUnderscores) {
  EXPECT_EQ(metric_name("/__lbheartbeat__"), "lbheartbeat");
  EXPECT_EQ(metric_name("/__heartbeat__"), "heartbeat");
  EXPECT_EQ(metric_name("/__version__"), "version");
  EXPECT_EQ(metric_name("/metrics"), "metrics");
}

TEST(MetricName, OtherAndPlainCheckNamesStay) {
  EXPECT_EQ(metric_name("other"), "other");
  EXPECT_EQ(metric_name("redis"), "redis");
  EXPECT_EQ(metric_name("my-check_2"), "my-check_2");
}

TEST(MetricName, EmptyResultIsRoot) {
  EXPECT_EQ(metric_name("/"), "root");
  EXPECT_EQ(metric_name(""), "root");
  EXPECT_EQ(metric_name("//___"), "root");
}

TEST(MetricName, CharactersOutsideTheSafeSetBecomeUnderscores) {
  EXPECT_EQ(metric_name("/api/v1/items"), "api_v1_items");
  EXPECT_EQ(metric_name("db.primary"), "db_primary") << "a dot would add a statsd hierarchy level";
  EXPECT_EQ(metric_name("a:b|c@d\ne f"), "a_b_c_d_e_f") << "':' '|' '@' and newlines are statsd syntax";
  EXPECT_EQ(metric_name("caf\xc3\xa9"), "caf__");
}

TEST(MetricName, OnlySurroundingUnderscoresAreStripped) {
  EXPECT_EQ(metric_name("/__a__b__"), "a__b");
  EXPECT_EQ(metric_name("__check"), "check");
  EXPECT_EQ(metric_name("/x/"), "x_");
}

}  // namespace
}  // namespace dockerflow
