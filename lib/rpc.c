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

/* A message taken off the wire, waiting for rpc_serve or rpc_call. */
struct delivery {
    struct delivery *next;
    int server;   /* 1: the served queue, 0: a reply to a call */
    unsigned gen; /* connection it came on (its delivery tag is per channel) */
    uint64_t tag;
    char *body;
    size_t len;
};

static struct {
    amqp_connection_state_t conn; /* NULL when disconnected */
    unsigned gen;                 /* bumped on every new connection */
    uint64_t seq;                 /* delivery tag of our last publish */
    int confirm;                  /* for seq: 0 waiting, 1 acked, -1 nacked */
    char reply_q[64];             /* our reply queue on this connection, or "" */
    char *declared[32];           /* topics whose queue we declared on this connection */
    int ndeclared;
    struct delivery *head, *tail;
    double last_warn; /* rate-limits "broker unreachable" */
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

/* ---- connection ----------------------------------------------------------- */

static void inbox_clear(void) {
    /* Called whenever the connection goes or comes: forget declared queues. */
    for (int i = 0; i < R.ndeclared; i++)
        free(R.declared[i]);
    R.ndeclared = 0;
    while (R.head) {
        struct delivery *d = R.head;
        R.head = d->next;
        free(d->body);
        free(d);
    }
    R.tail = NULL;
}

/* Drops the connection after an error; the next call reconnects. */
static void drop(const char *what, const char *why) {
    if (!R.conn) return;
    log_warn("rabbitmq: %s: %s; reconnecting on next use", what, why);
    amqp_destroy_connection(R.conn); /* closes the socket */
    R.conn = NULL;
    R.reply_q[0] = 0;
    inbox_clear();
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
static int check(const char *what) {
    if (!R.conn) return -1;
    amqp_rpc_reply_t r = amqp_get_rpc_reply(R.conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
    char buf[256];
    drop(what, reply_why(r, buf, sizeof buf));
    return -1;
}

int rpc_connect(void) {
    if (R.conn) return 0;
    const char *host = config_get("rabbit", "host", "127.0.0.1");
    int port = (int)config_int("rabbit", "port", 15672);
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
    } else if ((st = amqp_socket_open_noblock(sock, host, port, &tv)) != AMQP_STATUS_OK) {
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
        if (!R.last_warn || now - R.last_warn > 10000) {
            log_warn("rabbitmq %s:%d unreachable: %s", host, port, why);
            R.last_warn = now;
        }
        if (c) amqp_destroy_connection(c);
        return -1;
    }
    R.conn = c;
    R.gen++;
    R.seq = 0;
    R.reply_q[0] = 0;
    inbox_clear();
    amqp_channel_open(c, CHAN);
    if (check("channel.open")) return -1;
    amqp_exchange_declare(c, CHAN, amqp_cstring_bytes(EXCHANGE), amqp_cstring_bytes("topic"), 0, 1,
                          0, 0, amqp_empty_table);
    if (check("exchange.declare")) return -1;
    amqp_confirm_select(c, CHAN);
    if (check("confirm.select")) return -1;
    if (R.last_warn) log_info("rabbitmq %s:%d connected", host, port);
    R.last_warn = 0;
    return 0;
}

static void kept_drop(void);

void rpc_close(void) {
    kept_drop(); /* the process is ending: what is kept cannot be sent now */
    if (R.conn) {
        amqp_channel_close(R.conn, CHAN, AMQP_REPLY_SUCCESS);
        amqp_connection_close(R.conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(R.conn);
        R.conn = NULL;
    }
    R.reply_q[0] = 0;
    inbox_clear();
}

/* Reads one frame (waiting up to timeout_ms) and dispatches it: confirms
 * update R.confirm, deliveries go to the inbox. Returns 1 when a frame was
 * handled, 0 on timeout, -1 when the connection was lost. */
static int pump(int timeout_ms) {
    if (!R.conn) return -1;
    amqp_connection_state_t c = R.conn;
    if (!amqp_frames_enqueued(c) && amqp_release_buffers_ok(c)) amqp_release_buffers(c);
    if (timeout_ms < 0) timeout_ms = 0;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    amqp_frame_t f;
    int st = amqp_simple_wait_frame_noblock(c, &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT) return 0;
    if (st != AMQP_STATUS_OK) {
        drop("read", amqp_error_string2(st));
        return -1;
    }
    if (f.frame_type != AMQP_FRAME_METHOD) return 1; /* stray content frame */
    char buf[256];
    switch (f.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *a = f.payload.method.decoded;
        if (a->delivery_tag == R.seq || (a->multiple && a->delivery_tag >= R.seq)) R.confirm = 1;
        return 1;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *a = f.payload.method.decoded;
        if (a->delivery_tag == R.seq || (a->multiple && a->delivery_tag >= R.seq)) R.confirm = -1;
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
            drop("read message", reply_why(r, buf, sizeof buf));
            return -1;
        }
        if (deliver) {
            struct delivery *d = calloc(1, sizeof *d);
            d->server = server;
            d->gen = R.gen;
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
        drop("channel", buf);
        return -1;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
        amqp_connection_close_t *cl = f.payload.method.decoded;
        snprintf(buf, sizeof buf, "connection closed by broker: %u %.*s", cl->reply_code,
                 (int)cl->reply_text.len, (char *)cl->reply_text.bytes);
        drop("connection", buf);
        return -1;
    }
    case AMQP_BASIC_CANCEL_METHOD:
        drop("consumer", "cancelled by broker");
        return -1;
    default:
        return 1;
    }
}

/* Publishes one message on the current connection and waits for its
 * confirm. Returns 0 when the broker acked it. A call's request expires
 * (ttl_ms > 0) when its caller stops waiting: a host that is down does not
 * find stale calls queued when it comes back. */
static int publish(const char *exchange, const char *rkey, const char *body, int persistent,
                   int ttl_ms) {
    if (!R.conn) return -1;
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
    int st = amqp_basic_publish(R.conn, CHAN, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(rkey), 0, 0, &p, amqp_cstring_bytes(body));
    if (st != AMQP_STATUS_OK) {
        drop("publish", amqp_error_string2(st));
        return -1;
    }
    R.seq++;
    R.confirm = 0;
    double deadline = now_ms() + CONFIRM_TIMEOUT_MS;
    while (R.confirm == 0) {
        double left = deadline - now_ms();
        if (left <= 0) {
            drop("publish", "no confirm from the broker");
            return -1;
        }
        if (pump((int)left + 1) < 0) return -1;
    }
    if (R.confirm < 0) log_warn("rabbitmq: broker refused (nack) a message to %s", rkey);
    return R.confirm > 0 ? 0 : -1;
}

/* Publishes a request built by `encode` to the exchange; on a connection
 * that had gone stale (broker restarted while we were idle) reconnects and
 * tries once more. Replies of calls need the reply queue of the connection
 * that publishes, so the body is encoded per attempt. */
static int send_request(const char *topic, const char *method, json_t *args, const char *msg_id,
                        int timeout_ms);

static int ensure_reply_queue(void) {
    if (R.reply_q[0]) return 0;
    char name[64], uid[37];
    uuid_new(uid);
    snprintf(name, sizeof name, "reply_%s", uid);
    amqp_queue_declare(R.conn, CHAN, amqp_cstring_bytes(name), 0, 0, 1, 1, amqp_empty_table);
    if (check("queue.declare (reply)")) return -1;
    amqp_basic_consume(R.conn, CHAN, amqp_cstring_bytes(name), amqp_cstring_bytes(REPLY_TAG), 0, 1,
                       1, amqp_empty_table);
    if (check("basic.consume (reply)")) return -1;
    memcpy(R.reply_q, name, sizeof name);
    return 0;
}

/* Declares the durable queue of `topic` (as its consumer does) before the
 * first publish to it on this connection: a message to a queue nobody has
 * declared yet (a worker that has never started) would be dropped by the
 * exchange and still confirmed, losing outbox work at first boot. */
static int ensure_topic_queue(const char *topic) {
    for (int i = 0; i < R.ndeclared; i++)
        if (!strcmp(R.declared[i], topic)) return 0;
    amqp_queue_declare(R.conn, CHAN, amqp_cstring_bytes(topic), 0, 1, 0, 0, amqp_empty_table);
    if (check("queue.declare (topic)")) return -1;
    amqp_queue_bind(R.conn, CHAN, amqp_cstring_bytes(topic), amqp_cstring_bytes(EXCHANGE),
                    amqp_cstring_bytes(topic), amqp_empty_table);
    if (check("queue.bind (topic)")) return -1;
    if (R.ndeclared == (int)(sizeof R.declared / sizeof R.declared[0])) {
        free(R.declared[0]);
        memmove(R.declared, R.declared + 1, sizeof R.declared - sizeof R.declared[0]);
        R.ndeclared--;
    }
    R.declared[R.ndeclared++] = strdup(topic);
    return 0;
}

unsigned long rpc_reconnects(void) {
    return R.gen > 1 ? R.gen - 1 : 0;
}

long rpc_queue_depth(const char *queue, long *consumers) {
    if (rpc_connect() < 0) return -1;
    /* declared as its consumer declares it: idempotent, and the answer
     * counts its messages */
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(R.conn, CHAN, amqp_cstring_bytes(queue), 0, 1,
                                                     0, 0, amqp_empty_table);
    if (check("queue.declare (depth)") || !ok) return -1;
    if (consumers) *consumers = (long)ok->consumer_count;
    return (long)ok->message_count;
}

static int send_request(const char *topic, const char *method, json_t *args, const char *msg_id,
                        int timeout_ms) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int had = R.conn != NULL;
        if (rpc_connect() < 0) return -1;
        if ((msg_id && ensure_reply_queue() < 0) || ensure_topic_queue(topic) < 0) {
            if (had) continue;
            return -1;
        }
        char *body =
            rpc_envelope_encode(method, args, msg_id, msg_id ? R.reply_q : NULL, timeout_ms);
        if (!body) return -1;
        int rc = publish(EXCHANGE, topic, body, 1, msg_id ? timeout_ms : 0);
        free(body);
        if (rc == 0) return 0;
        if (!had || R.conn) return -1; /* fresh connection failed, or a nack */
    }
    return -1;
}

