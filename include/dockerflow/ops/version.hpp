#pragma once

#include <stdexcept>
#include <string>

namespace dockerflow {

class version_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The Dockerflow version object, validated once at start-up and then served byte for byte.
struct version_info {
  std::string source;
  std::string version;
  std::string commit;
  std::string build;
  std::string raw;  // the file's exact bytes
};

// Throws version_error whose message names the path when the file is missing or malformed.
version_info load_version_file(const std::string& path);
version_info parse_version(const std::string& bytes);

}  // namespace dockerflow
