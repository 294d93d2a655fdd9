-- 007_images_seed: the images a fresh cnova serves, with fixed ids so that
-- docs, tests and clients can name them. cirros is the one real guest
-- image (qcow2, bootable on qemu); the others are Nova's api-samples fake
-- images (nova/tests/fixtures/glance.py), so that requests copied from
-- Nova's samples (imageRef 70a599e0-...) work unchanged. All are public.

INSERT INTO images (id, name, status, size, disk_format, container_format, min_disk, min_ram,
                    visibility, created_at, updated_at) VALUES
    ('80292edd-18c0-4446-9fa4-994b39a2dc15', 'cirros-0.6.2-x86_64-disk', 'active', 21430272,
     'qcow2', 'bare', 0, 0, 'public', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'),
    ('155d900f-4e14-4e4c-a73d-069cbf4541e6', 'fakeimage123456', 'active', 25165824,
     'raw', 'ami', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z'),
    ('a2459075-d96c-40d5-893e-577ff92e721c', 'fakeimage123456', 'active', 58145823,
     'vhd', 'ovf', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z'),
    ('76fa36fc-c930-4bf3-8c8a-ea2a2420deb6', 'fakeimage123456', 'active', 83594576,
     'vhd', 'ovf', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z'),
    ('cedef40a-ed67-4d10-800e-17455edce175', 'fakeimage123456', 'active', 84035174,
     'vhd', 'ovf', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z'),
    ('c905cedb-7281-47e4-8a62-f26bc5fc4c77', 'fakeimage123456', 'active', 26360814,
     'raw', 'ami', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z'),
    ('a440c04b-79fa-479c-bed1-0b816eaec379', 'fakeimage6', 'active', 49163826,
     'vhd', 'ova', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z'),
    ('70a599e0-31e7-49b7-b260-868f441e862b', 'fakeimage7', 'active', 74185822,
     'raw', 'bare', 0, 0, 'public', '2011-01-01T01:02:03Z', '2011-01-01T01:02:03Z')
ON CONFLICT (id) DO NOTHING;

INSERT INTO image_properties (image_id, key, value) VALUES
    ('80292edd-18c0-4446-9fa4-994b39a2dc15', 'architecture', 'x86_64'),
    ('80292edd-18c0-4446-9fa4-994b39a2dc15', 'hw_disk_bus', 'virtio'),
    ('80292edd-18c0-4446-9fa4-994b39a2dc15', 'os_distro', 'cirros'),
    ('155d900f-4e14-4e4c-a73d-069cbf4541e6', 'architecture', 'x86_64'),
    ('155d900f-4e14-4e4c-a73d-069cbf4541e6', 'kernel_id', 'nokernel'),
    ('155d900f-4e14-4e4c-a73d-069cbf4541e6', 'ramdisk_id', 'nokernel'),
    ('a2459075-d96c-40d5-893e-577ff92e721c', 'kernel_id', 'nokernel'),
    ('a2459075-d96c-40d5-893e-577ff92e721c', 'ramdisk_id', 'nokernel'),
    ('76fa36fc-c930-4bf3-8c8a-ea2a2420deb6', 'architecture', 'x86_64'),
    ('76fa36fc-c930-4bf3-8c8a-ea2a2420deb6', 'kernel_id', 'nokernel'),
    ('76fa36fc-c930-4bf3-8c8a-ea2a2420deb6', 'ramdisk_id', 'nokernel'),
    ('cedef40a-ed67-4d10-800e-17455edce175', 'kernel_id', 'nokernel'),
    ('cedef40a-ed67-4d10-800e-17455edce175', 'ramdisk_id', 'nokernel'),
    ('c905cedb-7281-47e4-8a62-f26bc5fc4c77', 'kernel_id', '155d900f-4e14-4e4c-a73d-069cbf4541e6'),
    ('a440c04b-79fa-479c-bed1-0b816eaec379', 'architecture', 'x86_64'),
    ('a440c04b-79fa-479c-bed1-0b816eaec379', 'auto_disk_config', 'False'),
    ('a440c04b-79fa-479c-bed1-0b816eaec379', 'kernel_id', 'nokernel'),
    ('a440c04b-79fa-479c-bed1-0b816eaec379', 'ramdisk_id', 'nokernel'),
    ('70a599e0-31e7-49b7-b260-868f441e862b', 'architecture', 'x86_64'),
    ('70a599e0-31e7-49b7-b260-868f441e862b', 'auto_disk_config', 'True'),
    ('70a599e0-31e7-49b7-b260-868f441e862b', 'kernel_id', 'nokernel'),
    ('70a599e0-31e7-49b7-b260-868f441e862b', 'ramdisk_id', 'nokernel')
ON CONFLICT (image_id, key) DO NOTHING;

-- Glance orders images newest first (created_at, then id, descending).
CREATE INDEX IF NOT EXISTS images_created ON images (created_at DESC, id DESC);
