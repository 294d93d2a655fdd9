-- 011_moves: what a resize or cold migration keeps while it runs (additive
-- to 006, 009 and 010). As in Nova, a resized instance carries both flavor
-- snapshots until the resize is confirmed or reverted (instances.flavor is
-- the one in effect), and the resources it holds on the source node are
-- held by the migration (Nova's migration-owned allocation) while
-- instances.claim holds the target's: confirming gives the migration's
-- claim back, reverting gives the instance's back and hands the
-- migration's to the instance again.
ALTER TABLE instances ADD COLUMN old_flavor jsonb;
ALTER TABLE instances ADD COLUMN new_flavor jsonb;
ALTER TABLE migrations ADD COLUMN claim jsonb;
