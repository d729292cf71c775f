#include "conninfo.hpp"

#include <dockerflow/ops/config.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <string_view>

namespace hello {
namespace {

// A value for a key=value connection string: quoted, with ' and \ escaped.
std::string quoted(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string conninfo_with_timeout(const std::string& url, std::chrono::seconds connect_timeout) {
  char* error = nullptr;
  const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(url.c_str(), &error),
                                                                               &PQconninfoFree);
  // libpq's message may quote part of the string, which can be the password: never repeat it.
  PQfreemem(error);
  if (!options) throw dockerflow::config_error("invalid DATABASE_URL: libpq cannot parse it");

  std::string conninfo;
  bool has_timeout = false;
  for (const auto* option = options.get(); option->keyword; ++option) {
    if (!option->val) continue;
    has_timeout = has_timeout || std::string_view(option->keyword) == "connect_timeout";
    conninfo += std::string(option->keyword) + "=" + quoted(option->val) + " ";
  }
  if (!has_timeout) conninfo += "connect_timeout=" + std::to_string(std::max<long long>(2, connect_timeout.count()));
  return conninfo;
}

}  // namespace hello
