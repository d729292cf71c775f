#include <dockerflow/router.hpp>

#include <nlohmann/json.hpp>

namespace dockerflow {

void router::add_get(std::string path, handler h) { get_routes_.insert_or_assign(std::move(path), std::move(h)); }

void router::dispatch(const http_request& request, responder respond) const {
  const auto route = get_routes_.find(request.path);
  if (route == get_routes_.end()) return respond(error_response(404, "Not Found"));
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = error_response(405, "Method Not Allowed");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return respond(std::move(response));
  }
  route->second(request, std::move(respond));
}

http_response router::error_response(unsigned status, std::string_view reason) {
  const nlohmann::json body{{"status", status}, {"error", reason}};
  return http_response{status, "application/json", body.dump(), {{"Cache-Control", "no-store"}}};
}

}  // namespace dockerflow
