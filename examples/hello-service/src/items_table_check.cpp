#include "items_table_check.hpp"

#include "conninfo.hpp"

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include <chrono>
#include <utility>

namespace hello {

struct items_table_check::connection {
  explicit connection(const std::string& conninfo) : db(conninfo) {}
  pqxx::connection db;
};

namespace {

std::string first_line(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

}  // namespace

items_table_check::items_table_check(std::string database_url) : database_url_(std::move(database_url)) {}

items_table_check::~items_table_check() = default;

std::vector<dockerflow::message> items_table_check::run(dockerflow::check_clock::time_point deadline) {
  using namespace std::chrono;
  const auto left = ceil<milliseconds>(deadline - dockerflow::check_clock::now());
  if (left <= milliseconds::zero()) return {dockerflow::error_message("items.E001", "no time left before the deadline")};
  try {
    if (!connection_)
      connection_ = std::make_unique<connection>(conninfo_with_timeout(database_url_, ceil<seconds>(left)));
    pqxx::nontransaction tx(connection_->db);
    tx.exec("SET statement_timeout = " + std::to_string(left.count()));
    if (!tx.exec1("SELECT to_regclass('items') IS NOT NULL")[0].as<bool>())
      return {dockerflow::warning_message("items.W002",
                                          "table items does not exist yet; the first /api/items request creates it")};
    tx.exec("SELECT 1 FROM items LIMIT 1");
    return {};
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    return {dockerflow::error_message("items.E001", first_line(e.what()))};
  } catch (const pqxx::failure& e) {
    if (connection_ && !connection_->db.is_open()) connection_.reset();
    return {dockerflow::error_message("items.E002", first_line(e.what()))};
  }
}

}  // namespace hello
