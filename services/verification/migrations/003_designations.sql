-- The regulator's designation decisions (ModelDesignationChanged): every decision received, with what it did
-- (applied | unchanged | outdated), kept even when the model's registration has not arrived yet.
CREATE TABLE designation_decisions (
    designation_id  text PRIMARY KEY,
    registry_id     text NOT NULL,
    designated      boolean NOT NULL,
    reason          text NOT NULL,
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL,
    rule_profile_id text NOT NULL,
    event_id        uuid NOT NULL,
    effect          text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX designation_decisions_by_model ON designation_decisions (registry_id, decided_at);

-- The decision in force for each model: it applies to every run of every version from then on (a designation
-- belongs to the model, not to one filing version) and overrides what a registration's `designated` said.
CREATE TABLE model_designations (
    registry_id    text PRIMARY KEY,
    designation_id text NOT NULL REFERENCES designation_decisions,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Registrations now take their designation from the stored column (which the decision in force overrides), not
-- from the filing payload: registrations kept before migration 002 carry the filing's flag.
UPDATE declarations SET designated = true
    WHERE kind = 'registration' AND coalesce((filing ->> 'designated')::boolean, false) AND NOT designated;
