#pragma once

#include <dockerflow/health/check.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hello {

// The application's own check, beside the library's `postgres` (which proves the server answers):
// the items table exists and this user may read it. Reported as `items`:
//   items.E001  the database cannot be reached in time      (error)
//   items.E002  the query failed, e.g. permission denied    (error)
//   items.W002  the table does not exist yet; the first /api/items request creates it (warning)
// (W001 is the library's own "slower than DOCKERFLOW_CHECK_WARN_MS".)
class items_table_check final : public dockerflow::check {
 public:
  explicit items_table_check(std::string database_url);
  ~items_table_check() override;

  std::string_view name() const noexcept override { return "items"; }
  std::vector<dockerflow::message> run(dockerflow::check_clock::time_point deadline) override;

 private:
  std::string database_url_;
  struct connection;  // kept open between probes; the heartbeat never runs one check twice at once
  std::unique_ptr<connection> connection_;
};

}  // namespace hello
