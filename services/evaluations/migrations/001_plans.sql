-- Accredited evaluation labs (the whole accreditation record is kept as the domain's JSON).
CREATE TABLE labs (
    lab_id     text PRIMARY KEY,
    lab        jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The evaluation plans made for each model version and trigger.
CREATE TABLE plans (
    event_id    uuid PRIMARY KEY,
    registry_id text NOT NULL,
    version     int NOT NULL,
    tier        text NOT NULL,
    plan        jsonb NOT NULL,
    planned_at  timestamptz NOT NULL
);
CREATE INDEX plans_model ON plans (registry_id, version);

-- Evaluation requests: request ids are deterministic, so a replayed plan inserts nothing twice.
CREATE TABLE evaluation_requests (
    request_id  text PRIMARY KEY,
    registry_id text NOT NULL,
    version     int NOT NULL,
    domain      text NOT NULL,
    lab_id      text NOT NULL REFERENCES labs (lab_id),
    status      text NOT NULL,
    deadline    timestamptz NOT NULL,
    request     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluation_requests_open_by_lab ON evaluation_requests (lab_id) WHERE status = 'open';
CREATE INDEX evaluation_requests_model ON evaluation_requests (registry_id, version);