/* A notification (an outbox row "notify:<rkey>", see notify.h): the
 * message in oslo's envelope to exchange "nova", routing key rkey, into the
 * queue of that name, declared as oslo.messaging's notification listener
 * declares them (exchange and queue not durable, amqp_durable_queues being
 * false by default) so that events sent before any listener are kept. */
static int send_notification(const char *rkey, json_t *msg) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int had = R.conn != NULL;
        if (rpc_connect() < 0) return -1;
        char key[96];
        snprintf(key, sizeof key, NOTIFY_TOPIC_PREFIX "%s", rkey);
        int known = 0;
        for (int i = 0; i < R.ndeclared; i++)
            if (!strcmp(R.declared[i], key)) known = 1;
        if (!known) {
            amqp_exchange_declare(R.conn, CHAN, amqp_cstring_bytes(NOTIFY_EXCHANGE),
                                  amqp_cstring_bytes("topic"), 0, 0, 0, 0, amqp_empty_table);
            if (check("exchange.declare (notifications)")) goto retry;
            amqp_queue_declare(R.conn, CHAN, amqp_cstring_bytes(rkey), 0, 0, 0, 0,
                               amqp_empty_table);
            if (check("queue.declare (notifications)")) goto retry;
            amqp_queue_bind(R.conn, CHAN, amqp_cstring_bytes(rkey),
                            amqp_cstring_bytes(NOTIFY_EXCHANGE), amqp_cstring_bytes(rkey),
                            amqp_empty_table);
            if (check("queue.bind (notifications)")) goto retry;
            if (R.ndeclared < (int)(sizeof R.declared / sizeof R.declared[0]))
                R.declared[R.ndeclared++] = strdup(key);
        }
        char *body = wrap(msg);
        if (!body) return -1;
        int rc = publish(NOTIFY_EXCHANGE, rkey, body, 0, 0);
        free(body);
        if (rc == 0) return 0;
        if (!had || R.conn) return -1;
        continue;
    retry:
        if (!had) return -1;
    }
    return -1;
}

