#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace dockerflow::test {

// A directory that exists for the lifetime of the object and is removed, with everything in it, on
// destruction. Tests create files, sockets and database clusters in it, so nothing outlives a test.
class temp_dir {
public:
  // base defaults to the system temp directory. PostgreSQL's harness passes "/tmp" explicitly because
  // the postgres user must be able to traverse every parent of its data directory.
  explicit temp_dir(std::string_view prefix = "dockerflow-test",
                    const std::filesystem::path& base = std::filesystem::temp_directory_path());
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& child) const { return path_ / child; }

  // Writes (replaces) a file below the directory and returns its full path.
  std::filesystem::path write_file(const std::filesystem::path& relative, std::string_view contents) const;

private:
  std::filesystem::path path_;
};

// Reads a whole file; an unreadable file yields an empty string because callers poll files that a
// child process may not have created yet.
std::string read_file(const std::filesystem::path& path);

} // namespace dockerflow::test
