#include <dockerflow/http/server.hpp>
#include <dockerflow/http/dockerflow_endpoints.hpp>
#include <dockerflow/http/request_id.hpp>
#include <dockerflow/http/response_head.hpp>

#include "answer_slot.hpp"
#include "connection_registry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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

// One request as the handler, the answer and the request.summary line need it. A session keeps one
// for all its requests, so its strings keep their storage from request to request.
struct exchange {
  http_request request;   // its path is the path to route on, or the raw target when not routable
  bool routable = false;  // false for targets we do not serve
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
// Sets `path` and returns true for the accepted forms.
bool set_path(std::string_view target, std::string& path) {
  const auto path_end = [](std::string_view t) {
    return std::find_if(t.begin(), t.end(), [](char c) { return c == '?' || c == '#'; });
  };
  if (target.starts_with('/')) {
    path.assign(target.begin(), path_end(target));
    return true;
  }
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!target.starts_with(scheme)) continue;
    const auto rest = target.substr(scheme.size());
    const auto slash = std::find_if(rest.begin(), rest.end(), [](char c) { return c == '/' || c == '?' || c == '#'; });
    if (slash == rest.end() || *slash != '/') {
      path.assign("/");
      return true;
    }
    const auto from_slash = rest.substr(static_cast<std::size_t>(slash - rest.begin()));
    path.assign(from_slash.begin(), path_end(from_slash));
    return true;
  }
  return false;
}

void describe(const http::request<http::empty_body>& request, request_id_generator& ids, exchange& e) {
  const auto target = std::string_view(request.target());
  auto& r = e.request;
  r.method.assign(request.method_string());
  e.routable = set_path(target, r.path);
  if (!e.routable) r.path.assign(target);
  r.request_id = choose_request_id(request["X-Request-ID"], ids);
  r.query.clear();
  if (const auto mark = target.find('?'); mark != std::string_view::npos) {
    const auto query = target.substr(mark + 1);
    r.query.assign(query.substr(0, query.find('#')));
  }
  r.authorization.assign(request[http::field::authorization]);
  r.body.clear();
  r.headers = nullptr;
  e.agent.assign(request[http::field::user_agent]);
  e.lang.assign(request[http::field::accept_language]);
  e.version = request.version();
  e.head = request.method() == http::verb::head;
  e.keep_alive = request.keep_alive();
  e.status = 0;
  e.error = 0;
}

// A refused request closes the connection: what follows it on the wire cannot be trusted.
http_response refuse(exchange& e, detail::connection& c, unsigned status) {
  e.keep_alive = false;
  c.refused = true;
  return router::error_response(status, reason_for(status));
}

}  // namespace

struct server::impl {
  impl(asio::io_context& io_, const router& routes_, const mozlog& log_, lifecycle& life_, metrics& measure_,
       server_options options_)
      : io(io_), routes(routes_), log(log_), life(life_), measure(measure_), options(options_),
        acceptor(asio::make_strand(io_)), sweeper(asio::make_strand(io_)) {}

  asio::io_context& io;
  const router& routes;
  const mozlog& log;
  lifecycle& life;
  metrics& measure;
  server_options options;
  tcp::acceptor acceptor;  // used only on its strand once start() has run
  asio::steady_timer sweeper;
  std::shared_ptr<detail::connection_registry> connections = std::make_shared<detail::connection_registry>();
  std::mutex ids_mutex;
  request_id_generator ids;
  std::atomic<bool> stopping{false};
  std::atomic<bool> accepting{false};

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> sweep_loop();
  asio::any_io_executor connection_executor();
  asio::awaitable<void> session(std::shared_ptr<detail::connection> c, detail::connection_registry::registration);
  asio::awaitable<bool> wait_for_request(detail::connection& c, beast::flat_buffer& buffer);
  asio::awaitable<void> discard_input(detail::connection& c);
  asio::awaitable<bool> serve_one(detail::connection& c, beast::flat_buffer& buffer, request_parser& parser,
                                  exchange& e);
  std::optional<beast::error_code> feed_header(request_parser& parser, beast::flat_buffer& buffer,
                                               std::size_t& consumed) const;
  asio::awaitable<beast::error_code> read_header(detail::connection& c, beast::flat_buffer& buffer,
                                                 request_parser& parser, std::size_t consumed);
  std::shared_ptr<detail::answer_slot> dispatch(const http_request& request, const asio::any_io_executor& executor);
  asio::awaitable<http_response> later_answer(detail::answer_slot& slot);
  std::array<asio::const_buffer, 2> write_at_once(detail::connection& c, const http_response& response, bool head_only,
                                                  beast::error_code& ec);
  asio::awaitable<beast::error_code> write_rest(detail::connection& c, std::array<asio::const_buffer, 2> rest);
  bool accepts_body(const request_parser& parser, const exchange& e) const;
  asio::awaitable<beast::error_code> read_body(detail::connection& c, beast::flat_buffer& buffer,
                                               request_parser& header, const exchange& e,
                                               std::optional<http::request<http::string_body>>& message);
  void describe_locked(const http::request<http::empty_body>& request, exchange& e);
  std::chrono::microseconds count(const exchange& e, clock_type::time_point started) const;
  bool quiet(const exchange& e) const;
  void log_summary(const exchange& e, std::chrono::microseconds took) const;
};

