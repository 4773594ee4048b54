-- What enforcement knows about each model from the filings it consumes: enough to compute standing
-- (registered, withdrawn) and to name the model on the officers' desk.
CREATE TABLE models (
    registry_id     text PRIMARY KEY,
    model_name      text,
    developer_name  text,
    organisation_id text,
    registered      boolean NOT NULL DEFAULT false,  -- a RegistrationSubmitted was seen (not only a notice)
    withdrawn       boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Declared compute and the largest independent estimate, one row per verification run: the analyst chart.
CREATE TABLE compute_observations (
    registry_id       text NOT NULL,
    version           int NOT NULL,
    run               int NOT NULL,
    status            text NOT NULL,
    declared_flop     double precision NOT NULL,
    max_estimate_flop double precision,
    declared_tier     text NOT NULL,
    verified_tier     text NOT NULL,
    verified_at       timestamptz NOT NULL,
    PRIMARY KEY (registry_id, version, run)
);

-- The triggering events' facts an officer weighs (verification explanation and estimates, lab results).
CREATE TABLE case_evidence (
    id              bigserial PRIMARY KEY,
    case_id         text NOT NULL REFERENCES cases (case_id),
    source_event_id uuid NOT NULL,
    event_type      text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    evidence        jsonb NOT NULL
);
CREATE INDEX case_evidence_case ON case_evidence (case_id, id);

-- Actions taken; `standing_applied` is false until standing was recomputed at or after `effective_at`,
-- so a future-dated suspension takes effect (durably) when it is due.
CREATE TABLE actions (
    action_id        text PRIMARY KEY,
    case_id          text NOT NULL REFERENCES cases (case_id),
    model_key        text NOT NULL,
    registry_id      text,
    kind             text NOT NULL,
    taken_at         timestamptz NOT NULL,
    effective_at     timestamptz NOT NULL,
    standing_applied boolean NOT NULL DEFAULT false,
    action           jsonb NOT NULL
);
CREATE INDEX actions_model ON actions (model_key);
CREATE INDEX actions_pending ON actions (effective_at) WHERE NOT standing_applied;

-- The standing enforcement last published per model, so only real changes are published.
CREATE TABLE model_standing (
    model_key   text PRIMARY KEY,
    standing    text NOT NULL,
    reasons     jsonb NOT NULL,
    case_ids    jsonb NOT NULL,
    updated_at  timestamptz NOT NULL
);

ALTER TABLE decisions ADD COLUMN reason text;
CREATE INDEX cases_rule ON cases (rule);
CREATE INDEX cases_assignee ON cases (assigned_officer);
-- The durable response deadlines the background job applies.
CREATE INDEX cases_response_due ON cases (response_due_at) WHERE status IN ('notice_issued', 'awaiting_response');
