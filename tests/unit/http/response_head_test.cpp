#include <dockerflow/http/response_head.hpp>

#include <gtest/gtest.h>

#include <string>

namespace dockerflow {
namespace {

std::string head_of(const http_response& response, response_framing framing = {}) {
  std::string out;
  render_response_head(response, framing, out);
  return out;
}

TEST(ResponseHead, StatusLineHeadersInOrderAndLength) {
  const http_response response{200, "application/json", "{}", {{"Cache-Control", "no-store"}}};
  EXPECT_EQ(head_of(response, {11, true, "rid-1"}),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Request-ID: rid-1\r\n"
            "Content-Length: 2\r\n"
            "\r\n");
}

TEST(ResponseHead, AppendsToWhatTheBufferHolds) {
  std::string out = "kept";
  render_response_head(http_response{404, "", "", {}}, {}, out);
  EXPECT_EQ(out.rfind("keptHTTP/1.1 404 Not Found\r\n", 0), 0u);
}

TEST(ResponseHead, ConnectionHeaderOnlyWhereTheVersionNeedsIt) {
  const http_response response{200, "text/plain", "", {}};
  EXPECT_EQ(head_of(response, {11, true, ""}).find("Connection"), std::string::npos);
  EXPECT_NE(head_of(response, {11, false, ""}).find("Connection: close\r\n"), std::string::npos);
  const auto one_oh = head_of(response, {10, true, ""});
  EXPECT_EQ(one_oh.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_NE(one_oh.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(head_of(response, {10, false, ""}).find("Connection"), std::string::npos);
}

TEST(ResponseHead, NoLengthForStatusesWithoutBody) {
  for (unsigned status : {101u, 204u, 304u}) {
    EXPECT_FALSE(status_allows_body(status));
    EXPECT_EQ(head_of(http_response{status, "", "", {}}).find("Content-Length"), std::string::npos) << status;
  }
  EXPECT_TRUE(status_allows_body(200));
  EXPECT_NE(head_of(http_response{200, "", "", {}}).find("Content-Length: 0\r\n"), std::string::npos);
}

TEST(ResponseHead, LaterHeaderOfTheSameNameWins) {
  const http_response response{200, "text/plain", "x", {{"x-a", "1"}, {"Content-Type", "text/html"}, {"X-A", "2"}}};
  const auto head = head_of(response);
  EXPECT_EQ(head.find("text/plain"), std::string::npos);
  EXPECT_NE(head.find("Content-Type: text/html\r\n"), std::string::npos);
  EXPECT_EQ(head.find("x-a: 1"), std::string::npos);
  EXPECT_NE(head.find("X-A: 2\r\n"), std::string::npos);
}

TEST(ResponseHead, HandlersCannotSetFramingOrSplitTheResponse) {
  const http_response response{200, "text/plain", "body",
                               {{"Content-Length", "99"},
                                {"transfer-encoding", "chunked"},
                                {"Connection", "close"},
                                {"X-Request-ID", "forged"},
                                {"X-Bad", "a\r\nSet-Cookie: evil=1"},
                                {"X-Nul", std::string("a\0b", 3)},
                                {"X-Bad\nName", "v"},
                                {"X-Good", "fine"}}};
  const auto head = head_of(response, {11, true, "real"});
  EXPECT_NE(head.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(head.find("99"), std::string::npos);
  EXPECT_EQ(head.find("chunked"), std::string::npos);
  EXPECT_EQ(head.find("Connection"), std::string::npos);
  EXPECT_EQ(head.find("forged"), std::string::npos);
  EXPECT_EQ(head.find("evil"), std::string::npos);
  EXPECT_EQ(head.find("X-Nul"), std::string::npos);
  EXPECT_EQ(head.find("Name"), std::string::npos);
  EXPECT_NE(head.find("X-Good: fine\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Request-ID: real\r\n"), std::string::npos);
}

TEST(ResponseHead, ContentTypeWithALineBreakIsLeftOut) {
  const auto head = head_of(http_response{200, "text/plain\r\nX: y", "", {}});
  EXPECT_EQ(head.find("\r\nContent-Type:"), std::string::npos);
  EXPECT_EQ(head.find("X: y"), std::string::npos);
}

}  // namespace
}  // namespace dockerflow
