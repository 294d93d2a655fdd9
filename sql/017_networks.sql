-- 017_networks: the built-in IPAM behind a server's addresses, os-networks,
-- os-tenant-networks, os-floating-ip(-pool)s, os-interface and os-multinic
-- (a single cnova needs no Neutron). A network has one IPv4 subnet; an
-- external network is a floating IP pool. A port is a server's interface:
-- a MAC and one fixed IP (a row in fixed_ips, unique per network, so
-- addresses never collide). A floating IP is a pool address held by a
-- project and, while associated, pointing at a port's fixed address.
-- instances.addresses stays the cache the views read: triggers rebuild it
-- from the ports whenever they change, once the build has finished (the
-- conductor's instance_built fills it first).

CREATE TABLE networks (
    id          uuid PRIMARY KEY,
    label       text NOT NULL,
    project_id  text,                          -- NULL = shared
    cidr        cidr NOT NULL,
    gateway     inet,
    dns1        inet,
    dns2        inet,
    enable_dhcp boolean NOT NULL DEFAULT true,
    mtu         integer,
    external    boolean NOT NULL DEFAULT false, -- a floating IP pool
    subnet_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz
);

CREATE TABLE ports (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    network_id    uuid NOT NULL REFERENCES networks (id),
    mac_address   text NOT NULL UNIQUE,
    project_id    text,
    instance_uuid uuid,                        -- the device; NULL = unbound
    tag           text,
    preexisting   boolean NOT NULL DEFAULT false, -- not made by cnova: kept when unbound
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ports_instance ON ports (instance_uuid);

CREATE TABLE fixed_ips (
    network_id uuid NOT NULL REFERENCES networks (id),
    address    inet NOT NULL,
    port_id    uuid NOT NULL REFERENCES ports (id) ON DELETE CASCADE,
    PRIMARY KEY (network_id, address)
);
CREATE INDEX fixed_ips_port ON fixed_ips (port_id);

CREATE TABLE floating_ips (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    network_id    uuid NOT NULL REFERENCES networks (id),
    address       inet NOT NULL,
    project_id    text NOT NULL,
    port_id       uuid REFERENCES ports (id) ON DELETE SET NULL,
    fixed_address inet,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (network_id, address)
);
CREATE INDEX floating_ips_project ON floating_ips (project_id);
CREATE INDEX floating_ips_port ON floating_ips (port_id);

INSERT INTO networks (id, label, cidr, gateway, mtu, external, subnet_id) VALUES
    ('3cb9bc59-5699-4588-a4b1-b87f96708bc6', 'private', '10.0.0.0/16', '10.0.0.1', 1450, false,
     'f8a6e8f8-c2ec-497c-9f23-da9616de54ef'),
    ('e5b0a2c4-7f31-4d8e-9b6a-1c2d3e4f5a6b', 'public', '172.24.4.0/24', '172.24.4.1', 1500, true,
     '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f');

-- The lowest host address of network `net` that no fixed or floating IP
-- holds (the network, broadcast and gateway addresses excluded); NULL when
-- the network is full.
CREATE FUNCTION ipam_free_address(net uuid) RETURNS inet AS $$
    SELECT x.a FROM networks n,
        generate_series(1::bigint, (2::bigint ^ (32 - masklen(n.cidr)))::bigint - 2) o,
        LATERAL (SELECT host(n.cidr::inet + o)::inet AS a) x
    WHERE n.id = net AND x.a IS DISTINCT FROM n.gateway
        AND NOT EXISTS (SELECT 1 FROM fixed_ips f WHERE f.network_id = net AND f.address = x.a)
        AND NOT EXISTS (SELECT 1 FROM floating_ips f WHERE f.network_id = net AND f.address = x.a)
    LIMIT 1
$$ LANGUAGE sql STABLE;

-- A port for instance `inst` on network `net` with fixed IP `ip` (NULL =
-- the next free one). The network row is locked, so concurrent allocations
-- in it are serialised. Nothing is written when `dry`. error: 'network'
-- (no such network the project may use), 'invalid' (ip outside the
-- subnet), 'in_use' (holder = the instance holding it), 'exhausted'.
CREATE FUNCTION ipam_port_create(net uuid, ip inet, inst uuid, project text, admin boolean,
                                 want_tag text, dry boolean,
                                 OUT port uuid, OUT fixed_ip inet, OUT error text,
                                 OUT holder uuid) AS $$
DECLARE
    n networks;
BEGIN
    SELECT * INTO n FROM networks WHERE id = net AND NOT external
        AND (admin OR project_id IS NULL OR project_id = project) FOR UPDATE;
    IF NOT FOUND THEN error := 'network'; RETURN; END IF;
    IF ip IS NOT NULL THEN
        IF family(ip) <> 4 OR NOT ip <<= n.cidr OR host(ip) = host(n.cidr)
           OR host(ip) = host(broadcast(n.cidr)) OR ip = n.gateway THEN
            error := 'invalid'; RETURN;
        END IF;
        fixed_ip := host(ip)::inet;
        SELECT p.instance_uuid INTO holder FROM fixed_ips f JOIN ports p ON p.id = f.port_id
            WHERE f.network_id = net AND f.address = fixed_ip;
        IF FOUND THEN error := 'in_use'; RETURN; END IF;
    ELSE
        fixed_ip := ipam_free_address(net);
        IF fixed_ip IS NULL THEN error := 'exhausted'; RETURN; END IF;
    END IF;
    IF dry THEN RETURN; END IF;
    port := gen_random_uuid();
    INSERT INTO ports (id, network_id, mac_address, project_id, instance_uuid, tag)
        VALUES (port, net, 'fa:16:3e:' || substr(md5(port::text), 1, 2) || ':'
                || substr(md5(port::text), 3, 2) || ':' || substr(md5(port::text), 5, 2),
                project, inst, want_tag);
    INSERT INTO fixed_ips (network_id, address, port_id) VALUES (net, fixed_ip, port);
END $$ LANGUAGE plpgsql;

-- Binds the existing unbound port `pid` to instance `inst` (nothing when
-- `dry`). error: 'port' (no such port the project may use), 'in_use'.
CREATE FUNCTION ipam_port_bind(pid uuid, inst uuid, project text, admin boolean, want_tag text,
                               dry boolean, OUT error text) AS $$
DECLARE
    p ports;
BEGIN
    SELECT * INTO p FROM ports WHERE id = pid AND (admin OR project_id = project) FOR UPDATE;
    IF NOT FOUND THEN error := 'port'; RETURN; END IF;
    IF p.instance_uuid IS NOT NULL THEN error := 'in_use'; RETURN; END IF;
    IF NOT dry THEN
        UPDATE ports SET instance_uuid = inst, tag = want_tag WHERE id = pid;
    END IF;
END $$ LANGUAGE plpgsql;

-- Takes port `pid` off its instance: a port cnova made is deleted (its
-- fixed IP freed), a pre-existing one is kept unbound; a floating IP on it
-- is disassociated.
CREATE FUNCTION ipam_port_release(pid uuid) RETURNS void AS $$
    UPDATE floating_ips SET port_id = NULL, fixed_address = NULL WHERE port_id = pid;
    DELETE FROM ports WHERE id = pid AND NOT preexisting;
    UPDATE ports SET instance_uuid = NULL, tag = NULL WHERE id = pid;
$$ LANGUAGE sql;

-- A server's addresses as Nova shows them, from its ports: per network
-- label, each port's fixed IP then the floating IPs pointing at it.
CREATE FUNCTION instance_addresses(inst uuid) RETURNS jsonb AS $$
    SELECT COALESCE(jsonb_object_agg(label, addrs), '{}'::jsonb) FROM (
        SELECT n.label, jsonb_agg(a.v ORDER BY a.created_at, a.port, a.kind, a.addr) AS addrs
        FROM (
            SELECT p.network_id, p.created_at, p.id AS port, 0 AS kind, f.address AS addr,
                   jsonb_build_object('version', family(f.address), 'addr', host(f.address),
                                      'OS-EXT-IPS:type', 'fixed',
                                      'OS-EXT-IPS-MAC:mac_addr', p.mac_address) AS v
            FROM ports p JOIN fixed_ips f ON f.port_id = p.id WHERE p.instance_uuid = inst
            UNION ALL
            SELECT p.network_id, p.created_at, p.id, 1, fl.address,
                   jsonb_build_object('version', family(fl.address), 'addr', host(fl.address),
                                      'OS-EXT-IPS:type', 'floating',
                                      'OS-EXT-IPS-MAC:mac_addr', p.mac_address)
            FROM ports p JOIN floating_ips fl ON fl.port_id = p.id WHERE p.instance_uuid = inst
        ) a JOIN networks n ON n.id = a.network_id
        GROUP BY n.label) per_network
$$ LANGUAGE sql STABLE;

-- Keeps instances.addresses in step with the ports of built servers.
CREATE FUNCTION instance_addresses_refresh(inst uuid) RETURNS void AS $$
    UPDATE instances SET addresses = instance_addresses(inst)
    WHERE uuid = inst AND deleted = 0 AND vm_state <> 'building'
        AND addresses IS DISTINCT FROM instance_addresses(inst);
$$ LANGUAGE sql;

CREATE FUNCTION ipam_ports_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.instance_uuid IS NOT NULL THEN
        PERFORM instance_addresses_refresh(OLD.instance_uuid);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.instance_uuid IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.instance_uuid IS DISTINCT FROM OLD.instance_uuid) THEN
        PERFORM instance_addresses_refresh(NEW.instance_uuid);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER ports_addresses AFTER INSERT OR UPDATE OF instance_uuid OR DELETE ON ports
    FOR EACH ROW EXECUTE FUNCTION ipam_ports_changed();

CREATE FUNCTION ipam_addresses_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM instance_addresses_refresh(p.instance_uuid) FROM ports p
            WHERE p.id = OLD.port_id AND p.instance_uuid IS NOT NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM instance_addresses_refresh(p.instance_uuid) FROM ports p
            WHERE p.id = NEW.port_id AND p.instance_uuid IS NOT NULL;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fixed_ips_addresses AFTER INSERT OR UPDATE OR DELETE ON fixed_ips
    FOR EACH ROW EXECUTE FUNCTION ipam_addresses_changed();
CREATE TRIGGER floating_ips_addresses AFTER INSERT OR UPDATE OR DELETE ON floating_ips
    FOR EACH ROW EXECUTE FUNCTION ipam_addresses_changed();

-- A deleted server gives its ports back (as Nova's deallocate_for_instance).
CREATE FUNCTION ipam_release_instance() RETURNS trigger AS $$
BEGIN
    PERFORM ipam_port_release(p.id) FROM ports p WHERE p.instance_uuid = NEW.uuid;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER instances_release_ports AFTER UPDATE OF deleted ON instances
    FOR EACH ROW WHEN (OLD.deleted = 0 AND NEW.deleted <> 0)
    EXECUTE FUNCTION ipam_release_instance();
-- A build that ends in error before it ran anywhere (no valid host) keeps
-- no ports, as Nova allocates none before a host takes the build.
CREATE TRIGGER instances_build_failed_ports AFTER UPDATE OF vm_state ON instances
    FOR EACH ROW WHEN (OLD.vm_state = 'building' AND NEW.vm_state = 'error' AND NEW.host IS NULL)
    EXECUTE FUNCTION ipam_release_instance();
