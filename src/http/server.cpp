#include <dockerflow/http/server.hpp>
#include <dockerflow/http/dockerflow_endpoints.hpp>
#include <dockerflow/http/request_id.hpp>

#include "connection_registry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

namespace dockerflow {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
using request_parser = http::request_parser<http::empty_body>;

// The handler's view of the request headers, valid while the parser that holds them is.
class beast_headers final : public request_headers {
 public:
  explicit beast_headers(const http::fields& fields) : fields_(fields) {}
  std::optional<std::string_view> find(std::string_view name) const override {
    const auto it = fields_.find(name);
    if (it == fields_.end()) return std::nullopt;
    return std::string_view(it->value());
  }

 private:
  const http::fields& fields_;
};

// One request as the answer and the request.summary line need it.
struct exchange {
  std::string method;
  std::string path;
  std::optional<std::string> route;  // the path to route on; empty for targets we do not serve
  std::string request_id;
  std::string query;
  std::string authorization;
  std::string agent;
  std::string lang;
  unsigned version = 11;
  bool head = false;
  bool keep_alive = false;
  unsigned status = 0;
  int error = 0;
};

// Protocol errors get an answer; transport errors (timeouts, resets, a closed connection) end quietly.
std::optional<unsigned> status_for_read_error(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) return 400;
  return std::nullopt;
}

std::string_view reason_for(unsigned status) {
  return http::obsolete_reason(static_cast<http::status>(status));
}

// Routing uses the path only. Origin form ("/p?q") and, as RFC 9112 requires of servers, absolute
// form ("http://host/p") are accepted; authority ("host:port") and asterisk ("*") forms are refused.
std::optional<std::string> path_of(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!target.starts_with(scheme)) continue;
    const auto slash = target.find_first_of("/?#", scheme.size());
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    if (!target.starts_with('/')) return std::string("/");
  }
  if (!target.starts_with('/')) return std::nullopt;
  return std::string(target.substr(0, target.find_first_of("?#")));
}

exchange describe(const http::request<http::empty_body>& request, request_id_generator& ids) {
  exchange e;
  e.method = std::string(request.method_string());
  e.route = path_of(request.target());
  e.path = e.route.value_or(std::string(request.target()));
  e.request_id = choose_request_id(request["X-Request-ID"], ids);
  if (const auto target = std::string_view(request.target()); target.find('?') != std::string_view::npos) {
    const auto query = target.substr(target.find('?') + 1);
    e.query = std::string(query.substr(0, query.find('#')));
  }
  e.authorization = std::string(request[http::field::authorization]);
  e.agent = std::string(request[http::field::user_agent]);
  e.lang = std::string(request[http::field::accept_language]);
  e.version = request.version();
  e.head = request.method() == http::verb::head;
  e.keep_alive = request.keep_alive();
  return e;
}

// A refused request closes the connection: what follows it on the wire cannot be trusted.
http_response refuse(exchange& e, detail::connection& c, unsigned status) {
  e.keep_alive = false;
  c.refused = true;
  return router::error_response(status, reason_for(status));
}

http::response<http::string_body> to_beast(http_response&& response, const exchange& e) {
  http::response<http::string_body> message{static_cast<http::status>(response.status), e.version};
  if (!response.content_type.empty()) message.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) message.set(name, value);
  message.set("X-Content-Type-Options", "nosniff");
  if (!e.request_id.empty()) message.set("X-Request-ID", e.request_id);
  message.keep_alive(e.keep_alive);
  message.body() = std::move(response.body);
  message.prepare_payload();
  if (e.head) message.body().clear();  // Content-Length still tells the GET size
  return message;
}

}  // namespace

struct server::impl {
  impl(asio::io_context& io_, const router& routes_, const mozlog& log_, lifecycle& life_, metrics& measure_,
       server_options options_)
      : io(io_), routes(routes_), log(log_), life(life_), measure(measure_), options(options_),
        acceptor(asio::make_strand(io_)) {}

