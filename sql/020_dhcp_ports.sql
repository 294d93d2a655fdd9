-- 020_dhcp_ports: each network's DHCP server holds an address of its own,
-- as Neutron's DHCP port does (device_owner network:dhcp): the host's
-- qdhcp namespace answers DHCP and the metadata proxy from it, so the IPAM
-- must never give it to a server. The port belongs to no instance and is
-- never released; a network made later gets its own at once.
ALTER TABLE ports ADD COLUMN device_owner text;

CREATE FUNCTION ipam_dhcp_port(net uuid) RETURNS void AS $$
    WITH a AS (SELECT ipam_free_address(net) AS address),
         p AS (INSERT INTO ports (id, network_id, mac_address, preexisting, device_owner)
               SELECT i, net, 'fa:16:3e:' || substr(md5(i::text), 1, 2) || ':'
                      || substr(md5(i::text), 3, 2) || ':' || substr(md5(i::text), 5, 2),
                      true, 'network:dhcp'
               FROM a, gen_random_uuid() i WHERE a.address IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM ports d WHERE d.network_id = net
                                 AND d.device_owner = 'network:dhcp')
               RETURNING id)
    INSERT INTO fixed_ips (network_id, address, port_id) SELECT net, a.address, p.id FROM a, p
$$ LANGUAGE sql;

-- The seeded private network gets an id of its own per deployment (017
-- seeded Nova's sample id): its bridge and qdhcp- namespace are named
-- after it, so two stacks on one machine (make run beside make test) never
-- share them. Only while nothing uses it.
UPDATE networks SET id = gen_random_uuid()
    WHERE id = '3cb9bc59-5699-4588-a4b1-b87f96708bc6'
      AND NOT EXISTS (SELECT 1 FROM ports WHERE network_id = networks.id)
      AND NOT EXISTS (SELECT 1 FROM floating_ips WHERE network_id = networks.id);

SELECT ipam_dhcp_port(id) FROM networks WHERE NOT external AND enable_dhcp;

CREATE FUNCTION networks_dhcp_port() RETURNS trigger AS $$
BEGIN
    IF NOT NEW.external AND NEW.enable_dhcp THEN PERFORM ipam_dhcp_port(NEW.id); END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER networks_dhcp_port AFTER INSERT ON networks
    FOR EACH ROW EXECUTE FUNCTION networks_dhcp_port();

-- 017's ipam_port_bind, refusing the DHCP server's port (Neutron: in use
-- by its device) to everyone, admin included.
CREATE OR REPLACE FUNCTION ipam_port_bind(pid uuid, inst uuid, project text, admin boolean,
                                          want_tag text, dry boolean, OUT error text) AS $$
DECLARE
    p ports;
BEGIN
    SELECT * INTO p FROM ports WHERE id = pid AND (admin OR project_id = project) FOR UPDATE;
    IF NOT FOUND THEN error := 'port'; RETURN; END IF;
    IF p.instance_uuid IS NOT NULL OR p.device_owner IS NOT NULL THEN
        error := 'in_use'; RETURN;
    END IF;
    IF NOT dry THEN
        UPDATE ports SET instance_uuid = inst, tag = want_tag WHERE id = pid;
    END IF;
END $$ LANGUAGE plpgsql;
