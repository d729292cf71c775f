#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockerflow {

struct http_request {
  std::string method;  // "GET", "HEAD", …
  std::string path;    // target without the query string
  std::string request_id;
  std::string query;          // after '?', without any fragment; not decoded
  std::string authorization;  // the Authorization header; never logged
};

// The values of every `name=value` pair of a query string named `name`, percent-decoded ('+' is a space).
std::vector<std::string> query_values(std::string_view query, std::string_view name);

struct http_response {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Handlers answer through `respond`, at once or later (the heartbeat answers when its checks have).
// `respond` must be called exactly once, on the event loop.
using responder = std::function<void(http_response)>;
using handler = std::function<void(const http_request&, responder)>;

// Exact-path routing. HEAD is served by the GET handler; the session drops the body.
class router {
 public:
  void add_get(std::string path, handler h);
  void dispatch(const http_request& request, responder respond) const;
  // Whether a route is registered for `path` (metrics name requests by route, never by raw path).
  bool serves(std::string_view path) const;

  // JSON error answers used by the router and by the session for protocol errors.
  static http_response error_response(unsigned status, std::string_view reason);

 private:
  std::map<std::string, handler, std::less<>> get_routes_;
};

}  // namespace dockerflow
