#include <dockerflow/http/request_id.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace dockerflow {
namespace {

const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

TEST(RequestId, ValidExamples) {
  for (const char* id : {"a", "Z", "0", "abc-123", "A.b_c-D", "550e8400-e29b-41d4-a716-446655440000", "...", "_-_"})
    EXPECT_TRUE(is_valid_request_id(id)) << id;
}

TEST(RequestId, LengthLimitIs128) {
  EXPECT_TRUE(is_valid_request_id(std::string(128, 'x')));
  EXPECT_FALSE(is_valid_request_id(std::string(129, 'x')));
  EXPECT_FALSE(is_valid_request_id(""));
}

TEST(RequestId, InvalidExamples) {
  for (const char* id : {"has space", "a/b", "a\\b", "a:b", "a;b", "a\"b", "a<b>", "a=b", "a+b", "a%20b", "a\tb",
                         "caf\xc3\xa9", "\xe2\x9c\x93", "id\r\nX-Evil: 1", "{\"json\":1}"})
    EXPECT_FALSE(is_valid_request_id(id)) << id;
  EXPECT_FALSE(is_valid_request_id(std::string_view("ab\0cd", 5)));
}

TEST(RequestId, GeneratedIdsAreVersion4Uuids) {
  request_id_generator generator;
  std::set<char> variants;
  for (int i = 0; i < 500; ++i) {
    const auto id = generator.next();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_TRUE(std::regex_match(id, uuid_v4)) << id;
    EXPECT_TRUE(is_valid_request_id(id)) << id;
    variants.insert(id[19]);
  }
  // The variant nibble keeps two random bits.
  EXPECT_EQ(variants, (std::set<char>{'8', '9', 'a', 'b'}));
}

TEST(RequestId, GeneratedIdsAreDistinct) {
  request_id_generator generator;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(generator.next());
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(RequestId, IndependentGeneratorsDiffer) {
  request_id_generator a;
  request_id_generator b;
  EXPECT_NE(a.next(), b.next());
}

TEST(RequestId, SeededGeneratorsAreDeterministic) {
  request_id_generator a(42);
  request_id_generator b(42);
  request_id_generator c(43);
  for (int i = 0; i < 5; ++i) {
    const auto id = a.next();
    EXPECT_EQ(id, b.next());
    EXPECT_NE(id, c.next());
    EXPECT_TRUE(std::regex_match(id, uuid_v4)) << id;
  }
}

TEST(RequestId, ChooseKeepsAValidIncomingId) {
  request_id_generator generator(7);
  request_id_generator untouched(7);
  EXPECT_EQ(choose_request_id("client-id_1.2", generator), "client-id_1.2");
  const std::string longest(128, 'r');
  EXPECT_EQ(choose_request_id(longest, generator), longest);
  // Keeping an id does not consume randomness.
  EXPECT_EQ(generator.next(), untouched.next());
}

TEST(RequestId, ChooseReplacesAnInvalidIncomingId) {
  request_id_generator generator(7);
  request_id_generator reference(7);
  for (const std::string& bad : {std::string(), std::string("bad id"), std::string(129, 'r'), std::string("a\nb")}) {
    const auto chosen = choose_request_id(bad, generator);
    EXPECT_NE(chosen, bad);
    EXPECT_TRUE(std::regex_match(chosen, uuid_v4)) << chosen;
    EXPECT_EQ(chosen, reference.next());
  }
}

}  // namespace
}  // namespace dockerflow
