#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockerflow {

// A request's headers, readable while its handler is being called (copy what an answer given later
// needs). Names compare case-insensitively.
class request_headers {
 public:
  virtual ~request_headers() = default;
  virtual std::optional<std::string_view> find(std::string_view name) const = 0;
};

struct http_request {
  std::string method;  // "GET", "HEAD", …
  std::string path;    // target without the query string
  std::string request_id;
  std::string query;          // after '?', without any fragment; not decoded
  std::string authorization;  // the Authorization header; never logged
  std::string body;           // empty unless the route accepts bodies
  const request_headers* headers = nullptr;  // null outside a server (tests)

  // A header's value, empty when absent.
  std::string header(std::string_view name) const;
};

// The values of every `name=value` pair of a query string named `name`, percent-decoded ('+' is a space).
std::vector<std::string> query_values(std::string_view query, std::string_view name);

struct http_response {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Handlers answer through `respond`, at once or later (the heartbeat answers when its checks have),
// from any thread. Only the first call counts; a handler that never calls it leaves its client
// waiting until the client gives up, so every path must answer.
using responder = std::function<void(http_response)>;
using handler = std::function<void(const http_request&, responder)>;

struct route_options {
  // Largest request body the route accepts; 0 refuses any body with 413 without reading it.
  std::size_t body_limit = 0;
};

// Routes by method and path: exact paths first, then the longest matching prefix. HEAD is served by
// the GET handler unless a HEAD route exists (the session drops the body). A path with routes but
// none for the method gets 405 with Allow; a path without routes 404.
class router {
 public:
  void add(std::string method, std::string path, handler h, route_options options = {});
  // Every path that starts with `prefix` ("/api/" serves "/api/items/7").
  void add_prefix(std::string method, std::string prefix, handler h, route_options options = {});
  void add_get(std::string path, handler h) { add("GET", std::move(path), std::move(h)); }

  void dispatch(const http_request& request, responder respond) const;
  // Whether any route serves `path` (metrics name requests by route, never by raw path).
  bool serves(std::string_view path) const;
  // The registered path or prefix that `path` matches: the name metrics use. Valid while the router is.
  std::optional<std::string_view> route_name(std::string_view path) const;
  // The body limit of the route `method path` would reach; 0 when none (or it takes no body).
  std::size_t body_limit(std::string_view method, std::string_view path) const;
  // The largest body limit of any route: what the parser may have to accept before routing.
  std::size_t largest_body_limit() const noexcept { return largest_body_limit_; }

  // JSON error answers used by the router and by the session for protocol errors.
  static http_response error_response(unsigned status, std::string_view reason);

 private:
  struct route {
    handler handle;
    route_options options;
  };
  using by_method = std::map<std::string, route, std::less<>>;
  // The routes for `path`: its exact entry, else the longest prefix entry; null when none.
  const by_method* find(std::string_view path, std::string_view* name = nullptr) const;
  static const route* for_method(const by_method& methods, std::string_view method);

  std::map<std::string, by_method, std::less<>> exact_;
  std::map<std::string, by_method, std::less<>> prefixes_;
  std::size_t largest_body_limit_ = 0;
};

}  // namespace dockerflow
