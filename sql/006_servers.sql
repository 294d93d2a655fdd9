-- 006_servers: instances and everything hung on them, the images the
-- built-in registry serves, and the compute nodes the scheduler claims
-- resources on. Soft-deleted rows keep deleted = id (0 = live), as Nova does.

-- One row per hypervisor node, reported by cnova-compute through the
-- conductor. Claims add to *_used with a conditional UPDATE so that
-- concurrent builds never over-commit: used + request <= total * ratio.
CREATE TABLE compute_nodes (
    id                    serial PRIMARY KEY,
    uuid                  uuid NOT NULL UNIQUE,
    host                  text NOT NULL,
    hypervisor_hostname   text NOT NULL,
    hypervisor_type       text NOT NULL DEFAULT 'QEMU',
    hypervisor_version    integer NOT NULL DEFAULT 0,
    host_ip               text,
    cpu_info              text NOT NULL DEFAULT '{}',
    vcpus                 integer NOT NULL DEFAULT 0,
    memory_mb             integer NOT NULL DEFAULT 0,
    local_gb              integer NOT NULL DEFAULT 0,
    vcpus_used            integer NOT NULL DEFAULT 0,
    memory_mb_used        integer NOT NULL DEFAULT 0,
    local_gb_used         integer NOT NULL DEFAULT 0,
    running_vms           integer NOT NULL DEFAULT 0,
    cpu_allocation_ratio  double precision NOT NULL DEFAULT 4.0,
    ram_allocation_ratio  double precision NOT NULL DEFAULT 1.0,
    disk_allocation_ratio double precision NOT NULL DEFAULT 1.0,
    reserved_host_memory_mb integer NOT NULL DEFAULT 512,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz,
    deleted_at            timestamptz,
    deleted               integer NOT NULL DEFAULT 0,
    UNIQUE (host, hypervisor_hostname, deleted)
);

CREATE TABLE images (
    id               uuid PRIMARY KEY,
    name             text,
    status           text NOT NULL DEFAULT 'active',
    size             bigint NOT NULL DEFAULT 0,
    disk_format      text,
    container_format text,
    min_disk         integer NOT NULL DEFAULT 0,
    min_ram          integer NOT NULL DEFAULT 0,
    visibility       text NOT NULL DEFAULT 'public',
    owner            text,
    protected        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz,
    deleted_at       timestamptz,
    deleted          boolean NOT NULL DEFAULT false
);

CREATE TABLE image_properties (
    image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (image_id, key)
);

CREATE TABLE instances (
    id                  bigserial PRIMARY KEY,
    uuid                uuid NOT NULL UNIQUE,
    project_id          text NOT NULL,
    user_id             text NOT NULL,
    display_name        text,
    display_description text,
    hostname            text,
    image_ref           text,           -- '' for volume-backed servers
    -- the flavor as it was at boot (Nova embeds it in the instance):
    -- {"flavorid", "name", "vcpus", "memory_mb", "root_gb", "ephemeral_gb",
    --  "swap", "rxtx_factor", "is_public", "description", "extra_specs": {}}
    flavor              jsonb NOT NULL,
    vcpus               integer NOT NULL,
    memory_mb           integer NOT NULL,
    root_gb             integer NOT NULL,
    ephemeral_gb        integer NOT NULL DEFAULT 0,
    key_name            text,
    key_data            text,
    user_data           text,
    config_drive        text NOT NULL DEFAULT '',
    access_ip_v4        text,
    access_ip_v6        text,
    vm_state            text NOT NULL DEFAULT 'building',
    task_state          text DEFAULT 'scheduling',
    power_state         integer NOT NULL DEFAULT 0,  -- Nova's numbers: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED, 7 SUSPENDED
    host                text,
    node                text,
    launched_on         text,
    availability_zone   text,           -- the zone it runs in (scheduled or requested)
    pinned_availability_zone text,      -- the zone the user asked for (2.96)
    locked              boolean NOT NULL DEFAULT false,
    locked_by           text,           -- 'owner' or 'admin'
    locked_reason       text,
    reservation_id      text NOT NULL,
    launch_index        integer NOT NULL DEFAULT 0,
    progress            integer NOT NULL DEFAULT 0,
    root_device_name    text,
    -- what the scheduler and conductor need to (re)build it: scheduler hints,
    -- requested networks, security group names, server group, retries, ...
    request_spec        jsonb NOT NULL DEFAULT '{}',
    -- addresses as Nova shows them: {"<network>": [{"addr", "version",
    -- "OS-EXT-IPS:type", "OS-EXT-IPS-MAC:mac_addr"}]}
    addresses           jsonb NOT NULL DEFAULT '{}',
    security_groups     jsonb NOT NULL DEFAULT '[]',  -- [{"name": "default"}]
    trusted_certs       jsonb,
    system_metadata     jsonb NOT NULL DEFAULT '{}',  -- password, image_* copies, ...
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz,
    launched_at         timestamptz,
    terminated_at       timestamptz,
    deleted_at          timestamptz,
    deleted             bigint NOT NULL DEFAULT 0
);
CREATE INDEX instances_project ON instances (project_id, deleted);
CREATE INDEX instances_host ON instances (host, deleted);
CREATE INDEX instances_created ON instances (created_at, id);

CREATE TABLE instance_metadata (
    instance_uuid uuid NOT NULL REFERENCES instances (uuid) ON DELETE CASCADE,
    key           text NOT NULL,
    value         text NOT NULL,
    PRIMARY KEY (instance_uuid, key)
);

CREATE TABLE tags (
    resource_id uuid NOT NULL REFERENCES instances (uuid) ON DELETE CASCADE,
    tag         text NOT NULL,
    PRIMARY KEY (resource_id, tag)
);

CREATE TABLE instance_faults (
    id            bigserial PRIMARY KEY,
    instance_uuid uuid NOT NULL REFERENCES instances (uuid) ON DELETE CASCADE,
    code          integer NOT NULL,
    message       text NOT NULL,
    details       text,
    host          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instance_faults_instance ON instance_faults (instance_uuid, id);

CREATE TABLE block_device_mapping (
    id                    bigserial PRIMARY KEY,
    instance_uuid         uuid NOT NULL REFERENCES instances (uuid) ON DELETE CASCADE,
    source_type           text NOT NULL,   -- image, volume, snapshot, blank
    destination_type      text NOT NULL,   -- local, volume
    boot_index            integer,
    device_name           text,
    delete_on_termination boolean NOT NULL DEFAULT false,
    volume_size           integer,
    guest_format          text,
    disk_bus              text,
    device_type           text,
    image_id              text,
    volume_id             text,
    snapshot_id           text,
    volume_type           text,
    tag                   text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    deleted               integer NOT NULL DEFAULT 0
);

CREATE TABLE instance_actions (
    id            bigserial PRIMARY KEY,
    action        text NOT NULL,
    instance_uuid uuid NOT NULL,
    request_id    text NOT NULL,
    user_id       text,
    project_id    text,
    start_time    timestamptz NOT NULL DEFAULT now(),
    finish_time   timestamptz,
    message       text,
    updated_at    timestamptz
);
CREATE INDEX instance_actions_instance ON instance_actions (instance_uuid, id);

CREATE TABLE instance_actions_events (
    id          bigserial PRIMARY KEY,
    action_id   bigint NOT NULL REFERENCES instance_actions (id) ON DELETE CASCADE,
    event       text NOT NULL,
    start_time  timestamptz NOT NULL DEFAULT now(),
    finish_time timestamptz,
    result      text,
    traceback   text,
    host        text,
    details     text
);
