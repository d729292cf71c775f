#include "items.hpp"

#include "conninfo.hpp"
#include "db_worker.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include <charconv>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace hello {
namespace {

using dockerflow::http_request;
using dockerflow::http_response;
using dockerflow::responder;
using json = nlohmann::json;

constexpr std::string_view item_prefix = "/api/items/";
constexpr std::size_t max_body = 64 * 1024;
constexpr std::size_t max_name = 200;  // bytes

http_response json_response(unsigned status, const json& body) {
  return {status, "application/json", body.dump(), {{"Cache-Control", "no-store"}}};
}

// The router's error shape, plus what was wrong with the request.
http_response bad_request(std::string_view detail) {
  return json_response(400, {{"status", 400}, {"error", "Bad Request"}, {"detail", detail}});
}

json item_json(const pqxx::row& row) { return {{"id", row["id"].as<int>()}, {"name", row["name"].as<std::string>()}}; }

// The name a POST body gives, or an answer saying why it gives none.
std::pair<std::string, std::optional<http_response>> name_from(const std::string& body) {
  const auto parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return {{}, bad_request("the body is not JSON")};
  if (!parsed.is_object() || !parsed.contains("name") || !parsed["name"].is_string())
    return {{}, bad_request("expected {\"name\": \"...\"}")};
  auto name = parsed["name"].get<std::string>();
  if (name.empty() || name.size() > max_name) return {{}, bad_request("name must be 1 to 200 bytes")};
  // PostgreSQL text cannot hold NUL; refusing it here keeps it a 400 instead of a failed query.
  if (name.find('\0') != std::string::npos) return {{}, bad_request("name must not contain NUL")};
  return {std::move(name), std::nullopt};
}

// "/api/items/42" → 42; anything else (not a positive int, trailing parts) names no item.
std::optional<int> id_from(std::string_view path) {
  path.remove_prefix(item_prefix.size());
  int id = 0;
  const auto [end, error] = std::from_chars(path.data(), path.data() + path.size(), id);
  if (error != std::errc() || end != path.data() + path.size() || id <= 0) return std::nullopt;
  return id;
}

// On every new connection. Two instances may create it at once: then one loses with unique_violation
// on the catalog, and the table exists all the same.
void create_schema(pqxx::connection& c) {
  try {
    pqxx::nontransaction tx(c);
    tx.exec("CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text NOT NULL)");
  } catch (const pqxx::unique_violation&) {
  }
}

http_response list_items(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  json items = json::array();
  for (const auto& row : tx.exec("SELECT id, name FROM items ORDER BY id LIMIT 1000")) items.push_back(item_json(row));
  return json_response(200, items);
}

http_response create_item(pqxx::connection& c, const std::string& name) {
  pqxx::work tx(c);
  const auto row = tx.exec_params1("INSERT INTO items (name) VALUES ($1) RETURNING id, name", name);
  tx.commit();
  auto created = json_response(201, item_json(row));
  created.headers.emplace_back("Location", std::string(item_prefix) + row["id"].c_str());
  return created;
}

http_response find_item(pqxx::connection& c, int id) {
  pqxx::nontransaction tx(c);
  const auto rows = tx.exec_params("SELECT id, name FROM items WHERE id = $1", id);
  if (rows.empty()) return dockerflow::router::error_response(404, "Not Found");
  return json_response(200, item_json(rows[0]));
}

}  // namespace

void add_item_routes(dockerflow::router& routes, const std::string& database_url, std::chrono::milliseconds timeout) {
  // Shared by the handlers, which the router keeps for the life of the service.
  const auto db = std::make_shared<db_worker>(
      conninfo_with_timeout(database_url, std::chrono::ceil<std::chrono::seconds>(timeout)), timeout, create_schema);

  routes.add("GET", "/api/items", [db](const http_request&, responder respond) {
    db->submit(list_items, std::move(respond));
  });
  // The body is checked here, on the loop, before it costs a query; the request is only borrowed, so
  // the query takes its own copy of the name.
  routes.add(
      "POST", "/api/items",
      [db](const http_request& request, responder respond) {
        auto [name, refusal] = name_from(request.body);
        if (refusal) return respond(std::move(*refusal));
        db->submit([name = std::move(name)](pqxx::connection& c) { return create_item(c, name); },
                   std::move(respond));
      },
      {.body_limit = max_body});
  routes.add_prefix("GET", std::string(item_prefix), [db](const http_request& request, responder respond) {
    const auto id = id_from(request.path);
    if (!id) return respond(dockerflow::router::error_response(404, "Not Found"));
    db->submit([id = *id](pqxx::connection& c) { return find_item(c, id); }, std::move(respond));
  });
}

}  // namespace hello
