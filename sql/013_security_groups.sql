-- 013_security_groups: the built-in security groups (os-security-groups,
-- os-security-group-rules, the servers' addSecurityGroup/removeSecurityGroup)
-- as nova-network kept them: groups per project with unique names (each
-- project gets a "default" group on first use), ingress rules from a CIDR or
-- from members of another group, and which groups each instance is in.
-- Deleting a group takes its rules, the rules naming it and its instance
-- associations with it (the API refuses while a live instance uses it).

CREATE TABLE security_groups (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    description text,
    project_id  text NOT NULL,
    user_id     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz,
    UNIQUE (project_id, name)
);

CREATE TABLE security_group_rules (
    id              uuid PRIMARY KEY,
    parent_group_id uuid NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    protocol        text,
    from_port       integer,
    to_port         integer,
    cidr            text,
    group_id        uuid REFERENCES security_groups (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX security_group_rules_parent_idx ON security_group_rules (parent_group_id);
CREATE INDEX security_group_rules_group_idx ON security_group_rules (group_id);

CREATE TABLE security_group_instance_association (
    security_group_id uuid NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    instance_uuid     uuid NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (security_group_id, instance_uuid)
);
CREATE INDEX security_group_instance_idx ON security_group_instance_association (instance_uuid);
