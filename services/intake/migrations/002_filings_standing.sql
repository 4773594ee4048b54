-- Every filing type, record lineage, public standing lookups with cached signed answers.

-- What the public lookup and the one-third rule need about a model, kept beside its record.
ALTER TABLE models
    ADD COLUMN developer jsonb,
    ADD COLUMN developer_name_key text,
    ADD COLUMN model_name_key text,
    ADD COLUMN base_registry_id text,
    ADD COLUMN cumulative_training_flop double precision,
    ADD COLUMN tier text,
    ADD COLUMN status text,
    ADD COLUMN standing_reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN standing_since timestamptz,
    ADD COLUMN signed_answer text,
    ADD COLUMN signed_key_id text;

UPDATE models m SET
    developer = v.filing -> 'developer',
    developer_name_key = lower(v.filing -> 'developer' ->> 'legal_name'),
    model_name_key = lower(m.model_name),
    cumulative_training_flop = (v.filing -> 'compute' ->> 'declared_training_flop')::double precision,
    standing_since = v.submitted_at
FROM model_versions v WHERE v.registry_id = m.registry_id AND v.version = 1;
CREATE INDEX models_by_name ON models (model_name_key);

-- Versions: registrations and amendments; restricted fields sealed (AES-GCM), never in clear.
ALTER TABLE model_versions
    ADD COLUMN kind text NOT NULL DEFAULT 'registration',
    ADD COLUMN base_version int,
    ADD COLUMN restricted bytea;

-- Every other filing: training notices, status changes, incident reports, attestations, usage reports.
CREATE TABLE filings (
    filing_id       text PRIMARY KEY,
    kind            text NOT NULL,
    organisation_id text,
    registry_id     text,
    record          jsonb NOT NULL,
    restricted      bytea,
    late            boolean NOT NULL DEFAULT false,
    event_id        uuid NOT NULL,
    filed_at        timestamptz NOT NULL
);
CREATE INDEX filings_by_model ON filings (registry_id, kind);
CREATE INDEX filings_by_organisation ON filings (organisation_id, kind);

-- Filing ids people can quote: TN-2026-000001, INC-2026-000001, ...
CREATE TABLE filing_sequences (
    prefix     text NOT NULL,
    year       int NOT NULL,
    last_value int NOT NULL,
    PRIMARY KEY (prefix, year)
);

-- Submitted filings are immutable: a correction is a new version or a new filing, never an edit.
CREATE FUNCTION refuse_filing_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'submitted filings are immutable (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER model_versions_immutable BEFORE UPDATE OR DELETE ON model_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_filing_change();
CREATE TRIGGER filings_immutable BEFORE UPDATE OR DELETE ON filings
    FOR EACH ROW EXECUTE FUNCTION refuse_filing_change();