  asio::io_context& io;
  const router& routes;
  const mozlog& log;
  lifecycle& life;
  metrics& measure;
  server_options options;
  tcp::acceptor acceptor;  // used only on its strand once start() has run
  std::shared_ptr<detail::connection_registry> connections = std::make_shared<detail::connection_registry>();
  std::mutex ids_mutex;
  request_id_generator ids;
  std::atomic<bool> stopping{false};
  std::atomic<bool> accepting{false};

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(std::shared_ptr<detail::connection> c, detail::connection_registry::registration);
  asio::awaitable<bool> wait_for_request(detail::connection& c, beast::flat_buffer& buffer);
  asio::awaitable<void> discard_input(detail::connection& c);
  asio::awaitable<bool> serve_one(detail::connection& c, beast::flat_buffer& buffer);
  asio::awaitable<beast::error_code> read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                 request_parser& parser);
  asio::awaitable<http_response> dispatch(const http_request& request);
  bool accepts_body(const request_parser& parser, const exchange& e) const;
  asio::awaitable<beast::error_code> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                               request_parser& header, const exchange& e,
                                               std::optional<http::request<http::string_body>>& message);
  exchange describe_locked(const http::request<http::empty_body>& request);
  void record(const exchange& e, clock_type::time_point started) const;
  bool quiet(const exchange& e) const;
  void log_summary(const exchange& e, std::chrono::microseconds took) const;
};

