/* rpc.c — the process's one AMQP connection (librabbitmq) and the outbox.
 *
 * One connection with one channel (in confirm mode) carries everything: our
 * publishes, their basic.ack confirms, the deliveries of the queue a worker
 * serves and the replies to our calls. Frames therefore arrive interleaved;
 * one frame pump (pump()) reads them all, records confirms and buffers
 * deliveries in a small inbox that rpc_serve and rpc_call take from. Any
 * channel or connection error drops the connection; the next call
 * reconnects, and rpc_serve re-declares its queue when it sees a new one.
 * Work is never parked until a timeout: a handler that met the database
 * unavailable hands its message back for redelivery, and casts the broker
 * could not take (rpc_cast_later) go out as soon as it is back. */
#include "rpc.h"
#include "notify.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define EXCHANGE "cnova"
#define CHAN 1
#define CONFIRM_TIMEOUT_MS 5000
#define CONNECT_TIMEOUT_MS 3000
#define SERVER_TAG "cnova-server"
#define REPLY_TAG "cnova-reply"
#define FAILURE_KEY "_rpc_failure"
#define OUTBOX_BATCH 100
#define MAX_BROKERS 4
#define OUTBOX_WAIT_MS 50

/* A message taken off the wire, waiting for rpc_serve or rpc_call. */
struct delivery {
    struct delivery *next;
    int server;   /* 1: the served queue, 0: a reply to a call */
    int broker;   /* index of the broker it came from */
    unsigned gen; /* that broker's connection it came on (tags are per channel) */
    uint64_t tag;
    char *body;
    size_t len;
};

/* One broker of the pool and our connection to it. */
struct broker {
    amqp_connection_state_t conn; /* NULL when disconnected */
    unsigned gen;                 /* bumped on every new connection */
    uint64_t seq;                 /* delivery tag of our last publish */
    int confirm;                  /* for seq: 0 waiting, 1 acked, -1 nacked */
    char reply_q[64];             /* our reply queue on this connection, or "" */
    char *declared[32];           /* topics whose queue we declared on this connection */
    int ndeclared;
    double last_warn; /* rate-limits "broker unreachable" */
    char host[128];
    int port;
};

static struct {
    struct broker b[MAX_BROKERS];
    int n;           /* brokers configured (0: not read yet) */
    int cur;         /* the one we publish to */
    double home_try; /* when to look whether the first broker is back */
    struct delivery *head, *tail;
} R;

/* ---- wire format ---------------------------------------------------------- */

static char *wrap(json_t *msg) {
    char *inner = json_dumps(msg, JSON_COMPACT);
    if (!inner) return NULL;
    json_t *env = json_pack("{s:s, s:s}", "oslo.version", "2.0", "oslo.message", inner);
    free(inner);
    if (!env) return NULL;
    char *s = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return s;
}

char *rpc_envelope_encode(const char *method, json_t *args, const char *msg_id, const char *reply_q,
                          int timeout_ms) {
    char uid[37];
    uuid_new(uid);
    json_t *msg = json_object();
    json_object_set_new(msg, "method", json_string(method));
    json_object_set_new(msg, "args", args ? json_incref(args) : json_object());
    json_object_set_new(msg, "_unique_id", json_string(uid));
    /* the request this work is for, as oslo.messaging sends its context */
    if (*log_request_id())
        json_object_set_new(msg, "_context_request_id", json_string(log_request_id()));
    if (*log_global_request_id())
        json_object_set_new(msg, "_context_global_request_id",
                            json_string(log_global_request_id()));
    if (msg_id) {
        json_object_set_new(msg, "_msg_id", json_string(msg_id));
        if (reply_q) json_object_set_new(msg, "_reply_q", json_string(reply_q));
        if (timeout_ms > 0) json_object_set_new(msg, "_timeout", json_real(timeout_ms / 1000.0));
    }
    char *s = wrap(msg);
    json_decref(msg);
    return s;
}

char *rpc_reply_encode(json_t *result, const char *failure, const char *msg_id) {
    json_t *msg = json_object();
    json_object_set(msg, "result", result && !failure ? result : json_null());
    json_object_set_new(msg, "failure", failure ? json_string(failure) : json_null());
    json_object_set_new(msg, "ending", json_true());
    if (msg_id) json_object_set_new(msg, "_msg_id", json_string(msg_id));
    char *s = wrap(msg);
    json_decref(msg);
    return s;
}

json_t *rpc_envelope_decode(const char *body, size_t len) {
    json_t *outer = json_loadb(body, len, 0, NULL);
    if (!json_is_object(outer)) {
        json_decref(outer);
        return NULL;
    }
    json_t *inner = json_object_get(outer, "oslo.message");
    if (!inner) return outer; /* a bare (unversioned) message */
    json_t *msg = json_is_string(inner) ? json_loads(json_string_value(inner), 0, NULL) : NULL;
    json_decref(outer);
    if (!json_is_object(msg)) {
        json_decref(msg);
        return NULL;
    }
    return msg;
}

json_t *rpc_failure(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_pack("{s:s}", FAILURE_KEY, buf);
}

