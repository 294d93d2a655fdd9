-- 003_keypairs: key pairs, owned by a user (not a project), named uniquely
-- per user among live rows. A deleted row keeps its name with deleted = id,
-- so the name can be reused; live rows have deleted = 0 (quota counts them).
CREATE TABLE key_pairs (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    user_id     text NOT NULL,
    project_id  text,
    fingerprint text NOT NULL,
    public_key  text NOT NULL,
    type        text NOT NULL DEFAULT 'ssh' CHECK (type IN ('ssh', 'x509')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz,
    deleted_at  timestamptz,
    deleted     bigint NOT NULL DEFAULT 0,
    UNIQUE (user_id, name, deleted)
);
