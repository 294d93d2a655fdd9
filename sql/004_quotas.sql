-- 004_quotas: quota limits set through os-quota-sets and os-quota-class-sets.
-- A limit is a row only when someone set it; otherwise the quota class
-- "default", then [quota] config applies. Usage is never stored: quota.c
-- counts the rows themselves. -1 = unlimited.
CREATE TABLE quotas (
    project_id text NOT NULL,
    resource   text NOT NULL,
    hard_limit bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    PRIMARY KEY (project_id, resource)
);

CREATE TABLE project_user_quotas (
    project_id text NOT NULL,
    user_id    text NOT NULL,
    resource   text NOT NULL,
    hard_limit bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    PRIMARY KEY (project_id, user_id, resource)
);

CREATE TABLE quota_classes (
    class_name text NOT NULL,
    resource   text NOT NULL,
    hard_limit bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    PRIMARY KEY (class_name, resource)
);
