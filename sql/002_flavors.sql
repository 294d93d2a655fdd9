-- 002_flavors: flavors, which projects may use a private flavor, and each
-- flavor's extra specs (hard-deleted together with their flavor, as in
-- Nova's API database). Seeds the five m1.* flavors Nova's samples list.
CREATE TABLE flavors (
    id           serial PRIMARY KEY,
    flavorid     text NOT NULL UNIQUE,
    name         text NOT NULL UNIQUE,
    memory_mb    integer NOT NULL,
    vcpus        integer NOT NULL,
    root_gb      integer NOT NULL DEFAULT 0,
    ephemeral_gb integer NOT NULL DEFAULT 0,
    swap         integer NOT NULL DEFAULT 0,
    rxtx_factor  double precision NOT NULL DEFAULT 1.0,
    vcpu_weight  integer,
    disabled     boolean NOT NULL DEFAULT false,
    is_public    boolean NOT NULL DEFAULT true,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz
);

CREATE TABLE flavor_projects (
    id         serial PRIMARY KEY,
    flavor_id  integer NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    project_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (flavor_id, project_id)
);

CREATE TABLE flavor_extra_specs (
    id         serial PRIMARY KEY,
    flavor_id  integer NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    key        text NOT NULL,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    UNIQUE (flavor_id, key)
);

INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb) VALUES
    ('1', 'm1.tiny', 512, 1, 1),
    ('2', 'm1.small', 2048, 1, 20),
    ('3', 'm1.medium', 4096, 2, 40),
    ('4', 'm1.large', 8192, 4, 80),
    ('5', 'm1.xlarge', 16384, 8, 160);
