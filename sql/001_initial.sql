-- 001_initial: services (every cnova process that serves a topic) and the
-- outbox (async work written in the API's transaction, published after commit).
CREATE TABLE services (
    id              serial PRIMARY KEY,
    uuid            uuid NOT NULL UNIQUE,
    host            text NOT NULL,
    "binary"        text NOT NULL,
    topic           text NOT NULL,
    report_count    integer NOT NULL DEFAULT 0,
    disabled        boolean NOT NULL DEFAULT false,
    disabled_reason text,
    forced_down     boolean NOT NULL DEFAULT false,
    version         integer NOT NULL DEFAULT 0,
    last_seen_up    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz,
    deleted_at      timestamptz,
    deleted         integer NOT NULL DEFAULT 0,
    UNIQUE (host, "binary", deleted)
);

CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL,
    method     text NOT NULL,
    args       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