static const char *failure_of(json_t *res) {
    if (!json_is_object(res) || json_object_size(res) != 1) return NULL;
    return json_string_value(json_object_get(res, FAILURE_KEY));
}

/* ---- the broker pool --------------------------------------------------------
 *
 * [rabbit] hosts = h1:p1,h2:p2 (or host + port, port a list of ports) names
 * independent brokers, not a cluster. Everything is published to one of them
 * (the first that answers, preferring the first of the list), and a server
 * consumes its queue on every one it can reach: with one broker killed, work
 * goes through the other at once instead of waiting for its restart, and
 * what was queued on the dead one is delivered when it is back (handlers are
 * idempotent; that is already so for a restarted broker's redeliveries). */

static void brokers_init(void) {
    if (R.n) return;
    const char *hosts = config_get("rabbit", "hosts", NULL);
    const char *host = config_get("rabbit", "host", "127.0.0.1");
    char list[512];
    snprintf(list, sizeof list, "%s", hosts ? hosts : config_get("rabbit", "port", "15672"));
    char *save = NULL;
    for (char *t = strtok_r(list, ", ", &save); t && R.n < MAX_BROKERS;
         t = strtok_r(NULL, ", ", &save)) {
        struct broker *b = &R.b[R.n];
        char *colon = hosts ? strrchr(t, ':') : NULL;
        if (colon) *colon = 0;
        snprintf(b->host, sizeof b->host, "%s", hosts ? t : host);
        b->port = atoi(colon ? colon + 1 : (hosts ? "5672" : t));
        if (b->port > 0 && b->port < 65536 && b->host[0]) R.n++;
    }
    if (!R.n) { /* nothing usable configured: the default */
        snprintf(R.b[0].host, sizeof R.b[0].host, "%s", host);
        R.b[0].port = 15672;
        R.n = 1;
    }
}

static void inbox_clear(struct broker *b) {
    /* Called whenever the connection goes or comes: forget declared queues
     * and what came on it. */
    int idx = (int)(b - R.b);
    for (int i = 0; i < b->ndeclared; i++)
        free(b->declared[i]);
    b->ndeclared = 0;
    struct delivery **pp = &R.head, *prev = NULL;
    while (*pp) {
        struct delivery *d = *pp;
        if (d->broker != idx) {
            prev = d;
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        free(d->body);
        free(d);
    }
    R.tail = prev;
}

/* Drops a connection after an error; the next use reconnects. */
static void drop(struct broker *b, const char *what, const char *why) {
    if (!b->conn) return;
    log_warn("rabbitmq %s:%d: %s: %s; reconnecting on next use", b->host, b->port, what, why);
    amqp_destroy_connection(b->conn); /* closes the socket */
    b->conn = NULL;
    b->reply_q[0] = 0;
    inbox_clear(b);
}

static const char *reply_why(amqp_rpc_reply_t r, char *buf, size_t n) {
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return "ok";
    case AMQP_RESPONSE_NONE:
        return "missing reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *c = r.reply.decoded;
            snprintf(buf, n, "connection closed: %u %.*s", c->reply_code, (int)c->reply_text.len,
                     (char *)c->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *c = r.reply.decoded;
            snprintf(buf, n, "channel closed: %u %.*s", c->reply_code, (int)c->reply_text.len,
                     (char *)c->reply_text.bytes);
        } else {
            snprintf(buf, n, "server error (method 0x%08x)", r.reply.id);
        }
        return buf;
    }
    return "unknown error";
}

/* Checks the reply of the last synchronous method; drops the connection on
 * error. */
static int check(struct broker *b, const char *what) {
    if (!b->conn) return -1;
    amqp_rpc_reply_t r = amqp_get_rpc_reply(b->conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
    char buf[256];
    drop(b, what, reply_why(r, buf, sizeof buf));
    return -1;
}

/* Connects broker i unless it is connected. */
static int connect_one(int i) {
    struct broker *b = &R.b[i];
    if (b->conn) return 0;
    const char *user = config_get("rabbit", "user", "guest");
    const char *pass = config_get("rabbit", "password", "guest");
    const char *vhost = config_get("rabbit", "vhost", "/");

    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *sock = c ? amqp_tcp_socket_new(c) : NULL;
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
    const char *why = NULL;
    char buf[256];
    int st;
    if (!sock) {
        why = "out of memory";
    } else if ((st = amqp_socket_open_noblock(sock, b->host, b->port, &tv)) != AMQP_STATUS_OK) {
        why = amqp_error_string2(st);
    } else {
        amqp_set_handshake_timeout(c, &tv);
        struct timeval rt = {CONFIRM_TIMEOUT_MS / 1000, 0};
        amqp_set_rpc_timeout(c, &rt);
        amqp_rpc_reply_t r = amqp_login(c, vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, user, pass);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) why = reply_why(r, buf, sizeof buf);
    }
    if (why) {
        double now = now_ms();
        if (!b->last_warn || now - b->last_warn > 10000) {
            log_warn("rabbitmq %s:%d unreachable: %s", b->host, b->port, why);
            b->last_warn = now;
        }
        if (c) amqp_destroy_connection(c);
        return -1;
    }
    b->conn = c;
    b->gen++;
    b->seq = 0;
    b->reply_q[0] = 0;
    inbox_clear(b);
    amqp_channel_open(c, CHAN);
    if (check(b, "channel.open")) return -1;
    amqp_exchange_declare(c, CHAN, amqp_cstring_bytes(EXCHANGE), amqp_cstring_bytes("topic"), 0, 1,
                          0, 0, amqp_empty_table);
    if (check(b, "exchange.declare")) return -1;
    amqp_confirm_select(c, CHAN);
    if (check(b, "confirm.select")) return -1;
    if (b->last_warn) log_info("rabbitmq %s:%d connected", b->host, b->port);
    b->last_warn = 0;
    return 0;
}