asio::awaitable<void> server::impl::accept_loop() {
  asio::steady_timer backoff(acceptor.get_executor());
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(connection_executor(), nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {  // e.g. out of file descriptors: keep serving the connections we have
      log.error("server.accept", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(nothrow);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.non_blocking(true, ignored);  // write_answer's first try must never block the loop
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

// Timeouts are enforced by this sweep, so they are exact to within its period. It ends once the
// server has stopped and its last connection has closed: an io_context that only this server uses
// then runs out of work.
asio::awaitable<void> server::impl::sweep_loop() {
  constexpr auto period = std::chrono::milliseconds(250);
  for (;;) {
    sweeper.expires_after(period);
    auto [ec] = co_await sweeper.async_wait(nothrow);
    if (ec) co_return;  // the server is being destroyed: touch nothing of it
    if (stopping && !accepting && connections->size() == 0) co_return;
    connections->cancel_expired(clock_type::now());
  }
}

// Each connection gets its own strand, so its session and the stop, drain and sweep posts never run
// concurrently; with one loop thread nothing runs concurrently, and the strand would only cost.
asio::any_io_executor server::impl::connection_executor() {
  if (options.loop_threads == 1) return io.get_executor();
  return asio::make_strand(io);
}

asio::awaitable<void> server::impl::session(std::shared_ptr<detail::connection> c,
                                            detail::connection_registry::registration) {
  // Kept for the whole connection: each request reuses their storage, and serve_one's coroutine
  // frame stays small enough for Asio's frame cache (about 1 KiB) instead of a fresh allocation.
  beast::flat_buffer buffer;
  std::optional<request_parser> parser;
  exchange e;
  while (co_await wait_for_request(*c, buffer)) {
    if (!co_await serve_one(*c, buffer, parser.emplace(), e)) break;
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
  c.deadline.expires_after(std::chrono::seconds(2));
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
  c.deadline.expires_after(options.idle_timeout);
  // Straight on the socket: the stream's own timeout machinery is unused (see deadline) and costs.
  auto [ec, n] = co_await c.stream.socket().async_read_some(buffer.prepare(4096), nothrow);
  if (ec) co_return false;
  buffer.commit(n);
  co_return true;
}

asio::awaitable<bool> server::impl::serve_one(detail::connection& c, beast::flat_buffer& buffer,
                                              request_parser& parser, exchange& e) {
  const auto started = clock_type::now();
  // Until the route is known, accept a Content-Length up to the largest any route takes (0 when none
  // does: the Dockerflow routes refuse bodies from the header alone).
  parser.body_limit(routes.largest_body_limit());

  c.phase = detail::connection_phase::reading;
  // Nearly always the whole header is already in the buffer: then there is nothing to wait for.
  std::size_t consumed = 0;
  beast::error_code read_ec;
  if (const auto fed = feed_header(parser, buffer, consumed)) {
    read_ec = *fed;
  } else {
    read_ec = co_await read_header(c, buffer, parser, consumed);
  }
  // Until here stop() may cut the connection: a half-sent request is not worth waiting for.
  c.phase = detail::connection_phase::busy;
  c.deadline.expires_never();  // a handler takes what it takes; the heartbeat bounds its own
  // Also for refusals: whatever of the header was parsed (a body_limit error comes before the header
  // counts as done) identifies the request in the answer and the log.
  describe_locked(parser.get(), e);
  http_response response;
  if (read_ec) {
    const auto status = status_for_read_error(read_ec);
    if (!status) co_return false;  // timed out, reset or closed: nobody to answer
    e.error = read_ec.value();
    response = refuse(e, c, *status);
  } else if (!e.routable) {
    response = refuse(e, c, 400);
  } else if (!parser.is_done() && !accepts_body(parser, e)) {
    response = refuse(e, c, 413);
  } else {
    // With a body, the header parser hands its message over to the body parser. On the heap: rare,
    // and large for the coroutine frame.
    std::unique_ptr<std::optional<http::request<http::string_body>>> with_body;
    if (!parser.is_done()) {
      with_body = std::make_unique<std::optional<http::request<http::string_body>>>();
      const auto body_ec = co_await read_body(c, buffer, parser, e, *with_body);
      if (body_ec) {
        const auto status = status_for_read_error(body_ec);
        if (!status) co_return false;
        e.error = body_ec.value();
        response = refuse(e, c, *status);
      }
    }
    if (!c.refused) {
      const auto& message = with_body ? with_body->value().base() : parser.get().base();
      const beast_headers headers(message);
      if (with_body) e.request.body = std::move(with_body->value().body());
      e.request.headers = &headers;
      auto slot = dispatch(e.request, c.stream.get_executor());
      // Most handlers answer during their call: then there is nothing to wait for.
      if (auto early = slot->take_early()) {
        response = std::move(*early);
      } else {
        response = co_await later_answer(*slot);
      }
      e.request.headers = nullptr;  // the parser that holds them may be gone before the log line
    }
  }

  e.status = response.status;
  // While draining, keep-alive clients are sent elsewhere: the balancer is taking this instance out.
  e.keep_alive = e.keep_alive && !life.draining() && !stopping;
  // One write per answer: the head, rendered into the connection's reused buffer, and the body.
  const response_framing framing{e.version, e.keep_alive, e.request.request_id};
  c.head.clear();
  render_response_head(response, framing, c.head);
  // Before the write: a client holding its answer (a monitor scraping right after a probe) must
  // already find it counted.
  const auto took = count(e, started);
  beast::error_code write_ec;
  const auto rest = write_at_once(c, response, e.head, write_ec);
  if (!write_ec && asio::buffer_size(rest) > 0) write_ec = co_await write_rest(c, rest);
  if (write_ec) e.error = write_ec.value();
  if (!quiet(e)) log_summary(e, took);
  c.phase = detail::connection_phase::idle;
  co_return e.keep_alive && !write_ec;
}

// Nearly every answer fits in the socket's send buffer: written at once, it needs no wait and no
// timer. Returns what is left to write (usually nothing).
std::array<asio::const_buffer, 2> server::impl::write_at_once(detail::connection& c, const http_response& response,
                                                              bool head_only, beast::error_code& ec) {
  std::array<asio::const_buffer, 2> answer{asio::buffer(c.head), asio::const_buffer()};
  if (!head_only && status_allows_body(response.status)) answer[1] = asio::buffer(response.body);
  auto written = c.stream.socket().write_some(answer, ec);  // the socket is non-blocking
  if (ec == asio::error::would_block) ec = {};
  for (auto& part : answer) {
    const auto done = std::min(written, part.size());
    part += done;
    written -= done;
  }
  return answer;
}

// What did not fit is written asynchronously under the write timeout.
asio::awaitable<beast::error_code> server::impl::write_rest(detail::connection& c,
                                                            std::array<asio::const_buffer, 2> rest) {
  c.deadline.expires_after(options.write_timeout);
  auto [ec, n] = co_await asio::async_write(c.stream, rest, nothrow);
  co_return ec;
}

void server::impl::describe_locked(const http::request<http::empty_body>& request, exchange& e) {
  const std::lock_guard lock(ids_mutex);
  describe(request, ids, e);
}

// Beast's own read loop consumes complete header lines as they arrive and checks header_limit only
// against what is still unconsumed, so headers sent line by line could grow past it. Feeding the parser
// here keeps a running total (`consumed`) and enforces the limit on the whole header. nullopt: the
// header needs bytes that have not arrived yet.
std::optional<beast::error_code> server::impl::feed_header(request_parser& parser, beast::flat_buffer& buffer,
                                                           std::size_t& consumed) const {
  if (buffer.size() == 0) return std::nullopt;
  if (consumed >= options.header_limit) return http::error::header_limit;
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit - consumed));
  beast::error_code ec;
  const auto used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  consumed += used;
  if (parser.is_header_done() || (ec && ec != http::error::need_more)) return ec;
  return std::nullopt;
}

// The rest of a header that did not arrive whole, under the request timeout.
asio::awaitable<beast::error_code> server::impl::read_header(detail::connection& c, beast::flat_buffer& buffer,
                                                             request_parser& parser, std::size_t consumed) {
  c.deadline.expires_after(options.request_timeout);
  for (;;) {
    auto [ec, n] = co_await c.stream.async_read_some(buffer.prepare(4096), nothrow);
    if (ec == asio::error::eof) co_return parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
    if (ec) co_return ec;
    buffer.commit(n);
    if (const auto done = feed_header(parser, buffer, consumed)) co_return *done;
  }
}

// Whether the route takes this request's body: it must announce a length the route allows (or be
// chunked, which the body parser bounds as it reads).
bool server::impl::accepts_body(const request_parser& parser, const exchange& e) const {
  const auto limit = routes.body_limit(e.request.method, e.request.path);
  if (limit == 0) return false;
  const auto length = parser.content_length();
  return !length || *length <= limit;
}

asio::awaitable<beast::error_code> server::impl::read_body(detail::connection& c, beast::flat_buffer& buffer,
                                                           request_parser& header, const exchange& e,
                                                           std::optional<http::request<http::string_body>>& message) {
  http::request_parser<http::string_body> parser(std::move(header));
  parser.body_limit(routes.body_limit(e.request.method, e.request.path));
  c.deadline.expires_after(options.request_timeout);
  auto [ec, n] = co_await http::async_read(c.stream, buffer, parser, nothrow);
  if (!ec) message = parser.release();
  co_return ec;
}

// Calls the route's handler; its answer may already be in the slot when this returns.
std::shared_ptr<detail::answer_slot> server::impl::dispatch(const http_request& request,
                                                            const asio::any_io_executor& executor) {
  auto slot = std::make_shared<detail::answer_slot>(executor);
  try {
    routes.dispatch(request, [slot](http_response response) { slot->give(std::move(response)); });
  } catch (const std::exception& ex) {
    log.error("request.error", {{"path", request.path}, {"error", ex.what()}});
    slot->give(router::error_response(500, "Internal Server Error"));  // unless it answered before throwing
  }
  return slot;
}

// For answers that come after the handler's call returned; the caller keeps the slot alive until
// then. Only trivially destructible values go into the co_await expression: g++ 12 may destroy its
// temporaries twice, and a second shared_ptr release would free the slot early.
asio::awaitable<http_response> server::impl::later_answer(detail::answer_slot& slot) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(http_response)>(
      [waiting = &slot](auto resume) { waiting->wait(std::move(resume)); }, asio::use_awaitable);
}

// Returns the time from the request's arrival to its answer, which the log line reports too.
std::chrono::microseconds server::impl::count(const exchange& e, clock_type::time_point started) const {
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started);
  // Named by route, never by the raw path: a client must not be able to mint metric names.
  const auto route = e.routable ? routes.route_name(e.request.path) : std::nullopt;
  measure.request(route.value_or("other"), e.status, took);
  return took;
}

// Probes are most of a service's log volume; DOCKERFLOW_LOG_PROBES trims only theirs.
bool server::impl::quiet(const exchange& e) const {
  if (options.log_probes == probe_logging::all || !e.routable) return false;
  const bool probe = std::find(dockerflow_probe_paths.begin(), dockerflow_probe_paths.end(), e.request.path) !=
                     dockerflow_probe_paths.end();
  if (!probe) return false;
  return options.log_probes == probe_logging::none || e.status < 400;
}

void server::impl::log_summary(const exchange& e, std::chrono::microseconds took) const {
  if (!log.enabled(level::info)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  // Bounded so a client cannot make every log line kilobytes long.
  const auto clip = [](const std::string& value) { return std::string_view(value).substr(0, 256); };
  // Written directly, without a JSON object: this line is logged for every request.
  log.write(level::info, "request.summary",
            {{"method", clip(e.request.method)},
             {"path", clip(e.request.path)},
             {"code", static_cast<std::int64_t>(e.status)},
             {"errno", static_cast<std::int64_t>(e.error)},
             {"t", static_cast<std::int64_t>(ms)},
             {"rid", std::string_view(e.request.request_id)},
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
  asio::co_spawn(impl_->sweeper.get_executor(), impl_->sweep_loop(), asio::detached);
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
