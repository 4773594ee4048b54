-- The append-only, hash-chained audit log (DESIGN "Security"): every filing, decision and confidential read,
-- with who did it. An action appends its row inside its own transaction, unchained, so appending takes no
-- lock; the chainer (one per schema at a time) then gives rows their place in the chain in the order it finds
-- them: entry_hash = sha256(previous entry_hash || the row's canonical JSON). Changing or removing any chained
-- row breaks every hash from there on, which `GET /v1/audit/verify` reports.
CREATE TABLE audit_log (
    seq         bigserial PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    action      text NOT NULL,
    subject     text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    position    bigint UNIQUE,
    entry_hash  bytea
);
CREATE INDEX audit_log_unchained ON audit_log (seq) WHERE position IS NULL;
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- Append-only: the only change allowed is the chainer filling in an unchained row's place and hash.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN  -- nested: OLD does not exist for TRUNCATE
        IF OLD.position IS NULL
           AND (NEW.seq, NEW.recorded_at, NEW.actor, NEW.action, NEW.subject, NEW.detail)
               IS NOT DISTINCT FROM (OLD.seq, OLD.recorded_at, OLD.actor, OLD.action, OLD.subject, OLD.detail) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
