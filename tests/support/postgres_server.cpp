#include "support/postgres_server.hpp"

#include "support/free_port.hpp"
#include "support/process_inspection.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace dockerflow::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// PostgreSQL refuses to run as root, so as root every server-side tool runs as the postgres user.
bool need_user_switch() {
  return ::geteuid() == 0;
}

void give_to_postgres(const fs::path& path) {
  if (!need_user_switch()) {
    return;
  }
  passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    throw std::runtime_error("running as root but there is no 'postgres' user to run PostgreSQL as");
  }
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::system_error(errno, std::generic_category(), "chown " + path.string());
  }
}

fs::path make_postgres_dir(const fs::path& path) {
  fs::create_directory(path);
  fs::permissions(path, fs::perms::owner_all);
  give_to_postgres(path);
  return path;
}

std::string describe_failure(const std::string& what, const command_result& result) {
  return what + " failed (" + result.status.describe() + ")\nstdout: " + result.stdout_text +
         "\nstderr: " + result.stderr_text;
}

} // namespace

fs::path find_postgres_bin_dir() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    auto bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl")) {
      candidates.push_back(bin);
    }
  }
  if (candidates.empty()) {
    throw std::runtime_error("no PostgreSQL found under /usr/lib/postgresql/*/bin (install postgresql)");
  }
  // Versions are plain integers since PostgreSQL 10; compare numerically so 15 beats 9.6.
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    return std::stod(a.parent_path().filename().string()) < std::stod(b.parent_path().filename().string());
  });
  return candidates.back();
}

postgres_server::postgres_server(postgres_options options)
    // /tmp, not $TMPDIR: the postgres user must be able to traverse every parent directory.
    : options_(std::move(options)), dir_("dockerflow-pg", "/tmp"), bin_dir_(find_postgres_bin_dir()),
      port_(free_port()) {
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
  data_dir_ = make_postgres_dir(dir_ / "data");
  socket_dir_ = make_postgres_dir(dir_ / "socket");
  auto log_dir = make_postgres_dir(dir_ / "log");
  log_file_ = log_dir / "postgres.log";

  std::vector<std::string> args{"-D", data_dir_.string(), "-U", options_.user, "-N", "-E", "UTF8",
                                "--locale=C", "--auth-local=trust"};
  if (options_.password) {
    auto password_file = log_dir / "password";
    std::ofstream(password_file) << *options_.password << '\n';
    give_to_postgres(password_file);
    args.push_back("--auth-host=scram-sha-256");
    args.push_back("--pwfile=" + password_file.string());
  } else {
    args.push_back("--auth-host=trust");
  }
  if (options_.tls) {
    make_certificates();
  }
  auto initdb = run_tool("initdb", args, 60s);
  if (!initdb.status.success()) {
    throw std::runtime_error(describe_failure("initdb", initdb));
  }
  try {
    start();
    // Over the unix socket, where authentication is "trust", so no password is needed here.
    auto createdb = run_tool("createdb", {"-h", socket_dir_.string(), "-p", std::to_string(port_), "-U",
                                          options_.user, options_.database},
                             30s);
    if (!createdb.status.success()) {
      throw std::runtime_error(describe_failure("createdb", createdb));
    }
  } catch (...) {
    // No destructor runs for a half-constructed object: stop what was started here.
    shut_down_now();
    throw;
  }
}

postgres_server::~postgres_server() {
  shut_down_now();
}

void postgres_server::shut_down_now() noexcept {
  try {
    // Whatever running_ says: a start that timed out may still have left a postmaster behind.
    std::ifstream pid_file(data_dir_ / "postmaster.pid");
    pid_t postmaster = -1;
    if (!(pid_file >> postmaster) || postmaster <= 0) {
      return;
    }
    auto processes = process_tree(postmaster);
    for (pid_t p : processes) {
      ::kill(p, SIGCONT);
    }
    auto result = run_tool("pg_ctl", {"stop", "-D", data_dir_.string(), "-m", "immediate", "-w", "-t", "10"}, 15s);
    if (!result.status.success()) {
      for (pid_t p : process_tree(postmaster)) {
        ::kill(p, SIGKILL);
      }
    }
    running_ = false;
  } catch (const std::exception&) {
    // Called from the destructor, which must not throw; the temp dir is removed regardless.
  }
}

