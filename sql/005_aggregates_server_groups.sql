-- 005_aggregates_server_groups: host aggregates (the availability_zone
-- metadata key puts an aggregate's hosts in a zone, as in Nova) and server
-- groups with their members. Rows are soft-deleted: deleted = 0 is live.
CREATE TABLE aggregates (
    id         serial PRIMARY KEY,
    uuid       uuid NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    deleted_at timestamptz,
    deleted    integer NOT NULL DEFAULT 0
);

CREATE TABLE aggregate_hosts (
    aggregate_id integer NOT NULL REFERENCES aggregates (id) ON DELETE CASCADE,
    host         text NOT NULL,
    PRIMARY KEY (aggregate_id, host)
);
CREATE INDEX aggregate_hosts_host ON aggregate_hosts (host);

CREATE TABLE aggregate_metadata (
    aggregate_id integer NOT NULL REFERENCES aggregates (id) ON DELETE CASCADE,
    key          text NOT NULL,
    value        text NOT NULL,
    PRIMARY KEY (aggregate_id, key)
);
CREATE INDEX aggregate_metadata_key ON aggregate_metadata (key);

CREATE TABLE server_groups (
    id         serial PRIMARY KEY,
    uuid       uuid NOT NULL UNIQUE,
    name       text,
    project_id text NOT NULL,
    user_id    text NOT NULL,
    policy     text NOT NULL,
    rules      jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    deleted_at timestamptz,
    deleted    integer NOT NULL DEFAULT 0
);
CREATE INDEX server_groups_project ON server_groups (project_id) WHERE deleted = 0;

CREATE TABLE server_group_members (
    id            serial PRIMARY KEY,
    group_uuid    uuid NOT NULL REFERENCES server_groups (uuid),
    instance_uuid uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    deleted       integer NOT NULL DEFAULT 0
);
CREATE INDEX server_group_members_group ON server_group_members (group_uuid) WHERE deleted = 0;
CREATE INDEX server_group_members_instance ON server_group_members (instance_uuid) WHERE deleted = 0;
