-- 015_hosts_task_log: what os-hosts and os-instance_usage_audit_log read.
-- status_disabled: a compute node that takes no new instances while its
-- service stays enabled (os-hosts status=disable; Nova's
-- COMPUTE_STATUS_DISABLED trait); the scheduler skips it.
ALTER TABLE compute_nodes ADD COLUMN status_disabled boolean NOT NULL DEFAULT false;

-- task_log: one row per host and run of a periodic host task (Nova's
-- instance_usage_audit: which instances existed during an audit period).
CREATE TABLE task_log (
    id                bigserial PRIMARY KEY,
    task_name         text NOT NULL,
    state             text NOT NULL,
    host              text NOT NULL,
    period_beginning  timestamp NOT NULL,
    period_ending     timestamp NOT NULL,
    message           text NOT NULL DEFAULT '',
    task_items        integer NOT NULL DEFAULT 0,
    errors            integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz,
    deleted           integer NOT NULL DEFAULT 0,
    UNIQUE (host, task_name, period_beginning, period_ending)
);
