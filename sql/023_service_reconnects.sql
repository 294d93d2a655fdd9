-- Database and broker reconnects of each service's processes (totals: each
-- heartbeat adds what its process saw since its last one), for metrics.
ALTER TABLE services ADD COLUMN db_reconnects bigint NOT NULL DEFAULT 0,
                     ADD COLUMN rpc_reconnects bigint NOT NULL DEFAULT 0;