command_result postgres_server::run_tool(const std::string& tool, std::vector<std::string> args,
                                         std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv;
  if (need_user_switch()) {
    argv = {"runuser", "-u", "postgres", "--"};
  }
  argv.push_back((bin_dir_ / tool).string());
  argv.insert(argv.end(), args.begin(), args.end());
  child_options options{argv, minimal_env({{"LC_ALL", "C"}}), dir_.path(), dir_.path(), tool, {}};
  return run_command(std::move(options), timeout);
}

void postgres_server::start() {
  if (running_) {
    return;
  }
  std::string server_options = "-p " + std::to_string(port_) + " -k " + socket_dir_.string() +
                               " -c listen_addresses=127.0.0.1"
                               // Durability is pointless for a throwaway cluster and costs time.
                               " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  if (options_.tls) {
    server_options += " -c ssl=on -c ssl_cert_file=" + (dir_ / "tls" / "server.crt").string() +
                      " -c ssl_key_file=" + (dir_ / "tls" / "server.key").string();
  }
  if (options_.max_connections) {
    server_options += " -c max_connections=" + std::to_string(*options_.max_connections) +
                      " -c superuser_reserved_connections=0";
  }
  if (options_.log_statements) {
    // pg_stat_database lags by up to 10 s; a log line per statement can be counted right after a burst.
    server_options += " -c log_min_duration_statement=0";
  }
  auto result = run_tool("pg_ctl", {"start", "-D", data_dir_.string(), "-l", log_file_.string(), "-w", "-t",
                                    "30", "-o", server_options},
                         40s);
  if (!result.status.success()) {
    throw std::runtime_error(describe_failure("pg_ctl start", result) + "\nlog: " + log_text());
  }
  running_ = true;
  paused_ = false;
  auto ready = run_tool("pg_isready", {"-h", "127.0.0.1", "-p", std::to_string(port_), "-t", "10"}, 15s);
  if (!ready.status.success()) {
    throw std::runtime_error(describe_failure("pg_isready", ready) + "\nlog: " + log_text());
  }
}

void postgres_server::stop() {
  if (!running_) {
    return;
  }
  resume();
  auto result = run_tool("pg_ctl", {"stop", "-D", data_dir_.string(), "-m", "fast", "-w", "-t", "30"}, 40s);
  if (!result.status.success()) {
    throw std::runtime_error(describe_failure("pg_ctl stop", result));
  }
  running_ = false;
}

void postgres_server::crash() {
  if (!running_) {
    return;
  }
  std::ifstream pid_file(data_dir_ / "postmaster.pid");
  std::vector<std::string> lines;
  for (std::string line; std::getline(pid_file, line);) {
    lines.push_back(line);
  }
  const auto processes = process_tree(pid());
  for (pid_t p : processes) {
    ::kill(p, SIGKILL);
  }
  for (pid_t p : processes) {
    for (int i = 0; i < 500 && process_alive(p); ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  // A postmaster removes a dead predecessor's lock files and shared memory itself, unless that
  // predecessor is a zombie nobody reaps (an init that does not reap orphans): kill(pid, 0) still
  // succeeds then. So clean up as the next postmaster would have. Line 7 is "<shm key> <shm id>".
  if (lines.size() >= 7) {
    std::istringstream shm(lines[6]);
    long key = 0;
    int id = -1;
    if (shm >> key >> id && id >= 0) {
      ::shmctl(id, IPC_RMID, nullptr);
    }
  }
  std::error_code ignored;
  fs::remove(data_dir_ / "postmaster.pid", ignored);
  fs::remove(socket_dir_ / (".s.PGSQL." + std::to_string(port_) + ".lock"), ignored);
  running_ = false;
  paused_ = false;
}

void postgres_server::set_host_auth(const std::string& method) {
  const auto hba = data_dir_ / "pg_hba.conf";
  std::istringstream in(read_file(hba));
  std::string rewritten;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("host", 0) == 0) {
      // "host  database  user  address  method": the method is the last field.
      line = line.substr(0, line.find_last_of(" \t") + 1) + method;
    }
    rewritten += line + "\n";
  }
  // In place: the file keeps its owner (postgres) and mode.
  std::ofstream(hba, std::ios::trunc) << rewritten;
  auto result = run_tool("pg_ctl", {"reload", "-D", data_dir_.string()}, 15s);
  if (!result.status.success()) {
    throw std::runtime_error(describe_failure("pg_ctl reload", result));
  }
}

