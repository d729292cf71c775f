#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dockerflow::test {

struct prometheus_options {
  std::vector<std::uint16_t> targets;  // scraped at http://127.0.0.1:<port>/metrics
  std::chrono::seconds scrape_interval{1};
};

// Debian's prometheus on a free port of 127.0.0.1, scraping `targets` as the job "dockerflow", with
// its time series database in a temp dir, so a system Prometheus (one the package may have started
// on 9090) is never involved. Tests ask it, through its HTTP API, what it scraped.
class prometheus_server {
public:
  explicit prometheus_server(prometheus_options options);
  ~prometheus_server() = default;

  prometheus_server(const prometheus_server&) = delete;
  prometheus_server& operator=(const prometheus_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return process_->pid(); }

  // GET /api/v1/query?query=<expression>: the answer's "data" ({"resultType", "result"}); throws
  // when Prometheus does not answer "success".
  nlohmann::json query(std::string_view expression) const;

  std::string log_text() const;
  const std::filesystem::path& config_path() const noexcept { return config_path_; }

  // /usr/bin/prometheus; throws with a hint to run scripts/setup.sh when it is missing.
  static std::filesystem::path binary_path();

private:
  temp_dir dir_;
  std::uint16_t port_;
  std::filesystem::path config_path_;
  std::unique_ptr<child_process> process_;
};

// Percent-encodes everything but RFC 3986's unreserved characters, for a query string value.
std::string query_encode(std::string_view value);

} // namespace dockerflow::test
