#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace dockerflow::test {

// Debian's prometheus-blackbox-exporter on a free port of 127.0.0.1 with one module, http_2xx: an
// HTTP GET that succeeds on any 2xx answer, as monitors poll a Dockerflow /__heartbeat__. Its own
// process and port, so an exporter the package may have started on 9115 is never involved.
class blackbox_exporter {
public:
  blackbox_exporter();
  ~blackbox_exporter() = default;

  blackbox_exporter(const blackbox_exporter&) = delete;
  blackbox_exporter& operator=(const blackbox_exporter&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return process_->pid(); }

  // GET /probe?module=<module>&target=<url>: the probe's metrics in the Prometheus text format.
  std::string probe(std::string_view module, std::string_view target_url) const;
  // probe_success of one http_2xx probe of `target_url`: 1 or 0. Throws if the answer has none.
  double probe_success(std::string_view target_url) const;

  std::string log_text() const;

  // /usr/bin/prometheus-blackbox-exporter; throws with a hint to run scripts/setup.sh when missing.
  static std::filesystem::path binary_path();

private:
  temp_dir dir_;
  std::uint16_t port_;
  std::filesystem::path config_path_;
  std::unique_ptr<child_process> process_;
};

} // namespace dockerflow::test
