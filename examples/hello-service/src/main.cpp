// hello-service: a Dockerflow service of its own, built against the installed dockerflow package.
// The library gives it /__lbheartbeat__, /__version__, /__heartbeat__, the drain on SIGTERM, mozlog
// and metrics; it adds one API (items.hpp) and one check (items_table_check.hpp).
#include "items.hpp"
#include "items_table_check.hpp"

#include <dockerflow/service.hpp>

#include <chrono>
#include <memory>

int main(int argc, char** argv) {
  dockerflow::service_main(argc, argv, "hello-service", [](dockerflow::service& svc) {
    const auto& database_url = svc.settings().database_url;
    if (!database_url) throw dockerflow::config_error("DATABASE_URL is unset: hello-service keeps its items in PostgreSQL");
    for (auto& c : dockerflow::environment_checks(svc.settings())) svc.add_check(std::move(c));
    svc.add_check(std::make_unique<hello::items_table_check>(*database_url));
    // Inside the stop budget: a request in flight at SIGTERM is answered before the service exits.
    hello::add_item_routes(svc.router(), *database_url, std::chrono::seconds(2));
  });
}
