#pragma once

#include <dockerflow/health/check.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dockerflow {

// `SELECT 1` on a kept-open connection; reconnects after any failure.
class postgres_check final : public check {
 public:
  // Throws config_error naming DATABASE_URL when libpq cannot parse `url`. With `ca_file` (the
  // process's SSL_CERT_FILE), a URL asking for sslmode=verify-ca or verify-full without its own
  // sslrootcert trusts that bundle: libpq 15 reads neither SSL_CERT_FILE nor the system store.
  // `name` is what the heartbeat reports it as and the prefix of its message ids ("replica.E001").
  postgres_check(std::string url, std::chrono::milliseconds timeout, std::optional<std::string> ca_file = std::nullopt,
                 std::string name = "postgres");
  ~postgres_check() override;

  std::string_view name() const noexcept override { return name_; }
  std::vector<message> run(check_clock::time_point deadline) override;

 private:
  std::string name_;
  std::vector<std::string> secrets_;  // the password as decoded and as written: scrubbed from echoes
  std::string conninfo_;
  struct connection;  // wraps pqxx::connection, whose header is heavy
  std::unique_ptr<connection> connection_;
};

}  // namespace dockerflow
