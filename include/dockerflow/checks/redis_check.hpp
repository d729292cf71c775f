#pragma once

#include <dockerflow/health/check.hpp>
#include <dockerflow/ops/config.hpp>

#include <chrono>
#include <memory>
#include <string>

struct redisContext;

namespace dockerflow {

// `PING` on a kept-open connection with connect and command timeouts; reconnects after any failure.
class redis_check final : public check {
 public:
  // `name` is what the heartbeat reports it as and the prefix of its message ids ("cache.E001").
  redis_check(redis_endpoint endpoint, std::chrono::milliseconds timeout, std::string name = "redis");
  ~redis_check() override;

  std::string_view name() const noexcept override { return name_; }
  std::vector<message> run(check_clock::time_point deadline) override;

 private:
  struct context_deleter { void operator()(redisContext* c) const noexcept; };
  using context_ptr = std::unique_ptr<redisContext, context_deleter>;

  std::vector<message> connect(check_clock::time_point deadline);

  std::string name_;
  redis_endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  context_ptr context_;
};

}  // namespace dockerflow