void postgres_server::restart() {
  stop();
  start();
}

pid_t postgres_server::pid() const {
  std::ifstream in(data_dir_ / "postmaster.pid");
  pid_t pid = -1;
  if (!(in >> pid)) {
    throw std::runtime_error("PostgreSQL is not running: no postmaster.pid in " + data_dir_.string());
  }
  return pid;
}

std::vector<pid_t> postgres_server::signal_all(int sig) const {
  auto pids = process_tree(pid());
  // The postmaster first (process_tree lists parents first), so it cannot fork a backend that
  // escapes a SIGSTOP.
  for (pid_t p : pids) {
    ::kill(p, sig);
  }
  return pids;
}

void postgres_server::pause() {
  if (running_ && !paused_) {
    signal_all(SIGSTOP);
    // Again: a backend forked between listing the processes and stopping the postmaster is caught now.
    auto pids = signal_all(SIGSTOP);
    paused_ = true;
    if (!wait_until_stopped(pids, 5s)) {
      throw std::runtime_error("PostgreSQL processes did not stop after SIGSTOP");
    }
  }
}

void postgres_server::resume() {
  if (running_ && paused_) {
    auto pids = signal_all(SIGCONT);
    paused_ = false;
    if (!wait_until_running(pids, 5s)) {
      throw std::runtime_error("PostgreSQL processes did not continue after SIGCONT");
    }
  }
}

std::string postgres_server::url() const {
  std::string credentials = options_.user;
  if (options_.password) {
    credentials += ":" + *options_.password;
  }
  return "postgresql://" + credentials + "@127.0.0.1:" + std::to_string(port_) + "/" + options_.database;
}

void postgres_server::make_certificates() {
  const auto tls = dir_ / "tls";
  fs::create_directory(tls);
  const auto openssl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    const auto result = run_command(child_options{args, minimal_env(), tls, tls, "openssl", {}}, 30s);
    if (!result.status.success()) {
      throw std::runtime_error(describe_failure("openssl " + args.at(1), result));
    }
  };
  const std::vector<std::string> ec_key{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  for (const std::string name : {"ca", "other-ca"}) {
    std::vector<std::string> args{"req", "-x509", "-days", "2", "-subj", "/CN=dockerflow test " + name};
    args.insert(args.end(), ec_key.begin(), ec_key.end());
    args.insert(args.end(), {"-keyout", name + ".key", "-out", name + ".pem"});
    openssl(args);
  }
  std::vector<std::string> request{"req", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"};
  request.insert(request.end(), ec_key.begin(), ec_key.end());
  openssl(request);
  std::ofstream(tls / "san.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  openssl({"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
           "-extfile", "san.ext", "-out", "server.crt"});
  // The server refuses a key that others can read, and reads it as the postgres user.
  fs::permissions(tls / "server.key", fs::perms::owner_read | fs::perms::owner_write);
  give_to_postgres(tls / "server.key");
  give_to_postgres(tls / "server.crt");
  fs::permissions(tls, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                           fs::perms::group_read | fs::perms::others_read);
}

std::size_t postgres_server::statements_logged(const std::string& text) const {
  const auto log = log_text();
  std::size_t count = 0;
  for (std::size_t at = 0; (at = log.find("statement: ", at)) != std::string::npos; ++at) {
    const auto end = log.find('\n', at);
    if (log.substr(at, end - at).find(text) != std::string::npos) ++count;
  }
  return count;
}

std::string postgres_server::log_text() const {
  return read_file(log_file_);
}

} // namespace dockerflow::test