/* Makes R.cur a connected broker: the current one, else the next that
 * answers. While we publish elsewhere, the first broker is tried again
 * every second, so that in steady state everything goes through it (and
 * whoever listens to one broker, e.g. for notifications, hears it all). */
int rpc_connect(void) {
    brokers_init();
    if (R.cur != 0 && now_ms() >= R.home_try) {
        R.home_try = now_ms() + 1000;
        if (connect_one(0) == 0) {
            log_info("rabbitmq: publishing to %s:%d again", R.b[0].host, R.b[0].port);
            R.cur = 0;
        }
    }
    for (int k = 0; k < R.n; k++) {
        int i = (R.cur + k) % R.n;
        if (connect_one(i) < 0) continue;
        if (i != R.cur) {
            log_warn("rabbitmq: %s:%d away; publishing to %s:%d", R.b[R.cur].host, R.b[R.cur].port,
                     R.b[i].host, R.b[i].port);
            R.cur = i;
            R.home_try = now_ms() + 1000;
        }
        return 0;
    }
    return -1;
}

static void kept_drop(void);

void rpc_close(void) {
    kept_drop(); /* the process is ending: what is kept cannot be sent now */
    for (int i = 0; i < R.n; i++) {
        struct broker *b = &R.b[i];
        if (b->conn) {
            amqp_channel_close(b->conn, CHAN, AMQP_REPLY_SUCCESS);
            amqp_connection_close(b->conn, AMQP_REPLY_SUCCESS);
            amqp_destroy_connection(b->conn);
            b->conn = NULL;
        }
        b->reply_q[0] = 0;
        inbox_clear(b);
    }
}

/* Reads one frame of broker b (waiting up to timeout_ms) and dispatches it:
 * confirms update b->confirm, deliveries go to the inbox. Returns 1 when a
 * frame was handled, 0 on timeout, -1 when the connection was lost. */
static int pump(struct broker *b, int timeout_ms) {
    if (!b->conn) return -1;
    amqp_connection_state_t c = b->conn;
    if (!amqp_frames_enqueued(c) && amqp_release_buffers_ok(c)) amqp_release_buffers(c);
    if (timeout_ms < 0) timeout_ms = 0;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    amqp_frame_t f;
    int st = amqp_simple_wait_frame_noblock(c, &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT) return 0;
    if (st != AMQP_STATUS_OK) {
        drop(b, "read", amqp_error_string2(st));
        return -1;
    }
    if (f.frame_type != AMQP_FRAME_METHOD) return 1; /* stray content frame */
    char buf[256];
    switch (f.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *a = f.payload.method.decoded;
        if (a->delivery_tag == b->seq || (a->multiple && a->delivery_tag >= b->seq)) b->confirm = 1;
        return 1;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *a = f.payload.method.decoded;
        if (a->delivery_tag == b->seq || (a->multiple && a->delivery_tag >= b->seq))
            b->confirm = -1;
        return 1;
    }
    case AMQP_BASIC_DELIVER_METHOD:
    case AMQP_BASIC_RETURN_METHOD: {
        int deliver = f.payload.method.id == AMQP_BASIC_DELIVER_METHOD;
        int server = 0;
        uint64_t tag = 0;
        if (deliver) {
            amqp_basic_deliver_t *d = f.payload.method.decoded;
            server = d->consumer_tag.len == strlen(SERVER_TAG) &&
                     !memcmp(d->consumer_tag.bytes, SERVER_TAG, d->consumer_tag.len);
            tag = d->delivery_tag;
        }
        amqp_message_t m;
        amqp_rpc_reply_t r = amqp_read_message(c, f.channel, &m, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            drop(b, "read message", reply_why(r, buf, sizeof buf));
            return -1;
        }
        if (deliver) {
            struct delivery *d = calloc(1, sizeof *d);
            d->server = server;
            d->broker = (int)(b - R.b);
            d->gen = b->gen;
            d->tag = tag;
            d->len = m.body.len;
            d->body = malloc(m.body.len + 1);
            memcpy(d->body, m.body.bytes, m.body.len);
            d->body[m.body.len] = 0;
            if (R.tail)
                R.tail->next = d;
            else
                R.head = d;
            R.tail = d;
        }
        amqp_destroy_message(&m);
        return 1;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        amqp_channel_close_t *cl = f.payload.method.decoded;
        snprintf(buf, sizeof buf, "channel closed by broker: %u %.*s", cl->reply_code,
                 (int)cl->reply_text.len, (char *)cl->reply_text.bytes);
        drop(b, "channel", buf);
        return -1;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
        amqp_connection_close_t *cl = f.payload.method.decoded;
        snprintf(buf, sizeof buf, "connection closed by broker: %u %.*s", cl->reply_code,
                 (int)cl->reply_text.len, (char *)cl->reply_text.bytes);
        drop(b, "connection", buf);
        return -1;
    }
    case AMQP_BASIC_CANCEL_METHOD:
        drop(b, "consumer", "cancelled by broker");
        return -1;
    default:
        return 1;
    }
}

