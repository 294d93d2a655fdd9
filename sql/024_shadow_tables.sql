-- Shadow tables: where `cnova-manage db archive_deleted_rows` moves
-- soft-deleted rows (as nova-manage does), so the live tables stay small
-- while the history is kept. Same columns as the live table, no
-- constraints or indexes (LIKE copies NOT NULL only); cnova-manage adds a
-- column a later migration gave the live table before it archives.
CREATE TABLE shadow_instances (LIKE instances);
CREATE TABLE shadow_instance_metadata (LIKE instance_metadata);
CREATE TABLE shadow_tags (LIKE tags);
CREATE TABLE shadow_instance_faults (LIKE instance_faults);
CREATE TABLE shadow_block_device_mapping (LIKE block_device_mapping);
CREATE TABLE shadow_instance_actions (LIKE instance_actions);
CREATE TABLE shadow_instance_actions_events (LIKE instance_actions_events);
CREATE TABLE shadow_migrations (LIKE migrations);
CREATE TABLE shadow_key_pairs (LIKE key_pairs);
CREATE TABLE shadow_server_group_members (LIKE server_group_members);
CREATE TABLE shadow_services (LIKE services);
CREATE TABLE shadow_compute_nodes (LIKE compute_nodes);
CREATE TABLE shadow_task_log (LIKE task_log);
