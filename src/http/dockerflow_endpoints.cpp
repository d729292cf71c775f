#include <dockerflow/http/dockerflow_endpoints.hpp>
#include <dockerflow/health/report_json_memo.hpp>

#include <memory>
#include <stdexcept>

namespace dockerflow {
namespace {

http_response no_store(unsigned status, std::string content_type, std::string body) {
  return http_response{status, std::move(content_type), std::move(body), {{"Cache-Control", "no-store"}}};
}

}  // namespace

bool bearer_token_matches(std::string_view authorization, std::string_view token) noexcept {
  constexpr std::string_view scheme = "Bearer ";
  const auto offered = authorization.starts_with(scheme) ? authorization.substr(scheme.size()) : std::string_view();
  // Every byte of the token is compared whatever the offered text; only the token's own length shows.
  unsigned char difference = offered.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < token.size(); ++i) {
    const auto offered_byte = i < offered.size() ? static_cast<unsigned char>(offered[i]) : 0;
    difference = static_cast<unsigned char>(difference | (offered_byte ^ static_cast<unsigned char>(token[i])));
  }
  return difference == 0 && !token.empty();
}

void add_dockerflow_routes(router& routes, const version_info& version, heartbeat& beat, const lifecycle& life,
                           metrics& measure, const dockerflow_routes_options& options) {
  // The load balancer's probe: never waits on a dependency, and fails only to take the instance out
  // of rotation before it stops.
  routes.add_get("/__lbheartbeat__", [&life](const http_request&, responder respond) {
    respond(no_store(life.draining() ? 503 : 200, "text/plain", ""));
  });

  routes.add_get("/__version__", [&version](const http_request&, responder respond) {
    respond(no_store(200, "application/json", version.raw));
  });

  auto rendered = std::make_shared<report_json_memo>();
  routes.add_get("/__heartbeat__", [&beat, &measure, options, rendered](const http_request& request, responder respond) {
    const bool details = !options.details_token || bearer_token_matches(request.authorization, *options.details_token);
    beat.async_run(
        [respond = std::move(respond), &measure, rendered, details,
         failed = options.heartbeat_failed_status](heartbeat_report report) {
          const auto status = report.http_status(failed);
          measure.heartbeat(status == 200);
          respond(no_store(status, "application/json", rendered->json(report, details)));
        },
        query_values(request.query, "exclude"));
  });

  if (options.error_endpoint) {
    // Alerting is only trusted once it has been seen to fire: this goes through the server's own
    // error path (500, an error-level request.error line) exactly as a real bug would.
    routes.add_get("/__error__", [](const http_request&, responder) {
      throw std::runtime_error("deliberate internal error from /__error__ (DOCKERFLOW_ERROR_ENDPOINT=1)");
    });
  }
}

}  // namespace dockerflow
