/* fuzz_http_request: raw bytes sent to a real evhttp server (http_server.h
 * with a router, as a daemon runs it) over loopback, in process.
 *
 * The input is written to a fresh connection, the write side is shut, and
 * the loop runs until the server closes the connection (or 2 s pass: a
 * hang is a failure). Checks: the server answers with an HTTP/1.x status
 * line or closes silently; it never holds more than a handful of
 * connections; it keeps serving afterwards (a request on a new connection
 * is answered). Sanitizers catch memory errors and leaks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "http/http_server.h"
#include "http/router.h"

static struct event_base *base;
static kl_http_server *srv;
static uint16_t port;

static void
echo(kl_http_req *req, const kl_route_match *m, void *payload)
{
    kl_bytes b = kl_http_req_body(req);

    (void)payload;
    (void)kl_http_req_query(req, "nonce");
    (void)kl_http_req_header(req, "Content-Type");
    kl_http_reply_json(req, 200, "Success",
                       json_pack("{s:s?, s:i}", "arg", m->n_args ? m->args[0] : NULL, "len",
                                 (int)b.len));
}

static const kl_route routes[] = {
    {KL_HTTP_GET, "version", false, echo, 0},
    {KL_HTTP_GET, "agents", true, echo, KL_ROUTE_ADMIN},
    {KL_HTTP_POST, "agents/*", true, echo, 0},
    {KL_HTTP_PUT, "agents/*/activate", true, echo, 0},
};
static const char *const versions[] = {"2.0", "2.6"};
static const kl_router router = {KL_ROUTER_PY, versions, 2, routes, 4};

static void
handler(kl_http_req *req, void *payload)
{
    kl_router_dispatch(&router, req, payload);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kl_http_listen_opts o = {0};

    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    base = event_base_new();
    FUZZ_CHECK(base != NULL);
    FUZZ_CHECK(kl_http_server_new(&srv, base) == KL_OK);
    o.ip = "127.0.0.1";
    o.max_body = 4096;
    o.max_headers = 2048;
    o.timeout_s = 1;
    o.handler = handler;
    FUZZ_CHECK(kl_http_server_listen(srv, &o, &port) == KL_OK);
    return 0;
}

typedef struct {
    bool closed;
    kl_buf out;
} peer;

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
    peer *p = arg;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);

    (void)what;
    if (n > 0) {
        if (kl_buf_append(&p->out, buf, (size_t)n) != KL_OK)
            p->closed = true;
    } else if (n == 0 || errno != EAGAIN)
        p->closed = true;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

/* Sends data on a new connection; returns true if the server closed it. */
static bool
exchange(const uint8_t *data, size_t size, kl_buf *out)
{
    struct sockaddr_in sin = {0};
    peer p = {false, *out};
    bool expired = false;
    struct timeval tv = {2, 0};
    struct event *rd, *t;
    size_t sent = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    rd = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, &p);
    t = evtimer_new(base, timeout_cb, &expired);
    event_add(rd, NULL);
    evtimer_add(t, &tv);
    while (!p.closed && !expired)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(rd);
    event_free(t);
    close(fd);
    *out = p.out;
    return p.closed;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char probe[] = "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    size_t open = 0, accepted = 0;
    kl_buf out;

    if (size > 65536)
        return 0;
    kl_buf_init(&out, 1 << 20);
    FUZZ_CHECK(exchange(data, size, &out));
    FUZZ_CHECK(out.len == 0 || (out.len >= 12 && memcmp(out.ptr, "HTTP/1.", 7) == 0));
    kl_http_server_counts(srv, &open, &accepted);
    FUZZ_CHECK(open <= 4);
    kl_buf_reset(&out);
    FUZZ_CHECK(exchange((const uint8_t *)probe, sizeof(probe) - 1, &out));
    FUZZ_CHECK(out.len >= 12 && memcmp(out.ptr, "HTTP/1.1 200", 12) == 0);
    kl_buf_free(&out);
    return 0;
}
