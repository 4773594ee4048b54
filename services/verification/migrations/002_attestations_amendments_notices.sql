-- Amendments and re-verification: what kind of filing a declaration came from, its cumulative compute and
-- the flags later versions inherit; each run's trigger and the figures the analyst chart plots.
ALTER TABLE declarations ADD COLUMN kind text NOT NULL DEFAULT 'registration';
ALTER TABLE declarations ADD COLUMN declared_cumulative_flop double precision;
ALTER TABLE declarations ADD COLUMN designated boolean NOT NULL DEFAULT false;
ALTER TABLE declarations ADD COLUMN biological boolean NOT NULL DEFAULT false;
UPDATE declarations SET declared_cumulative_flop = (filing -> 'compute' ->> 'declared_training_flop')::float8
    + coalesce((filing ->> 'base_model_training_flop')::float8, 0);
ALTER TABLE declarations ALTER COLUMN declared_cumulative_flop SET NOT NULL;
CREATE INDEX declarations_by_organisation ON declarations (organisation_id);

ALTER TABLE verifications ADD COLUMN trigger text NOT NULL DEFAULT 'filing';
ALTER TABLE verifications ADD COLUMN declared_flop double precision;
ALTER TABLE verifications ADD COLUMN max_estimate_flop double precision;
ALTER TABLE verifications ADD COLUMN verified_flop double precision;
UPDATE verifications SET
    declared_flop = (outcome -> 'event' ->> 'declared_training_flop')::float8,
    max_estimate_flop = (SELECT max((e ->> 'flop')::float8) FROM jsonb_array_elements(outcome -> 'event' -> 'estimates') e);
CREATE INDEX verifications_latest ON verifications (verified_at DESC);

-- Compute attestations from providers, kept so a registration arriving later can use them.
CREATE TABLE attestations (
    attestation_id  text PRIMARY KEY,
    organisation_id text NOT NULL,
    provider_id     text NOT NULL,
    registry_id     text,
    attestation     jsonb NOT NULL,
    event_id        uuid NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attestations_by_organisation ON attestations (organisation_id);

-- Which verification runs an attestation was matched to (what an officer asks first).
CREATE TABLE attestation_uses (
    attestation_id text NOT NULL REFERENCES attestations,
    registry_id    text NOT NULL,
    version        int NOT NULL,
    run            int NOT NULL,
    PRIMARY KEY (attestation_id, registry_id, version, run)
);

-- Training notices: the planned compute of a run, checked against the registration that follows.
CREATE TABLE training_notices (
    notice_id             text PRIMARY KEY,
    registry_id           text NOT NULL,
    organisation_id       text NOT NULL,
    planned_training_flop double precision NOT NULL,
    notice                jsonb NOT NULL,
    received_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_notices_by_model ON training_notices (registry_id);