/* Waits up to timeout_ms for a frame on any connected broker and handles
 * what came. Returns 0, or -1 when no broker is connected. */
static int pump_any(int timeout_ms) {
    struct pollfd fds[MAX_BROKERS];
    int idx[MAX_BROKERS], n = 0;
    for (int i = 0; i < R.n; i++) {
        struct broker *b = &R.b[i];
        if (!b->conn) continue;
        if (amqp_frames_enqueued(b->conn) || amqp_data_in_buffer(b->conn)) {
            pump(b, 10); /* already read, maybe partly */
            return 0;
        }
        fds[n] = (struct pollfd){.fd = amqp_get_sockfd(b->conn), .events = POLLIN};
        idx[n++] = i;
    }
    if (!n) return -1;
    if (poll(fds, (nfds_t)n, timeout_ms) <= 0) return 0;
    for (int k = 0; k < n; k++)
        if (fds[k].revents) pump(&R.b[idx[k]], 10);
    return 0;
}

/* Publishes one message on broker b and waits for its confirm. Returns 0
 * when the broker acked it. A call's request expires (ttl_ms > 0) when its
 * caller stops waiting: a host that is down does not find stale calls
 * queued when it comes back. */
static int publish(struct broker *b, const char *exchange, const char *rkey, const char *body,
                   int persistent, int ttl_ms) {
    if (!b->conn) return -1;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
               AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.content_encoding = amqp_cstring_bytes("utf-8");
    p.delivery_mode = persistent ? 2 : 1;
    char ttl[24];
    if (ttl_ms > 0) {
        snprintf(ttl, sizeof ttl, "%d", ttl_ms);
        p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
        p.expiration = amqp_cstring_bytes(ttl);
    }
    int st = amqp_basic_publish(b->conn, CHAN, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(rkey), 0, 0, &p, amqp_cstring_bytes(body));
    if (st != AMQP_STATUS_OK) {
        drop(b, "publish", amqp_error_string2(st));
        return -1;
    }
    b->seq++;
    b->confirm = 0;
    double deadline = now_ms() + CONFIRM_TIMEOUT_MS;
    while (b->confirm == 0) {
        double left = deadline - now_ms();
        if (left <= 0) {
            drop(b, "publish", "no confirm from the broker");
            return -1;
        }
        if (pump(b, (int)left + 1) < 0) return -1;
    }
    if (b->confirm < 0) log_warn("rabbitmq: broker refused (nack) a message to %s", rkey);
    return b->confirm > 0 ? 0 : -1;
}

static int ensure_reply_queue(struct broker *b) {
    if (b->reply_q[0]) return 0;
    char name[64], uid[37];
    uuid_new(uid);
    snprintf(name, sizeof name, "reply_%s", uid);
    amqp_queue_declare(b->conn, CHAN, amqp_cstring_bytes(name), 0, 0, 1, 1, amqp_empty_table);
    if (check(b, "queue.declare (reply)")) return -1;
    amqp_basic_consume(b->conn, CHAN, amqp_cstring_bytes(name), amqp_cstring_bytes(REPLY_TAG), 0, 1,
                       1, amqp_empty_table);
    if (check(b, "basic.consume (reply)")) return -1;
    memcpy(b->reply_q, name, sizeof name);
    return 0;
}

static int declared(struct broker *b, const char *key) {
    for (int i = 0; i < b->ndeclared; i++)
        if (!strcmp(b->declared[i], key)) return 1;
    return 0;
}

static void remember(struct broker *b, const char *key) {
    if (b->ndeclared == (int)(sizeof b->declared / sizeof b->declared[0])) {
        free(b->declared[0]);
        memmove(b->declared, b->declared + 1, sizeof b->declared - sizeof b->declared[0]);
        b->ndeclared--;
    }
    b->declared[b->ndeclared++] = strdup(key);
}

/* Declares the durable queue of `topic` (as its consumer does) before the
 * first publish to it on this connection: a message to a queue nobody has
 * declared yet (a worker that has never started) would be dropped by the
 * exchange and still confirmed, losing outbox work at first boot. */
