-- 019_image_data: what the image service's write API keeps of an image
-- (Glance v2's fields): its data's size (NULL until data is uploaded),
-- md5 checksum and sha512 hash, the virtual size qemu-img reads from it,
-- os_hidden and the tags. The bytes themselves are files under
-- [image] data_path, named by the image id, never in the database.
ALTER TABLE images ALTER COLUMN size DROP NOT NULL;
ALTER TABLE images ALTER COLUMN size DROP DEFAULT;
ALTER TABLE images ADD COLUMN IF NOT EXISTS checksum text;
ALTER TABLE images ADD COLUMN IF NOT EXISTS os_hash_algo text;
ALTER TABLE images ADD COLUMN IF NOT EXISTS os_hash_value text;
ALTER TABLE images ADD COLUMN IF NOT EXISTS virtual_size bigint;
ALTER TABLE images ADD COLUMN IF NOT EXISTS os_hidden boolean NOT NULL DEFAULT false;
ALTER TABLE images ADD COLUMN IF NOT EXISTS tags text[] NOT NULL DEFAULT '{}';