asio::awaitable<void> server::impl::accept_loop() {
  asio::steady_timer backoff(acceptor.get_executor());
  while (acceptor.is_open()) {
    // Each connection gets its own strand: its session and its stream's timer never run concurrently.
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {  // e.g. out of file descriptors: keep serving the connections we have
      log.error("server.accept", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(nothrow);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Registered before the session starts, so a stop never sees "no connections" while one is accepted.
    auto c = std::make_shared<detail::connection>(std::move(socket));
    auto registration = connections->add(c);
    const auto executor = c->stream.get_executor();
    asio::co_spawn(executor, session(std::move(c), std::move(registration)), [this](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log.error("server.session", {{"error", ex.what()}});
      }
    });
  }
  accepting = false;
}

asio::awaitable<void> server::impl::session(std::shared_ptr<detail::connection> c,
                                            detail::connection_registry::registration) {
  beast::flat_buffer buffer;
  while (co_await wait_for_request(*c, buffer)) {
    if (!co_await serve_one(*c, buffer)) break;
  }
  beast::error_code ignored;
  c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (c->refused) co_await discard_input(*c);
}

// A refused request (400, 413, 431) may be followed by bytes we never read. Closing a socket with
// unread input makes the kernel send RST, which can destroy our answer before the client read it. So
// after the answer and our FIN, read and drop what the client still sends, within bounds, until it closes.
asio::awaitable<void> server::impl::discard_input(detail::connection& c) {
  constexpr std::size_t limit = 16 * 1024 * 1024;  // at loopback or LAN speed well inside the 2 s
  c.phase = detail::connection_phase::idle;  // a drain or stop may cut this short
  c.stream.expires_after(std::chrono::seconds(2));
  std::array<char, 16 * 1024> sink;
  for (std::size_t discarded = 0; discarded < limit;) {
    auto [ec, n] = co_await c.stream.async_read_some(asio::buffer(sink), nothrow);
    if (ec) break;
    discarded += n;
  }
}

// Keep-alive connections wait here for their next request under the (long) idle timeout; the
// request itself then has to arrive within the (short) request timeout.
asio::awaitable<bool> server::impl::wait_for_request(detail::connection& c, beast::flat_buffer& buffer) {
  const bool kept_alive = c.phase != detail::connection_phase::fresh;
  // Checked here as well as by drain()/stop()'s cancel, which may have reached this strand while the
  // previous answer was still being written.
  if (stopping) co_return false;
  if (buffer.size() > 0) co_return true;  // pipelined bytes already here: answered, with Connection: close if draining
  if (kept_alive && life.draining()) co_return false;
  if (kept_alive) c.phase = detail::connection_phase::idle;
  c.stream.expires_after(options.idle_timeout);
  auto [ec, n] = co_await c.stream.async_read_some(buffer.prepare(4096), nothrow);
  if (ec) co_return false;
  buffer.commit(n);
  co_return true;
}

asio::awaitable<bool> server::impl::serve_one(detail::connection& c, beast::flat_buffer& buffer) {
  auto& stream = c.stream;
  const auto started = clock_type::now();
  request_parser parser;
  // Until the route is known, accept a Content-Length up to the largest any route takes (0 when none
  // does: the Dockerflow routes refuse bodies from the header alone).
  parser.body_limit(routes.largest_body_limit());

  c.phase = detail::connection_phase::reading;
  stream.expires_after(options.request_timeout);
  const auto read_ec = co_await read_header(stream, buffer, parser);
  // Until here stop() may cut the connection: a half-sent request is not worth waiting for.
  c.phase = detail::connection_phase::busy;
  // Also for refusals: whatever of the header was parsed (a body_limit error comes before the header
  // counts as done) identifies the request in the answer and the log.
  exchange e = describe_locked(parser.get());
  http_response response;
  if (read_ec) {
    const auto status = status_for_read_error(read_ec);
    if (!status) co_return false;  // timed out, reset or closed: nobody to answer
    e.error = read_ec.value();
    response = refuse(e, c, *status);
  } else if (!e.route) {
    response = refuse(e, c, 400);
  } else if (!parser.is_done() && !accepts_body(parser, e)) {
    response = refuse(e, c, 413);
  } else {
    // With a body, the header parser hands its message over to the body parser.
    std::optional<http::request<http::string_body>> with_body;
    if (!parser.is_done()) {
      const auto body_ec = co_await read_body(stream, buffer, parser, e, with_body);
      if (body_ec) {
        const auto status = status_for_read_error(body_ec);
        if (!status) co_return false;
        e.error = body_ec.value();
        response = refuse(e, c, *status);
      }
    }
    if (!c.refused) {
      const beast_headers headers(with_body ? with_body->base() : parser.get().base());
      std::string body = with_body ? std::move(with_body->body()) : std::string();
      // A named request: g++ 12 mishandles temporaries that live across co_await.
      const http_request routed{e.method, *e.route, e.request_id, e.query, e.authorization, std::move(body), &headers};
      response = co_await dispatch(routed);
    }
  }

  e.status = response.status;
  // While draining, keep-alive clients are sent elsewhere: the balancer is taking this instance out.
  e.keep_alive = e.keep_alive && !life.draining() && !stopping;
  auto message = to_beast(std::move(response), e);
  stream.expires_after(options.write_timeout);
  auto [write_ec, written] = co_await http::async_write(stream, message, nothrow);
  if (write_ec) e.error = write_ec.value();
  record(e, started);
  c.phase = detail::connection_phase::idle;
  co_return e.keep_alive && !write_ec;
}

exchange server::impl::describe_locked(const http::request<http::empty_body>& request) {
  const std::lock_guard lock(ids_mutex);
  return describe(request, ids);
}

// Beast's own read loop consumes complete header lines as they arrive and checks header_limit only
// against what is still unconsumed, so headers sent line by line could grow past it. Feeding the parser
// here keeps a running total and enforces the limit on the whole header.
asio::awaitable<beast::error_code> server::impl::read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                             request_parser& parser) {
  std::size_t consumed = 0;
  for (;;) {
    if (buffer.size() > 0) {
      if (consumed >= options.header_limit) co_return http::error::header_limit;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit - consumed));
      beast::error_code ec;
      const auto used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      consumed += used;
      if (parser.is_header_done() || (ec && ec != http::error::need_more)) co_return ec;
    }
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), nothrow);
    if (ec == asio::error::eof) co_return parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
    if (ec) co_return ec;
    buffer.commit(n);
  }
}