static int ensure_topic_queue(struct broker *b, const char *topic) {
    if (declared(b, topic)) return 0;
    amqp_queue_declare(b->conn, CHAN, amqp_cstring_bytes(topic), 0, 1, 0, 0, amqp_empty_table);
    if (check(b, "queue.declare (topic)")) return -1;
    amqp_queue_bind(b->conn, CHAN, amqp_cstring_bytes(topic), amqp_cstring_bytes(EXCHANGE),
                    amqp_cstring_bytes(topic), amqp_empty_table);
    if (check(b, "queue.bind (topic)")) return -1;
    remember(b, topic);
    return 0;
}

/* A notification (an outbox row "notify:<rkey>", see notify.h) goes in
 * oslo's envelope to exchange "nova", routing key rkey, into the queue of
 * that name, declared as oslo.messaging's notification listener declares
 * them (exchange and queue not durable, amqp_durable_queues being false by
 * default) so that events sent before any listener are kept. */
static int ensure_notification_queue(struct broker *b, const char *rkey) {
    char key[96];
    snprintf(key, sizeof key, NOTIFY_TOPIC_PREFIX "%s", rkey);
    if (declared(b, key)) return 0;
    amqp_exchange_declare(b->conn, CHAN, amqp_cstring_bytes(NOTIFY_EXCHANGE),
                          amqp_cstring_bytes("topic"), 0, 0, 0, 0, amqp_empty_table);
    if (check(b, "exchange.declare (notifications)")) return -1;
    amqp_queue_declare(b->conn, CHAN, amqp_cstring_bytes(rkey), 0, 0, 0, 0, amqp_empty_table);
    if (check(b, "queue.declare (notifications)")) return -1;
    amqp_queue_bind(b->conn, CHAN, amqp_cstring_bytes(rkey), amqp_cstring_bytes(NOTIFY_EXCHANGE),
                    amqp_cstring_bytes(rkey), amqp_empty_table);
    if (check(b, "queue.bind (notifications)")) return -1;
    remember(b, key);
    return 0;
}

unsigned long rpc_reconnects(void) {
    unsigned long n = 0;
    for (int i = 0; i < R.n; i++)
        n += R.b[i].gen > 1 ? R.b[i].gen - 1 : 0;
    return n;
}

long rpc_queue_depth(const char *queue, long *consumers) {
    brokers_init();
    long depth = -1, most = 0;
    for (int i = 0; i < R.n; i++) {
        struct broker *b = &R.b[i];
        if (connect_one(i) < 0) continue;
        /* declared as its consumer declares it: idempotent, and the answer
         * counts its messages */
        amqp_queue_declare_ok_t *ok = amqp_queue_declare(b->conn, CHAN, amqp_cstring_bytes(queue),
                                                         0, 1, 0, 0, amqp_empty_table);
        if (check(b, "queue.declare (depth)") || !ok) continue;
        depth = (depth < 0 ? 0 : depth) + (long)ok->message_count;
        if ((long)ok->consumer_count > most) most = (long)ok->consumer_count;
    }
    if (consumers) *consumers = most;
    return depth;
}

/* Sends a request (msg_id: a call, whose reply comes to the reply queue of
 * the broker that took it) or a notification (note) to the current broker;
 * a connection that had gone stale (broker restarted while we were idle)
 * or a broker that is away moves it to the next. Returns the broker that
 * took it, or NULL. */
static struct broker *send_msg(const char *topic, const char *method, json_t *args,
                               const char *msg_id, int timeout_ms, int note) {
    for (int attempt = 0; attempt <= R.n; attempt++) {
        if (rpc_connect() < 0) return NULL;
        struct broker *b = &R.b[R.cur];
        int ready = note                                    ? ensure_notification_queue(b, topic)
                    : (msg_id && ensure_reply_queue(b) < 0) ? -1
                                                            : ensure_topic_queue(b, topic);
        if (ready < 0) {
            if (b->conn) return NULL;
            continue;
        }
        /* encoded per attempt: a call names the reply queue of this broker */
        char *body = note ? wrap(args)
                          : rpc_envelope_encode(method, args, msg_id, msg_id ? b->reply_q : NULL,
                                                timeout_ms);
        if (!body) return NULL;
        int rc = note ? publish(b, NOTIFY_EXCHANGE, topic, body, 0, 0)
                      : publish(b, EXCHANGE, topic, body, 1, msg_id ? timeout_ms : 0);
        free(body);
        if (rc == 0) return b;
        if (b->conn) return NULL; /* a nack */
    }
    return NULL;
}

int rpc_cast(const char *topic, const char *method, json_t *args) {
    return send_msg(topic, method, args, NULL, 0, 0) ? 0 : -1;
}

/* Removes and returns the first inbox entry of the given kind. */
static struct delivery *inbox_take(int server) {
    for (struct delivery **pp = &R.head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        if ((*pp)->server != server) continue;
        struct delivery *d = *pp;
        *pp = d->next;
        if (R.tail == d) R.tail = prev;
        return d;
    }
    return NULL;
}

static void delivery_free(struct delivery *d) {
    if (!d) return;
    free(d->body);
    free(d);
}

