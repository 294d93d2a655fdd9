-- 009_pipeline: what the build pipeline keeps on an instance (additive to
-- 006). claim is the resources the scheduler reserved on a compute node,
-- {"node_id", "vcpus", "memory_mb", "disk_gb"}; releasing it sets it back to
-- NULL in the same statement that gives the resources back, so a claim is
-- released exactly once whatever path (failure, retry, delete) gets there.
ALTER TABLE instances ADD COLUMN claim jsonb;
-- Builds tried so far and the hosts they ran on ([scheduler] max_attempts;
-- the scheduler skips hosts that already failed this instance).
ALTER TABLE instances ADD COLUMN build_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN build_tried_hosts text[] NOT NULL DEFAULT '{}';

-- The conductor's build timeout scans unfinished work by age.
CREATE INDEX instances_unfinished ON instances ((coalesce(updated_at, created_at)))
    WHERE deleted = 0 AND (vm_state = 'building' OR task_state = 'deleting');

-- Fake fixed IPs of the built-in "private" network: 10.0.x.y.
CREATE SEQUENCE fixed_ip_seq;
