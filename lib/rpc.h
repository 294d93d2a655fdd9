/* rpc.h — work over RabbitMQ (librabbitmq), never state.
 *
 * Topic exchange "cnova"; queues "conductor", "scheduler", "compute.<host>".
 * Messages use the oslo.messaging envelope
 *   {"oslo.version": "2.0", "oslo.message": "<json: method, args, _msg_id, _reply_q, ...>"}
 * Casts are published with publisher confirms. Calls wait on a private reply
 * queue with a timeout. The outbox makes API writes and their async work
 * atomic: outbox_add() inserts a row in the caller's open transaction,
 * outbox_flush() (after commit) publishes pending rows and deletes each one
 * when the broker confirms it; rows left behind (broker down) are published
 * by the next flush, from any process. */
#ifndef CNOVA_RPC_H
#define CNOVA_RPC_H

#include <jansson.h>

/* Connects lazily with [rabbit] host/port/user/password/vhost; every call
 * below reconnects when needed. Returns 0 or -1. */
int rpc_connect(void);
void rpc_close(void);

/* Publishes {method, args} to routing key `topic`; waits for the confirm.
 * Does not steal `args`. Returns 0 when confirmed, -1 otherwise. */
int rpc_cast(const char *topic, const char *method, json_t *args);
/* rpc_cast, or when the broker cannot take it now, a copy kept in memory
 * and sent (in order, before any later one) as soon as it is back, by
 * rpc_serve's loop or the next rpc_cast_later: for the messages a workflow
 * waits on (a host's answer, the conductor's next step), which would
 * otherwise wait for a timeout to re-drive them. Lost only if the process
 * dies first. Returns 0 when sent, 1 when kept, -1 when dropped. */
int rpc_cast_later(const char *topic, const char *method, json_t *args);

/* Sends {method, args} to `topic` and waits up to timeout_ms for the reply.
 * Returns the reply's "result" (new reference) or NULL on timeout / failure
 * (then *err, if given, says why: "timeout", "unreachable", or the remote
 * failure message). */
json_t *rpc_call(const char *topic, const char *method, json_t *args, int timeout_ms,
                 const char **err);

/* Server side: consumes `queue` (declared durable, bound to the exchange
 * with routing key = queue name) and calls handler for every message. A
 * handler returns a new reference that is sent back to callers (ignored for
 * casts; NULL means JSON null). `tick` (may be NULL) runs at least every
 * tick_ms (heartbeats, periodic tasks). Returns when *stop becomes nonzero. */
typedef json_t *(*rpc_handler)(const char *method, json_t *args, void *ud);
/* A handler's way to answer a call with an error: the caller's rpc_call
 * returns NULL with *err = the message. */
json_t *rpc_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rpc_serve(const char *queue, rpc_handler handler, void *ud, void (*tick)(void *ud), int tick_ms,
              volatile int *stop);

/* Connections this process made after its first (metrics). */
unsigned long rpc_reconnects(void);
/* Messages waiting in the durable queue `queue` (and its consumers), or
 * -1 when the broker cannot say. */
long rpc_queue_depth(const char *queue, long *consumers);

/* The outbox: see above. outbox_add must run inside db_begin/db_commit.
 * outbox_flush returns the number of rows published, or -1. */
int outbox_add(const char *topic, const char *method, json_t *args);
int outbox_flush(void);

/* The wire format (pure; exposed for tests). rpc_envelope_encode builds the
 * envelope of a request {method, args, _unique_id} plus, for calls (msg_id
 * not NULL), _msg_id, _reply_q and _timeout (seconds). rpc_reply_encode
 * builds the envelope of a reply {result, failure, ending: true, _msg_id}.
 * Both return a malloc'd string. rpc_envelope_decode accepts an envelope or
 * a bare message and returns the inner object (new reference) or NULL. */
char *rpc_envelope_encode(const char *method, json_t *args, const char *msg_id, const char *reply_q,
                          int timeout_ms);
char *rpc_reply_encode(json_t *result, const char *failure, const char *msg_id);
json_t *rpc_envelope_decode(const char *body, size_t len);

#endif
