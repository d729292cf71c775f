// The reference Dockerflow service: the Dockerflow routes and the checks its environment names
// (DATABASE_URL, REDIS_URL). A service of your own registers its routes and checks here.
#include <dockerflow/service.hpp>

int main(int argc, char** argv) {
  dockerflow::service_main(argc, argv, "dockerflow-app", [](dockerflow::service& svc) {
    for (auto& c : dockerflow::environment_checks(svc.settings())) svc.add_check(std::move(c));
    // Register your own checks and routes here, e.g.
    //   svc.add_check(std::make_unique<disk_space_check>());
    //   svc.router().add("GET", "/api/items", list_items);
  });
}