json_t *rpc_call(const char *topic, const char *method, json_t *args, int timeout_ms,
                 const char **err) {
    static char failure[1024];
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    char msg_id[37];
    uuid_new(msg_id);
    double t0 = now_ms(), deadline = t0 + timeout_ms;
    struct broker *b = send_msg(topic, method, args, msg_id, timeout_ms, 0);
    if (!b) {
        *err = "unreachable";
        return NULL;
    }
    for (;;) {
        struct delivery *d;
        while ((d = inbox_take(0))) {
            json_t *msg = rpc_envelope_decode(d->body, d->len);
            delivery_free(d);
            const char *id = json_string_value(json_object_get(msg, "_msg_id"));
            if (!id || strcmp(id, msg_id)) {
                log_debug("rpc: discarding a stale reply (msg id %s)", id ? id : "-");
                json_decref(msg);
                continue;
            }
            const char *f = json_string_value(json_object_get(msg, "failure"));
            json_t *res = NULL;
            if (f) {
                snprintf(failure, sizeof failure, "%s", f);
                *err = failure;
            } else {
                res = json_object_get(msg, "result");
                res = res ? json_incref(res) : json_null();
            }
            json_decref(msg);
            log_debug("rpc call %s to %s: %.1f ms", method, topic, now_ms() - t0);
            return res;
        }
        double left = deadline - now_ms();
        if (left <= 0) {
            *err = "timeout";
            return NULL;
        }
        /* the reply comes on the broker that took the request */
        if (pump(b, left > 1000 ? 1000 : (int)left + 1) < 0) {
            *err = "unreachable";
            return NULL;
        }
    }
}

/* ---- server --------------------------------------------------------------- */

static int serve_setup(struct broker *b, const char *queue) {
    if (ensure_topic_queue(b, queue)) return -1;
    amqp_basic_qos(b->conn, CHAN, 0, 1, 0);
    if (check(b, "basic.qos")) return -1;
    amqp_basic_consume(b->conn, CHAN, amqp_cstring_bytes(queue), amqp_cstring_bytes(SERVER_TAG), 0,
                       0, 0, amqp_empty_table);
    return check(b, "basic.consume");
}

/* ---- casts kept until the broker is back ------------------------------------ */

struct kept {
    struct kept *next;
    char *topic, *method;
    json_t *args;
    struct log_context ctx; /* the request context it was cast in */
};
static struct kept *kept_head, **kept_tail = &kept_head;
static int nkept;
#define KEPT_MAX 100000

/* Forgets the oldest kept cast. */
static void kept_pop(void) {
    struct kept *k = kept_head;
    kept_head = k->next;
    if (!kept_head) kept_tail = &kept_head;
    nkept--;
    free(k->topic);
    free(k->method);
    json_decref(k->args);
    free(k);
}

/* Sends the kept casts, oldest first, while the broker takes them. */
static void kept_flush(void) {
    if (!kept_head) return;
    struct log_context own;
    log_context_save(&own);
    while (kept_head) {
        log_context_restore(&kept_head->ctx);
        if (rpc_cast(kept_head->topic, kept_head->method, kept_head->args)) break;
        kept_pop();
    }
    log_context_restore(&own);
}

static void kept_drop(void) {
    if (nkept) log_warn("rpc: %d casts never reached the broker", nkept);
    while (kept_head)
        kept_pop();
}

int rpc_cast_later(const char *topic, const char *method, json_t *args) {
    kept_flush();
    if (!kept_head && rpc_cast(topic, method, args) == 0) return 0;
    if (nkept >= KEPT_MAX) {
        log_error("rpc: %d casts wait for the broker already: %s to %s dropped", nkept, method,
                  topic);
        return -1;
    }
    struct kept *k = calloc(1, sizeof *k);
    k->topic = strdup(topic);
    k->method = strdup(method);
    k->args = args ? json_deep_copy(args) : json_object();
    log_context_save(&k->ctx);
    *kept_tail = k;
    kept_tail = &k->next;
    if (nkept++ == 0)
        log_warn("rpc: broker unreachable: %s to %s kept until it is back", method, topic);
    return 1;
}

/* Runs the handler of one delivery, replies to a call, acks. Returns 1 when
 * the handler met the database unavailable: then there is no reply and the
 * message goes back to the queue (handlers are idempotent), to run again
 * once the database answers, rather than wait for a timeout to re-drive
 * what it left undone. */
