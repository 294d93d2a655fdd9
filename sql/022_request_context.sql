-- The request context of an outbox row (its request id and the caller's
-- global request id), sent with the message as oslo.messaging's
-- _context_request_id, so the workers' log lines name the API request
-- whose work they do. NULL for rows written outside a request (triggers).
ALTER TABLE outbox ADD COLUMN context jsonb;
