/* notify.h — Nova's notifications (versioned and legacy), through the outbox.
 *
 * A notification is built where the change is made and written to the
 * outbox in the same transaction (notify_* must run inside db_begin /
 * db_commit): a change that rolls back sends nothing, one that commits is
 * published by the next outbox_flush of any process (API after commit,
 * conductor's tick), to the topic exchange "nova" with routing key
 * "versioned_notifications.<priority>" or "notifications.<priority>", in
 * oslo.messaging's envelope. Compute hosts never open the database: what
 * they report reaches the conductor, which writes the row with the
 * compute's publisher_id ("nova-compute:<host>").
 *
 * [notifications] notification_format = both | versioned | unversioned
 * (default both), notify_on_state_change = vm_state | vm_and_task_state
 * (default unset: no instance.update / compute.instance.update). */
#ifndef CNOVA_NOTIFY_H
#define CNOVA_NOTIFY_H

#include <jansson.h>

/* Outbox rows whose topic starts with this are notifications: the rest of
 * the topic is the routing key, args the whole message. */
#define NOTIFY_TOPIC_PREFIX "notify:"
#define NOTIFY_EXCHANGE "nova"


int notify_versioned_enabled(void);
int notify_legacy_enabled(void);

/* Instance events ("instance.create.start", "instance.power_off.end", ...).
 * Reads the instance (deleted or not) by uuid in the open transaction and
 * queues the versioned event (payload `object`, e.g. "InstanceActionPayload"
 * or "InstanceCreatePayload"; NULL = InstanceActionPayload) and, when
 * legacy_event is not NULL, the legacy one ("compute.instance.create.end").
 * priority "INFO" or "ERROR"; publisher e.g. "nova-compute:host1" or
 * "nova-api:api1"; fault (borrowed, may be NULL) is {"message", "code"}.
 * Returns 0, or -1 when the row could not be written (the caller rolls back
 * or goes on without it, as it prefers). */
int notify_instance(const char *uuid, const char *event_type, const char *object,
                    const char *legacy_event, const char *priority, const char *publisher,
                    json_t *fault);
/* The same with `extra` (borrowed, may be NULL): fields added to both
 * payloads, e.g. {"volume_id": ...} for InstanceActionVolumePayload.
 * Objects known besides InstanceActionPayload / InstanceCreatePayload:
 * InstanceActionResizePrepPayload (new_flavor from the row),
 * InstanceActionRebuildPayload, InstanceActionVolumePayload,
 * InstanceExistsPayload (audit_period from extra). event_type NULL: the
 * legacy event alone. */
int notify_instance_with(const char *uuid, const char *event_type, const char *object,
                         const char *legacy_event, const char *priority, const char *publisher,
                         json_t *fault, json_t *extra);
/* instance.update / compute.instance.update after a state change, when
 * notify_on_state_change asks for it (vm_state: only when the vm_state
 * changed; vm_and_task_state: also task_state). */
int notify_state_change_enabled(void);
int notify_instance_update(const char *uuid, const char *old_state, const char *old_task,
                           const char *publisher);

/* flavor.create / flavor.update / flavor.delete (before the row goes), as
 * the API's publisher; reads the flavor by flavorid in the open transaction. */
int notify_flavor(const char *flavorid, const char *event_type);

/* keypair.<action>.start and .end (action "create", "import" or
 * "delete"), as the API's publisher. */
int notify_keypair(const char *action, const char *user_id, const char *name,
                   const char *fingerprint, const char *public_key, const char *type);
json_t *notify_keypair_payload(const char *user_id, const char *name, const char *fingerprint,
                               const char *public_key, const char *type);

/* server_group.create / .delete (before the row goes) / .add_member
 * (added: the new member's uuid, else NULL), as the API's publisher. */
int notify_server_group(const char *group_uuid, const char *event_type, const char *added);

/* aggregate.<action>.start and .end (create, update_prop, update_metadata,
 * add_host, remove_host, delete: before the row goes), both with the
 * aggregate as the transaction leaves it; row_id is aggregates.id. */
int notify_aggregate(const char *row_id, const char *action);

/* service.update (ServiceStatusPayload) of services.id row_id, published
 * as the service ("nova-compute:<host>"). */
int notify_service(const char *row_id);

/* Queues one versioned event with a ready payload (stolen) and context
 * (borrowed, may be NULL). */
int notify_versioned(const char *event_type, const char *priority, const char *publisher,
                     json_t *payload, json_t *ctx);
/* "<binary>:<host>" into out; host NULL or "" = this process's [DEFAULT] host. */
void notify_publisher(char *out, size_t n, const char *binary, const char *host);

/* ---- pure builders (exposed for tests) ----------------------------------
 * row: the instance as notify_instance reads it (keys of the SQL in
 * notify.c: uuid, user_id, project_id, display_name, flavor, vm_state, ...,
 * ips [{address, version, mac, label, port_id}], bdms, metadata). */
json_t *notify_object(const char *name, const char *version, json_t *data);
json_t *notify_flavor_payload(json_t *flavor);
json_t *notify_instance_payload(json_t *row, const char *object, json_t *fault);
json_t *notify_legacy_instance_payload(json_t *row);
/* The message oslo.messaging's notifier sends: event_type, payload (stolen),
 * priority, publisher_id, message_id, timestamp, and the context as
 * _context_<key>. */
json_t *notify_message(const char *event_type, const char *priority, const char *publisher,
                       json_t *payload, json_t *ctx);
const char *notify_power_state_name(int power_state);

#endif
