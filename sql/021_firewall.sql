-- 021_firewall: what a compute host's firewall (nftables on each guest's
-- tap, workers/compute/firewall.c) is made of changes in the security
-- groups' tables; the change queues a "security_groups_changed" message to
-- the conductor in the same transaction (the outbox), which asks every
-- compute host to load its rules again. A group joined at boot needs no
-- message: the host loads its rules when it plugs the new guest.

CREATE FUNCTION security_groups_changed() RETURNS trigger AS $$
BEGIN
    INSERT INTO outbox (topic, method, args)
        VALUES ('conductor', 'security_groups_changed', '{}');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER security_group_rules_changed
    AFTER INSERT OR DELETE OR UPDATE ON security_group_rules
    FOR EACH STATEMENT EXECUTE FUNCTION security_groups_changed();

-- a live server joining or leaving a group (addSecurityGroup,
-- removeSecurityGroup); a building one's host reads its groups at plug time
CREATE FUNCTION security_group_membership_changed() RETURNS trigger AS $$
DECLARE
    inst uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.instance_uuid ELSE NEW.instance_uuid END;
BEGIN
    IF EXISTS (SELECT 1 FROM instances WHERE uuid = inst AND deleted = 0
               AND vm_state <> 'building' AND host IS NOT NULL) THEN
        INSERT INTO outbox (topic, method, args)
            VALUES ('conductor', 'security_groups_changed', '{}');
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER security_group_membership_changed
    AFTER INSERT OR DELETE ON security_group_instance_association
    FOR EACH ROW EXECUTE FUNCTION security_group_membership_changed();
