#include <dockerflow/checks/redis_check.hpp>

#include <hiredis/hiredis.h>

#include <cerrno>

namespace dockerflow {
namespace {

using std::chrono::milliseconds;

timeval remaining(check_clock::time_point deadline) {
  // Never zero: hiredis treats a zero timeout as "no timeout".
  const auto left = std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - check_clock::now()));
  return timeval{static_cast<time_t>(left.count() / 1000), static_cast<suseconds_t>((left.count() % 1000) * 1000)};
}

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

// Arguments go through %b (binary-safe, never interpreted as format directives).
reply_ptr command(redisContext* c, const char* format) {
  return reply_ptr(static_cast<redisReply*>(redisCommand(c, format)));
}
reply_ptr command(redisContext* c, const char* format, const std::string& a) {
  return reply_ptr(static_cast<redisReply*>(redisCommand(c, format, a.data(), a.size())));
}
reply_ptr command(redisContext* c, const char* format, const std::string& a, const std::string& b) {
  return reply_ptr(static_cast<redisReply*>(redisCommand(c, format, a.data(), a.size(), b.data(), b.size())));
}

}  // namespace

void redis_check::context_deleter::operator()(redisContext* c) const noexcept { redisFree(c); }

redis_check::redis_check(redis_endpoint endpoint, milliseconds timeout, std::string name)
    : name_(std::move(name)), endpoint_(std::move(endpoint)), timeout_(timeout) {}

redis_check::~redis_check() = default;

std::vector<message> redis_check::connect(check_clock::time_point deadline) {
  const auto where = endpoint_.host + ":" + std::to_string(endpoint_.port);
  context_.reset(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, remaining(deadline)));
  if (!context_ || context_->err) {
    const std::string why = context_ ? context_->errstr : "out of memory";
    context_.reset();
    return {error_message(name_ + ".E001", "cannot connect to " + where + ": " + why)};
  }
  redisSetTimeout(context_.get(), remaining(deadline));
  if (!endpoint_.password.empty()) {
    const bool acl_user = !endpoint_.username.empty() && endpoint_.username != "default";
    const auto reply = acl_user ? command(context_.get(), "AUTH %b %b", endpoint_.username, endpoint_.password)
                                : command(context_.get(), "AUTH %b", endpoint_.password);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      const std::string why = reply ? std::string(reply->str, reply->len) : context_->errstr;
      context_.reset();
      return {error_message(name_ + ".E002", "authentication failed: " + why)};
    }
  }
  if (endpoint_.database != 0) {
    const auto reply = command(context_.get(), "SELECT %b", std::to_string(endpoint_.database));
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      context_.reset();
      return {error_message(name_ + ".E002", "cannot select database " + std::to_string(endpoint_.database))};
    }
  }
  return {};
}

std::vector<message> redis_check::run(check_clock::time_point deadline) {
  if (!context_) {
    if (auto failure = connect(deadline); !failure.empty()) return failure;
  } else {
    redisSetTimeout(context_.get(), remaining(deadline));
  }

  const auto reply = command(context_.get(), "PING");
  if (!reply) {
    // hiredis reports a socket timeout as an I/O error with EAGAIN.
    const bool timed_out = context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    const std::string why = timed_out ? "timed out after " + std::to_string(timeout_.count()) + " ms" : context_->errstr;
    context_.reset();
    return {error_message(name_ + ".E001", why)};
  }
  if (reply->type == REDIS_REPLY_STATUS && std::string_view(reply->str, reply->len) == "PONG") return {};
  const std::string answer = reply->str ? std::string(reply->str, reply->len) : "no text";
  context_.reset();
  return {error_message(name_ + ".E002", "unexpected reply to PING: " + answer)};
}

}  // namespace dockerflow
