#include <dockerflow/http/router.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dockerflow {

void router::add(std::string method, std::string path, handler h, route_options options) {
  largest_body_limit_ = std::max(largest_body_limit_, options.body_limit);
  exact_[std::move(path)].insert_or_assign(std::move(method), route{std::move(h), options});
}

void router::add_prefix(std::string method, std::string prefix, handler h, route_options options) {
  largest_body_limit_ = std::max(largest_body_limit_, options.body_limit);
  prefixes_[std::move(prefix)].insert_or_assign(std::move(method), route{std::move(h), options});
}

const router::by_method* router::find(std::string_view path, std::string_view* name) const {
  if (const auto exact = exact_.find(path); exact != exact_.end()) {
    if (name) *name = exact->first;
    return &exact->second;
  }
  const by_method* longest = nullptr;
  std::size_t longest_size = 0;
  for (const auto& [prefix, methods] : prefixes_)
    if (path.starts_with(prefix) && (!longest || prefix.size() > longest_size)) {
      longest = &methods;
      longest_size = prefix.size();
      if (name) *name = prefix;
    }
  return longest;
}

const router::route* router::for_method(const by_method& methods, std::string_view method) {
  if (const auto it = methods.find(method); it != methods.end()) return &it->second;
  if (method == "HEAD") return for_method(methods, "GET");
  return nullptr;
}

void router::dispatch(const http_request& request, responder respond) const {
  const auto* methods = find(request.path);
  if (!methods) return respond(error_response(404, "Not Found"));
  const auto* found = for_method(*methods, request.method);
  if (!found) {
    std::string allow;
    for (const auto& [method, unused] : *methods) {
      allow += (allow.empty() ? "" : ", ") + method;
      if (method == "GET" && !methods->contains("HEAD")) allow += ", HEAD";
    }
    auto response = error_response(405, "Method Not Allowed");
    response.headers.emplace_back("Allow", allow);
    return respond(std::move(response));
  }
  found->handle(request, std::move(respond));
}

std::optional<std::string_view> router::route_name(std::string_view path) const {
  std::string_view name;
  if (!find(path, &name)) return std::nullopt;
  return name;
}

std::size_t router::body_limit(std::string_view method, std::string_view path) const {
  const auto* methods = find(path);
  const auto* found = methods ? for_method(*methods, method) : nullptr;
  return found ? found->options.body_limit : 0;
}

std::string http_request::header(std::string_view name) const {
  if (!headers) return {};
  const auto value = headers->find(name);
  return value ? std::string(*value) : std::string();
}

bool router::serves(std::string_view path) const { return find(path) != nullptr; }

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