static int serve_one(const char *queue, struct delivery *d, rpc_handler handler, void *ud) {
    double t0 = now_ms();
    int requeue = 0;
    json_t *msg = rpc_envelope_decode(d->body, d->len);
    const char *method = json_string_value(json_object_get(msg, "method"));
    const char *msg_id = json_string_value(json_object_get(msg, "_msg_id"));
    const char *reply_q = json_string_value(json_object_get(msg, "_reply_q"));
    const char *uid = json_string_value(json_object_get(msg, "_unique_id"));
    const char *failure = NULL;
    if (!method) {
        log_warn("rpc %s: dropping a malformed message (%zu bytes)", queue, d->len);
    } else {
        json_t *args = json_object_get(msg, "args");
        json_t *own = NULL;
        if (!json_is_object(args)) args = own = json_object();
        unsigned long outages = db_outages();
        log_set_context(json_string_value(json_object_get(msg, "_context_request_id")),
                        json_string_value(json_object_get(msg, "_context_global_request_id")));
        json_t *res = handler(method, args, ud);
        json_decref(own);
        failure = failure_of(res);
        requeue = db_outages() != outages;
        if (requeue) {
            log_warn("rpc %s: %s met the database unavailable: handed back for redelivery", queue,
                     method);
        } else if (msg_id && reply_q) {
            char *body = rpc_reply_encode(res, failure, msg_id);
            /* The reply queue is on the broker the call came through; its
             * name is its routing key on the default exchange. */
            if (body && (connect_one(d->broker) < 0 ||
                         publish(&R.b[d->broker], "", reply_q, body, 0, 0) < 0))
                log_warn("rpc %s: reply to %s for %s lost", queue, reply_q, method);
            free(body);
        }
        if (!requeue)
            log_info("rpc received method=%s topic=%s msg_id=%s %.1f ms%s%s", method, queue,
                     msg_id ? msg_id : (uid ? uid : "-"), now_ms() - t0, failure ? " failed: " : "",
                     failure ? failure : "");
        log_set_context(NULL, NULL);
        json_decref(res);
    }
    json_decref(msg);
    /* A reconnect while handling invalidates the delivery tag: the broker
     * redelivers the message instead. */
    struct broker *b = &R.b[d->broker];
    if (b->conn && b->gen == d->gen) {
        int st = requeue ? amqp_basic_nack(b->conn, CHAN, d->tag, 0, 1)
                         : amqp_basic_ack(b->conn, CHAN, d->tag, 0);
        if (st != AMQP_STATUS_OK) drop(b, "basic.ack", amqp_error_string2(st));
    }
    return requeue;
}

static void nap(int ms, volatile int *stop) {
    while (ms > 0 && !*stop) {
        int n = ms > 100 ? 100 : ms;
        usleep((useconds_t)n * 1000);
        ms -= n;
    }
}

/* Sets up our consumer on every broker that is not serving us yet (each
 * with its own backoff: a broker on restart answers within seconds, so it
 * is looked at often). Returns how many serve us; *wait_ms is the time to
 * the next attempt when that is none. */
static int serve_brokers(const char *queue, unsigned ready_gen[], double next_connect[],
                         int backoff[], double *wait_ms) {
    int serving = 0;
    double now = now_ms(), next = now + 1000;
    for (int i = 0; i < R.n; i++) {
        struct broker *b = &R.b[i];
        if (b->conn && ready_gen[i] == b->gen) {
            serving++;
            continue;
        }
        if (!b->conn && now < next_connect[i]) {
            if (next_connect[i] < next) next = next_connect[i];
            continue;
        }
        if (connect_one(i) == 0 && serve_setup(b, queue) == 0) {
            ready_gen[i] = b->gen;
            backoff[i] = 100;
            serving++;
            log_info("rpc: consuming queue %s on %s:%d", queue, b->host, b->port);
        } else {
            next_connect[i] = now_ms() + backoff[i];
            if (next_connect[i] < next) next = next_connect[i];
            if (backoff[i] < 1000) backoff[i] *= 2;
        }
    }
    *wait_ms = next - now_ms();
    return serving;
}

int rpc_serve(const char *queue, rpc_handler handler, void *ud, void (*tick)(void *ud), int tick_ms,
              volatile int *stop) {
    if (tick_ms <= 0) tick_ms = 1000;
    brokers_init();
    unsigned ready_gen[MAX_BROKERS] = {0}; /* the connection our consumer is set up on */
    int backoff[MAX_BROKERS];
    double next_connect[MAX_BROKERS] = {0};
    for (int i = 0; i < MAX_BROKERS; i++)
        backoff[i] = 100;
    double next_tick = now_ms();
    while (!*stop) {
        double now = now_ms(), wait;
        if (tick && now >= next_tick) {
            tick(ud);
            next_tick = now_ms() + tick_ms;
            continue;
        }
        int until_tick = tick ? (int)(next_tick - now) + 1 : 1000;
        if (!serve_brokers(queue, ready_gen, next_connect, backoff, &wait)) {
            nap((int)(wait < until_tick ? wait : until_tick) + 1, stop);
            continue;
        }
        if (kept_head) kept_flush();
        struct delivery *d = inbox_take(1);
        if (d) {
            /* the database is away: give it a moment before the next try */
            if (serve_one(queue, d, handler, ud)) nap(200, stop);
            delivery_free(d);
            continue;
        }
        /* Replies that arrive outside a call are late ones: drop them. */
        while ((d = inbox_take(0)))
            delivery_free(d);
        /* short while a broker is missing, to take it back soon */
        int most = until_tick > 500 ? 500 : until_tick;
        if (wait < most) most = wait < 0 ? 0 : (int)wait + 1;
        pump_any(most);
    }
    return 0;
}

/* ---- outbox --------------------------------------------------------------- */

