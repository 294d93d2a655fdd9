-- 018_ipam_scale: fixed IPs without a scan and without serialising server
-- creates. 017's ipam_port_create locked the network row and looked for the
-- lowest free address with one probe per address below it, so every create
-- waited for the one before it and cost O(allocated addresses): a burst of
-- 1000 servers went from 347 to 19 POST/s. Now a fixed IP is taken at the
-- offset a sequence hands out (one probe while the network is not nearly
-- full), the primary key of fixed_ips decides between racing allocations
-- (ON CONFLICT: try the next offset), and the network row is only share-
-- locked. A fixed_ip asked for by name still gets its checks; two requests
-- racing for the same one: the second fails on the key (409).
CREATE SEQUENCE ipam_offset_seq;

CREATE OR REPLACE FUNCTION ipam_port_create(net uuid, ip inet, inst uuid, project text,
                                            admin boolean, want_tag text, dry boolean,
                                            OUT port uuid, OUT fixed_ip inet, OUT error text,
                                            OUT holder uuid) AS $$
DECLARE
    n networks;
    size bigint;
    o bigint;
BEGIN
    SELECT * INTO n FROM networks WHERE id = net AND NOT external
        AND (admin OR project_id IS NULL OR project_id = project) FOR SHARE;
    IF NOT FOUND THEN error := 'network'; RETURN; END IF;
    size := (2::bigint ^ (32 - masklen(n.cidr)))::bigint - 2;  -- host addresses
    IF ip IS NOT NULL THEN
        IF family(ip) <> 4 OR NOT ip <<= n.cidr OR host(ip) = host(n.cidr)
           OR host(ip) = host(broadcast(n.cidr)) OR ip = n.gateway THEN
            error := 'invalid'; RETURN;
        END IF;
        fixed_ip := host(ip)::inet;
        SELECT p.instance_uuid INTO holder FROM fixed_ips f JOIN ports p ON p.id = f.port_id
            WHERE f.network_id = net AND f.address = fixed_ip;
        IF FOUND THEN error := 'in_use'; RETURN; END IF;
    ELSIF (SELECT count(*) FROM fixed_ips WHERE network_id = net)
          >= size - (CASE WHEN n.gateway IS NULL THEN 0 ELSE 1 END) THEN
        error := 'exhausted'; RETURN;
    END IF;
    IF dry THEN RETURN; END IF;
    port := gen_random_uuid();
    INSERT INTO ports (id, network_id, mac_address, project_id, instance_uuid, tag)
        VALUES (port, net, 'fa:16:3e:' || substr(md5(port::text), 1, 2) || ':'
                || substr(md5(port::text), 3, 2) || ':' || substr(md5(port::text), 5, 2),
                project, inst, want_tag);
    IF fixed_ip IS NOT NULL THEN
        INSERT INTO fixed_ips (network_id, address, port_id) VALUES (net, fixed_ip, port);
        RETURN;
    END IF;
    FOR i IN 1..size LOOP
        o := nextval('ipam_offset_seq') % size + 1;
        fixed_ip := host(n.cidr::inet + o)::inet;
        CONTINUE WHEN fixed_ip = n.gateway;
        INSERT INTO fixed_ips (network_id, address, port_id) VALUES (net, fixed_ip, port)
            ON CONFLICT DO NOTHING;
        IF FOUND THEN RETURN; END IF;
    END LOOP;
    DELETE FROM ports WHERE id = port;
    port := NULL; fixed_ip := NULL; error := 'exhausted';
END $$ LANGUAGE plpgsql;
