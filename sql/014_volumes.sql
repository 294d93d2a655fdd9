-- 014_volumes: the built-in block storage behind os-volumes, os-snapshots
-- and os-volume_attachments (a single cnova needs no Cinder). A volume is a
-- row here; attaching it is a block_device_mapping row plus a disk in the
-- guest's libvirt definition. Status follows Cinder's: available,
-- attaching, in-use, detaching, deleting (deleted rows keep deleted = true).

CREATE TABLE volumes (
    id                  uuid PRIMARY KEY,
    project_id          text NOT NULL,
    user_id             text NOT NULL,
    display_name        text,
    display_description text,
    size                integer NOT NULL,          -- GiB
    availability_zone   text NOT NULL,
    volume_type         text,
    snapshot_id         uuid,                      -- the snapshot it was made from
    metadata            jsonb NOT NULL DEFAULT '{}',
    status              text NOT NULL DEFAULT 'available',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz,
    deleted_at          timestamptz,
    deleted             boolean NOT NULL DEFAULT false
);
CREATE INDEX volumes_project ON volumes (project_id, deleted);

CREATE TABLE volume_snapshots (
    id                  uuid PRIMARY KEY,
    volume_id           uuid NOT NULL REFERENCES volumes (id),
    project_id          text NOT NULL,
    user_id             text NOT NULL,
    display_name        text,
    display_description text,
    size                integer NOT NULL,          -- the volume's size when taken
    status              text NOT NULL DEFAULT 'available',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz,
    deleted_at          timestamptz,
    deleted             boolean NOT NULL DEFAULT false
);
CREATE INDEX volume_snapshots_project ON volume_snapshots (project_id, deleted);
CREATE INDEX volume_snapshots_volume ON volume_snapshots (volume_id, deleted);

-- 2.89 shows each attachment's bdm_uuid and (Cinder) attachment_id.
ALTER TABLE block_device_mapping ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE block_device_mapping ADD COLUMN attachment_id uuid;
CREATE INDEX block_device_mapping_volume ON block_device_mapping (volume_id, deleted);

-- Deleting a server (every path: the API's local delete, the conductor's
-- instance_terminated) releases its volumes, as Nova's
-- _cleanup_volumes does: a delete_on_termination volume is deleted, the
-- others become available again; the mappings are soft-deleted.
CREATE FUNCTION volumes_release_instance() RETURNS trigger AS $$
BEGIN
    WITH b AS (
        UPDATE block_device_mapping SET deleted = id
        WHERE instance_uuid = NEW.uuid AND deleted = 0 AND volume_id IS NOT NULL
        RETURNING CASE WHEN volume_id ~* '^[0-9a-f-]{36}$' THEN volume_id::uuid END AS vid,
                  delete_on_termination),
    d AS (
        SELECT b.vid, b.delete_on_termination AND NOT EXISTS (
            SELECT 1 FROM volume_snapshots s WHERE s.volume_id = b.vid AND NOT s.deleted)
            AS doomed
        FROM b WHERE b.vid IS NOT NULL)
    UPDATE volumes v SET status = CASE WHEN d.doomed THEN 'deleted' ELSE 'available' END,
        deleted = d.doomed, deleted_at = CASE WHEN d.doomed THEN now() END, updated_at = now()
    FROM d WHERE v.id = d.vid AND NOT v.deleted;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER instances_release_volumes AFTER UPDATE OF deleted ON instances
    FOR EACH ROW WHEN (OLD.deleted = 0 AND NEW.deleted <> 0)
    EXECUTE FUNCTION volumes_release_instance();
