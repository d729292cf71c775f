#pragma once

#include <dockerflow/http/router.hpp>

#include <chrono>
#include <string>

namespace hello {

// The application's own API, on PostgreSQL (the table is created on first use):
//   GET  /api/items       200, the items as a JSON array, oldest first (the first 1000: a real API pages)
//   POST /api/items       {"name": "…"} → 201 with the created item and its Location; invalid JSON or
//                         name → 400; a body over 64 KiB → 413 (the server refuses it unread)
//   GET  /api/items/<id>  200 with the item, 404 when there is none
// Every answer is JSON. Queries never run on the event loop (see db_worker); when the database fails
// or does not answer within `timeout`, the answer is 503.
void add_item_routes(dockerflow::router& routes, const std::string& database_url, std::chrono::milliseconds timeout);

}  // namespace hello
