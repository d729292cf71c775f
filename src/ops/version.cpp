#include <dockerflow/ops/version.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace dockerflow {

version_info parse_version(const std::string& bytes) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception&) {
    throw version_error("not valid JSON");
  }
  if (!doc.is_object()) throw version_error("expected a JSON object");
  version_info info;
  const auto field = [&](const char* name, std::string& out) {
    const auto it = doc.find(name);
    if (it == doc.end()) throw version_error(std::string("missing field \"") + name + "\"");
    if (!it->is_string()) throw version_error(std::string("field \"") + name + "\" must be a string");
    out = it->get<std::string>();
  };
  field("source", info.source);
  field("version", info.version);
  field("commit", info.commit);
  field("build", info.build);
  info.raw = bytes;
  return info;
}

version_info load_version_file(const std::string& path) {
  const auto named = [&](const std::string& why) { return version_error("version file \"" + path + "\": " + why); };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw named("cannot open");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw named("cannot read");
  try {
    return parse_version(bytes.str());
  } catch (const version_error& e) {
    throw named(e.what());
  }
}

}  // namespace dockerflow