// Whether the route takes this request's body: it must announce a length the route allows (or be
// chunked, which the body parser bounds as it reads).
bool server::impl::accepts_body(const request_parser& parser, const exchange& e) const {
  const auto limit = routes.body_limit(e.method, *e.route);
  if (limit == 0) return false;
  const auto length = parser.content_length();
  return !length || *length <= limit;
}

asio::awaitable<beast::error_code> server::impl::read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                           request_parser& header, const exchange& e,
                                                           std::optional<http::request<http::string_body>>& message) {
  http::request_parser<http::string_body> parser(std::move(header));
  parser.body_limit(routes.body_limit(e.method, *e.route));
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
  if (!ec) message = parser.release();
  co_return ec;
}

asio::awaitable<http_response> server::impl::dispatch(const http_request& request) {
  const auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(http_response)>(
      [&](auto completion) {
        // Completion always goes through post so a handler that answers at once never resumes the
        // coroutine from inside its own initiation.
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        // "Respond exactly once" is a rule handlers can break; a second answer would resume the
        // session twice, so only the first is taken.
        auto answered = std::make_shared<std::atomic<bool>>(false);
        const auto respond = [shared, answered, executor](http_response response) {
          if (answered->exchange(true)) return;
          asio::post(executor, [shared, response = std::move(response)]() mutable { (*shared)(std::move(response)); });
        };
        try {
          routes.dispatch(request, respond);
        } catch (const std::exception& ex) {
          log.error("request.error", {{"path", request.path}, {"error", ex.what()}});
          respond(router::error_response(500, "Internal Server Error"));
        }
      },
      asio::use_awaitable);
}

void server::impl::record(const exchange& e, clock_type::time_point started) const {
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started);
  // Named by route, never by the raw path: a client must not be able to mint metric names.
  const auto route = e.route ? routes.route_name(*e.route) : std::nullopt;
  measure.request(route ? std::string_view(*route) : std::string_view("other"), e.status, took);
  if (!quiet(e)) log_summary(e, took);
}

// Probes are most of a service's log volume; DOCKERFLOW_LOG_PROBES trims only theirs.
bool server::impl::quiet(const exchange& e) const {
  if (options.log_probes == probe_logging::all || !e.route) return false;
  const bool probe = std::find(dockerflow_probe_paths.begin(), dockerflow_probe_paths.end(), *e.route) !=
                     dockerflow_probe_paths.end();
  if (!probe) return false;
  return options.log_probes == probe_logging::none || e.status < 400;
}

void server::impl::log_summary(const exchange& e, std::chrono::microseconds took) const {
  if (!log.enabled(level::info)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  // Bounded so a client cannot make every log line kilobytes long.
  const auto clip = [](const std::string& value) { return value.substr(0, 256); };
  log.info("request.summary", {{"method", clip(e.method)},
                               {"path", clip(e.path)},
                               {"code", e.status},
                               {"errno", e.error},
                               {"t", ms},
                               {"rid", e.request_id},
                               {"agent", clip(e.agent)},
                               {"lang", clip(e.lang)}});
}

server::server(asio::io_context& io, const router& routes, const mozlog& log, lifecycle& life, metrics& measure,
               server_options options)
    : impl_(std::make_unique<impl>(io, routes, log, life, measure, options)) {}

server::~server() = default;

void server::listen(const tcp::endpoint& endpoint) {
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(false));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

tcp::endpoint server::local_endpoint() const { return impl_->acceptor.local_endpoint(); }

void server::start() {
  impl_->accepting = true;
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), [log = &impl_->log](std::exception_ptr e) {
    if (e) log->error("server.accept", {{"error", "accept loop ended unexpectedly"}});
  });
}

void server::drain() {
  impl_->life.begin_drain();
  impl_->connections->cancel_in({detail::connection_phase::idle});
}

void server::stop() {
  impl_->stopping = true;
  asio::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  using detail::connection_phase;
  impl_->connections->cancel_in({connection_phase::fresh, connection_phase::idle, connection_phase::reading});
}

bool server::drained() const { return impl_->stopping && !impl_->accepting && impl_->connections->size() == 0; }

}  // namespace dockerflow
