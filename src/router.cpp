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

bool router::serves(std::string_view path) const { return get_routes_.find(path) != get_routes_.end(); }

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

}  // namespace

std::vector<std::string> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (form_decode(pair.substr(0, eq)) == name)
      values.push_back(eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return values;
}

http_response router::error_response(unsigned status, std::string_view reason) {
  const nlohmann::json body{{"status", status}, {"error", reason}};
  return http_response{status, "application/json", body.dump(), {{"Cache-Control", "no-store"}}};
}

}  // namespace dockerflow
