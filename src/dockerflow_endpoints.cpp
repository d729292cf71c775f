#include <dockerflow/dockerflow_endpoints.hpp>

namespace dockerflow {
namespace {

http_response no_store(unsigned status, std::string content_type, std::string body) {
  return http_response{status, std::move(content_type), std::move(body), {{"Cache-Control", "no-store"}}};
}

}  // namespace

void add_dockerflow_routes(router& routes, const version_info& version, heartbeat& beat,
                           unsigned heartbeat_failed_status, const lifecycle& life) {
  // The load balancer's probe: never waits on a dependency, and fails only to take the instance out
  // of rotation before it stops.
  routes.add_get("/__lbheartbeat__", [&life](const http_request&, responder respond) {
    respond(no_store(life.draining() ? 503 : 200, "text/plain", ""));
  });

  routes.add_get("/__version__", [&version](const http_request&, responder respond) {
    respond(no_store(200, "application/json", version.raw));
  });

  routes.add_get("/__heartbeat__", [&beat, heartbeat_failed_status](const http_request&, responder respond) {
    beat.async_run([respond = std::move(respond), heartbeat_failed_status](heartbeat_report report) {
      respond(no_store(report.http_status(heartbeat_failed_status), "application/json", report.to_json()));
    });
  });
}

}  // namespace dockerflow
