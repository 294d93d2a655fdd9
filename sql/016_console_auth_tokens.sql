-- 016_console_auth_tokens: remote console authorizations (Nova's
-- console_auth_tokens). The token itself is never stored: token_hash is the
-- hex SHA-256 of it. expires is a Unix time; a row past it no longer
-- validates. Rows go when their instance is deleted (the conductor's
-- delete) and expired ones are swept when new tokens are made.
CREATE TABLE console_auth_tokens (
    id                    bigserial PRIMARY KEY,
    token_hash            text NOT NULL UNIQUE,
    console_type          text NOT NULL,
    host                  text NOT NULL,
    port                  integer NOT NULL,
    tls_port              integer,
    internal_access_path  text,
    instance_uuid         uuid NOT NULL,
    access_url_base       text,
    expires               bigint NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz
);
CREATE INDEX console_auth_tokens_instance_uuid_idx ON console_auth_tokens (instance_uuid);
CREATE INDEX console_auth_tokens_expires_idx ON console_auth_tokens (expires);