int rpc_cast(const char *topic, const char *method, json_t *args) {
    return send_request(topic, method, args, NULL, 0);
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
    if (send_request(topic, method, args, msg_id, timeout_ms) < 0) {
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
        if (pump(left > 1000 ? 1000 : (int)left + 1) < 0) {
            *err = "unreachable";
            return NULL;
        }
    }
}

/* ---- server --------------------------------------------------------------- */

static int serve_setup(const char *queue) {
    amqp_queue_declare(R.conn, CHAN, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    if (check("queue.declare")) return -1;
    amqp_queue_bind(R.conn, CHAN, amqp_cstring_bytes(queue), amqp_cstring_bytes(EXCHANGE),
                    amqp_cstring_bytes(queue), amqp_empty_table);
    if (check("queue.bind")) return -1;
    amqp_basic_qos(R.conn, CHAN, 0, 1, 0);
    if (check("basic.qos")) return -1;
    amqp_basic_consume(R.conn, CHAN, amqp_cstring_bytes(queue), amqp_cstring_bytes(SERVER_TAG), 0,
                       0, 0, amqp_empty_table);
    return check("basic.consume");
}

/* ---- casts kept until the broker is back ------------------------------------ */

struct kept {
    struct kept *next;
    char *topic, *method;
    json_t *args;
    char rid[64], global[64]; /* the request context it was cast in */
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
    char rid[64], global[64];
    snprintf(rid, sizeof rid, "%s", log_request_id());
    snprintf(global, sizeof global, "%s", log_global_request_id());
    while (kept_head) {
        log_set_context(kept_head->rid, kept_head->global);
        if (rpc_cast(kept_head->topic, kept_head->method, kept_head->args)) break;
        kept_pop();
    }
    log_set_context(rid, global);
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
    snprintf(k->rid, sizeof k->rid, "%s", log_request_id());
    snprintf(k->global, sizeof k->global, "%s", log_global_request_id());
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
            /* The reply queue's name is its routing key on the default exchange. */
            if (body && rpc_connect() == 0 && publish("", reply_q, body, 0, 0) < 0)
                log_warn("rpc %s: reply to %s for %s lost", queue, reply_q, method);
            free(body);
        }
        if (!requeue)
            log_info("rpc received method=%s topic=%s msg_id=%s %.1f ms%s%s", method, queue,
                     msg_id ? msg_id : (uid ? uid : "-"), now_ms() - t0,
                     failure ? " failed: " : "", failure ? failure : "");
        log_set_context(NULL, NULL);
        json_decref(res);
    }
    json_decref(msg);
    /* A reconnect while handling invalidates the delivery tag: the broker
     * redelivers the message instead. */
    if (R.conn && R.gen == d->gen) {
        int st = requeue ? amqp_basic_nack(R.conn, CHAN, d->tag, 0, 1)
                         : amqp_basic_ack(R.conn, CHAN, d->tag, 0);
        if (st != AMQP_STATUS_OK) drop("basic.ack", amqp_error_string2(st));
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

int rpc_serve(const char *queue, rpc_handler handler, void *ud, void (*tick)(void *ud), int tick_ms,
              volatile int *stop) {
    if (tick_ms <= 0) tick_ms = 1000;
    unsigned ready_gen = 0; /* the connection our consumer is set up on */
    int backoff = 100;
    double next_tick = now_ms(), next_connect = 0;
    while (!*stop) {
        double now = now_ms();
        if (tick && now >= next_tick) {
            tick(ud);
            next_tick = now_ms() + tick_ms;
            continue;
        }
        int until_tick = tick ? (int)(next_tick - now) + 1 : 1000;
        if (!R.conn || ready_gen != R.gen) {
            if (!R.conn && now < next_connect) {
                double wait = next_connect - now;
                nap((int)(wait < until_tick ? wait : until_tick) + 1, stop);
                continue;
            }
            if (rpc_connect() == 0 && serve_setup(queue) == 0) {
                ready_gen = R.gen;
                backoff = 100;
                log_info("rpc: consuming queue %s", queue);
            } else {
                /* a broker on restart answers within seconds: look often */
                next_connect = now_ms() + backoff;
                if (backoff < 1000) backoff *= 2;
            }
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
        pump(until_tick > 500 ? 500 : until_tick);
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
static int outbox_batch(int *more) {
    *more = 0;
    if (db_begin() != DB_OK) return -1;
    PGresult *r;
    if (db_query(&r,
                 "SELECT id, topic, method, args, context->>'request_id', "
                 "context->>'global_request_id' FROM outbox ORDER BY id LIMIT 100 "
                 "FOR UPDATE SKIP LOCKED",
                 0, NULL) != DB_OK) {
        log_warn("outbox: %s", db_errmsg());
        db_rollback();
        return -1;
    }
    int n = PQntuples(r), done = 0, failed = 0;
    struct sbuf ids = {0};
    sbuf_add(&ids, "{", 1);
    char rid[64], global[64]; /* each row is sent in the context it was written in */
    snprintf(rid, sizeof rid, "%s", log_request_id());
    snprintf(global, sizeof global, "%s", log_global_request_id());
    for (int i = 0; i < n; i++) {
        json_t *args = json_loads(db_str(r, i, 3), JSON_DECODE_ANY, NULL);
        const char *topic = db_str(r, i, 1);
        int note = !strncmp(topic, NOTIFY_TOPIC_PREFIX, strlen(NOTIFY_TOPIC_PREFIX));
        log_set_context(db_str(r, i, 4), db_str(r, i, 5));
        int rc = note ? send_notification(topic + strlen(NOTIFY_TOPIC_PREFIX), args)
                      : send_request(topic, db_str(r, i, 2), args, NULL, 0);
        log_set_context(rid, global);
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
