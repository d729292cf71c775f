#include "support/blackbox_exporter.hpp"

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/prometheus_server.hpp"
#include "support/tcp_connection.hpp"

#include <sstream>
#include <stdexcept>
#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* exporter_path = "/usr/bin/prometheus-blackbox-exporter";

// The heartbeat answers within the app's check deadline; 5 s leaves room for it on a loaded machine.
// IPv4 only: every server in the tests listens on 127.0.0.1.
constexpr std::string_view config =
    "modules:\n"
    "  http_2xx:\n"
    "    prober: http\n"
    "    timeout: 5s\n"
    "    http:\n"
    "      method: GET\n"
    "      preferred_ip_protocol: ip4\n"
    "      ip_protocol_fallback: false\n";

bool is_healthy(std::uint16_t port) {
  try {
    return http_get(port, "/-/healthy", {}, 1s).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace

std::filesystem::path blackbox_exporter::binary_path() {
  if (!std::filesystem::exists(exporter_path)) {
    throw std::runtime_error(std::string(exporter_path) +
                             " not found: run scripts/setup.sh to install prometheus-blackbox-exporter");
  }
  return exporter_path;
}

blackbox_exporter::blackbox_exporter()
    : dir_("dockerflow-blackbox"), port_(free_port()), config_path_(dir_ / "blackbox.yml") {
  dir_.write_file("blackbox.yml", config);
  child_options child;
  child.argv = {binary_path().string(), "--config.file=" + config_path_.string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=debug"};
  child.env = minimal_env();
  child.working_dir = dir_.path();
  child.output_dir = dir_.path();
  child.output_name = "blackbox";
  process_ = std::make_unique<child_process>(std::move(child));
  auto deadline = test_clock::now() + 15s;
  while (!is_healthy(port_)) {
    if (!process_->running()) {
      throw std::runtime_error("prometheus-blackbox-exporter exited during start-up (" +
                               process_->status()->describe() + "):\n" + log_text());
    }
    if (test_clock::now() >= deadline) {
      throw std::runtime_error("prometheus-blackbox-exporter was not healthy within 15 s on port " +
                               std::to_string(port_) + ":\n" + log_text());
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::string blackbox_exporter::probe(std::string_view module, std::string_view target_url) const {
  auto response = http_get(port_,
                           "/probe?module=" + query_encode(module) + "&target=" + query_encode(target_url), {}, 10s);
  if (response.status != 200) {
    throw std::runtime_error("blackbox probe of " + std::string(target_url) + " answered HTTP " +
                             std::to_string(response.status) + ": " + response.body);
  }
  return response.body;
}

double blackbox_exporter::probe_success(std::string_view target_url) const {
  const auto text = probe("http_2xx", target_url);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("probe_success ", 0) == 0) {
      return std::stod(line.substr(sizeof "probe_success " - 1));
    }
  }
  throw std::runtime_error("blackbox probe answer has no probe_success:\n" + text);
}

std::string blackbox_exporter::log_text() const {
  return process_->stdout_text() + process_->stderr_text();
}

} // namespace dockerflow::test
