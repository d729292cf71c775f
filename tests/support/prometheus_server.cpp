#include "support/prometheus_server.hpp"

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/tcp_connection.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* prometheus_path = "/usr/bin/prometheus";

// The scrape timeout must not exceed the interval; a 1 s interval lets a test see a change within
// a couple of seconds.
std::string make_config(const prometheus_options& options) {
  std::ostringstream out;
  out << "global:\n"
         "  scrape_interval: " << options.scrape_interval.count() << "s\n"
         "  scrape_timeout: " << options.scrape_interval.count() << "s\n"
         "  evaluation_interval: " << options.scrape_interval.count() << "s\n"
         "scrape_configs:\n"
         "  - job_name: dockerflow\n"
         "    metrics_path: /metrics\n"
         "    static_configs:\n"
         "      - targets: [";
  for (std::size_t i = 0; i < options.targets.size(); ++i) {
    out << (i ? ", " : "") << "'127.0.0.1:" << options.targets[i] << "'";
  }
  out << "]\n";
  return out.str();
}

bool is_ready(std::uint16_t port) {
  try {
    return http_get(port, "/-/ready", {}, 1s).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace

std::string query_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += hex[byte >> 4];
      encoded += hex[byte & 0xF];
    }
  }
  return encoded;
}

std::filesystem::path prometheus_server::binary_path() {
  if (!std::filesystem::exists(prometheus_path)) {
    throw std::runtime_error(std::string(prometheus_path) + " not found: run scripts/setup.sh to install prometheus");
  }
  return prometheus_path;
}

prometheus_server::prometheus_server(prometheus_options options)
    : dir_("dockerflow-prometheus"), port_(free_port()), config_path_(dir_ / "prometheus.yml") {
  dir_.write_file("prometheus.yml", make_config(options));
  child_options child;
  child.argv = {binary_path().string(),
                "--config.file=" + config_path_.string(),
                "--storage.tsdb.path=" + (dir_ / "data").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                "--log.level=info"};
  child.env = minimal_env();
  child.working_dir = dir_.path();
  child.output_dir = dir_.path();
  child.output_name = "prometheus";
  process_ = std::make_unique<child_process>(std::move(child));
  auto deadline = test_clock::now() + 30s;
  while (!is_ready(port_)) {
    if (!process_->running()) {
      throw std::runtime_error("prometheus exited during start-up (" + process_->status()->describe() + "):\n" +
                               log_text() + "\nconfig:\n" + read_file(config_path_));
    }
    if (test_clock::now() >= deadline) {
      throw std::runtime_error("prometheus was not ready within 30 s on port " + std::to_string(port_) + ":\n" +
                               log_text());
    }
    std::this_thread::sleep_for(50ms);
  }
}

nlohmann::json prometheus_server::query(std::string_view expression) const {
  auto response = http_get(port_, "/api/v1/query?query=" + query_encode(expression), {}, 5s);
  auto body = response.json();
  if (response.status != 200 || body.value("status", "") != "success") {
    throw std::runtime_error("prometheus query " + std::string(expression) + " failed: HTTP " +
                             std::to_string(response.status) + " " + response.body);
  }
  return body["data"];
}

std::string prometheus_server::log_text() const {
  return process_->stdout_text() + process_->stderr_text();
}

} // namespace dockerflow::test
