-- Registry ids: one sequence per year, so ids read FMR-2026-000001, FMR-2026-000002, ...
CREATE TABLE registry_id_sequences (
    year     int PRIMARY KEY,
    last_value int NOT NULL
);

-- A model's record; each filing adds an immutable version.
CREATE TABLE models (
    registry_id     text PRIMARY KEY,
    organisation_id text NOT NULL,
    model_name      text NOT NULL,
    current_version int NOT NULL,
    standing        text NOT NULL DEFAULT 'registered_good_standing',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, model_name)
);

CREATE TABLE model_versions (
    registry_id  text NOT NULL REFERENCES models (registry_id),
    version      int NOT NULL,
    filing       jsonb NOT NULL,
    event_id     uuid NOT NULL,
    late         boolean NOT NULL,
    submitted_at timestamptz NOT NULL,
    PRIMARY KEY (registry_id, version)
);

-- Idempotency-Key: a retried POST returns the first answer.
CREATE TABLE idempotency_keys (
    organisation_id text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status_code  int NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, key)
);

-- Enforcement cases that affect a model's standing, as intake last heard of them.
CREATE TABLE standing_cases (
    case_id     text PRIMARY KEY,
    registry_id text NOT NULL,
    rule        text NOT NULL,
    opened_at   timestamptz NOT NULL
);
CREATE INDEX standing_cases_model ON standing_cases (registry_id);
