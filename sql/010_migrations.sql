-- 010_migrations: one row per move of an instance between hosts (cold
-- migration, resize, live migration, evacuation), with Nova's columns, for
-- os-migrations and servers/{id}/migrations. Soft-deleted rows keep
-- deleted = id (0 = live), as elsewhere.
CREATE TABLE migrations (
    id                    bigserial PRIMARY KEY,
    uuid                  uuid NOT NULL UNIQUE,
    instance_uuid         uuid NOT NULL,
    source_compute        text,
    dest_compute          text,
    source_node           text,
    dest_node             text,
    dest_host             text,
    dest_compute_id       bigint,
    old_instance_type_id  integer,
    new_instance_type_id  integer,
    status                text NOT NULL,
    migration_type        text NOT NULL DEFAULT 'migration'
        CHECK (migration_type IN ('migration', 'resize', 'live-migration', 'evacuation')),
    hidden                boolean NOT NULL DEFAULT false,
    memory_total          bigint,
    memory_processed      bigint,
    memory_remaining      bigint,
    disk_total            bigint,
    disk_processed        bigint,
    disk_remaining        bigint,
    cross_cell_move       boolean NOT NULL DEFAULT false,
    user_id               text,
    project_id            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz,
    deleted_at            timestamptz,
    deleted               bigint NOT NULL DEFAULT 0
);
CREATE INDEX migrations_instance ON migrations (instance_uuid, deleted);
CREATE INDEX migrations_by_time ON migrations (created_at DESC, id DESC) WHERE deleted = 0;
CREATE INDEX migrations_hosts ON migrations (source_compute, dest_compute, deleted);
