-- klarna-hpp-runtime schema 1 (PostgreSQL). Times are Unix milliseconds.
CREATE TABLE hpp_checkouts (
    id               TEXT PRIMARY KEY NOT NULL,
    state            TEXT NOT NULL,
    snapshot         BYTEA NOT NULL,
    -- When a worker must look at the row next (the core's poll_timeout, or now when a request
    -- is in flight or a hint is queued); NULL when nothing is scheduled (terminal, quarantined).
    due_at           BIGINT,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    version          BIGINT NOT NULL,
    hint_seq         BIGINT NOT NULL DEFAULT 0,
    event_seq        BIGINT NOT NULL DEFAULT 0,
    order_id         TEXT,
    unresolved       BIGINT NOT NULL DEFAULT 0,
    quarantined      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
-- Claiming due work: one range scan of this partial index (terminal rows are not in it).
CREATE INDEX hpp_checkouts_due ON hpp_checkouts (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX hpp_checkouts_unresolved ON hpp_checkouts (id) WHERE unresolved <> 0;

CREATE TABLE hpp_outbox (
    id          TEXT PRIMARY KEY NOT NULL,
    checkout_id TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    acked_at    BIGINT
);
CREATE INDEX hpp_outbox_pending ON hpp_outbox (created_at, id) WHERE acked_at IS NULL;
CREATE INDEX hpp_outbox_checkout ON hpp_outbox (checkout_id, seq);

CREATE TABLE hpp_hints (
    checkout_id TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    uri         TEXT NOT NULL,
    body        BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (checkout_id, seq)
);