int outbox_add(const char *topic, const char *method, json_t *args) {
    char *a = args ? json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
    if (!a) return -1;
    /* the request context goes with the row, for whoever publishes it */
    json_t *c = json_object();
    if (*log_request_id()) json_object_set_new(c, "request_id", json_string(log_request_id()));
    if (*log_global_request_id())
        json_object_set_new(c, "global_request_id", json_string(log_global_request_id()));
    char *ctx = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    const char *p[] = {topic, method, a, ctx};
    enum db_status st = db_exec(
        "INSERT INTO outbox (topic, method, args, context) VALUES ($1, $2, $3::jsonb, $4::jsonb)",
        4, p);
    free(a);
    free(ctx);
    if (st != DB_OK) {
        log_error("outbox: cannot queue %s to %s: %s", method, topic, db_errmsg());
        return -1;
    }
    return 0;
}

/* Publishes one batch in one transaction. Returns rows published (deleted),
 * or -1; *more is set when the batch was full and nothing failed. */
/* Locks the oldest rows no other publisher holds, in a transaction left
 * open. Rows older than those (another process publishing them right now,
 * or a transaction that committed after ours looked) must go out first:
 * the work and events of one request chain (a conductor's commit, the cast
 * it made, what the host did next) would otherwise reach their queue out of
 * order. Then it lets go and looks again a moment later, for at most
 * OUTBOX_WAIT_MS, after which it publishes what it holds anyway. */
static int outbox_take(PGresult **r) {
    for (int waited = 0;; waited += 2) {
        if (db_begin() != DB_OK) return -1;
        if (db_query(r,
                     "SELECT id, topic, method, args, context->>'request_id', "
                     "context->>'global_request_id' FROM outbox ORDER BY id LIMIT 100 "
                     "FOR UPDATE SKIP LOCKED",
                     0, NULL) != DB_OK) {
            log_warn("outbox: %s", db_errmsg());
            db_rollback();
            return -1;
        }
        if (!PQntuples(*r) || waited >= OUTBOX_WAIT_MS) return 0;
        const char *p[] = {db_str(*r, 0, 0)};
        PGresult *older;
        if (db_query(&older, "SELECT EXISTS (SELECT 1 FROM outbox WHERE id < $1::bigint)", 1, p) !=
            DB_OK) {
            PQclear(*r);
            db_rollback();
            return -1;
        }
        int wait = !strcmp(db_str(older, 0, 0), "t");
        PQclear(older);
        if (!wait) return 0;
        PQclear(*r);
        db_rollback();
        usleep(2000);
    }
}

static int outbox_batch(int *more) {
    *more = 0;
    PGresult *r;
    if (outbox_take(&r) < 0) return -1;
    int n = PQntuples(r), done = 0, failed = 0;
    struct sbuf ids = {0};
    sbuf_add(&ids, "{", 1);
    struct log_context own; /* each row is sent in the context it was written in */
    log_context_save(&own);
    for (int i = 0; i < n; i++) {
        json_t *args = json_loads(db_str(r, i, 3), JSON_DECODE_ANY, NULL);
        const char *topic = db_str(r, i, 1);
        int note = !strncmp(topic, NOTIFY_TOPIC_PREFIX, strlen(NOTIFY_TOPIC_PREFIX));
        log_set_context(db_str(r, i, 4), db_str(r, i, 5));
        int rc = send_msg(note ? topic + strlen(NOTIFY_TOPIC_PREFIX) : topic, db_str(r, i, 2), args,
                          NULL, 0, note)
                     ? 0
                     : -1;
        log_context_restore(&own);
        json_decref(args);
        if (rc < 0 && note && rpc_connect() == 0) {
            /* the broker is there but refused it (e.g. an exchange "nova"
             * declared otherwise): kept for a later flush, and the work
             * behind it goes on */
            log_warn("outbox: notification %s to %s refused; kept", db_str(r, i, 2), topic);
            continue;
        }
        if (rc < 0) {
            failed = 1;
            break;
        }
        sbuf_addf(&ids, "%s%s", done ? "," : "", db_str(r, i, 0));
        done++;
    }
    sbuf_add(&ids, "}", 1);
    PQclear(r);
    if (done) {
        const char *p[] = {ids.s};
        if (db_exec("DELETE FROM outbox WHERE id = ANY($1::bigint[])", 1, p) != DB_OK ||
            db_commit() != DB_OK) {
            log_warn("outbox: %d published rows not deleted (they will be sent again): %s", done,
                     db_errmsg());
            db_rollback();
            sbuf_free(&ids);
            return -1;
        }
    } else {
        db_rollback();
    }
    sbuf_free(&ids);
    if (failed && !done) return -1;
    *more = !failed && n == OUTBOX_BATCH && done == n; /* none kept back */
    return done;
}

int outbox_flush(void) {
    int total = 0, more = 1;
    while (more) {
        int n = outbox_batch(&more);
        if (n < 0) return total ? total : -1;
        total += n;
    }
    if (total) log_debug("outbox: published %d", total);
    return total;
}
