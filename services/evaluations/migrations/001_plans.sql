-- Accredited evaluation labs.
CREATE TABLE labs (
    lab_id       text PRIMARY KEY,
    name         text NOT NULL,
    domains      text[] NOT NULL,
    capacity     int NOT NULL CHECK (capacity >= 0),
    affiliations text[] NOT NULL DEFAULT '{}',
    accredited_until date,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The evaluation plan of each model version.
CREATE TABLE plans (
    registry_id text NOT NULL,
    version     int NOT NULL,
    tier        text NOT NULL,
    plan        jsonb NOT NULL,
    event_id    uuid NOT NULL,
    planned_at  timestamptz NOT NULL,
    PRIMARY KEY (registry_id, version)
);

-- One request per (model version, domain) assigned to a lab.
CREATE TABLE evaluation_requests (
    request_id  text PRIMARY KEY,
    registry_id text NOT NULL,
    version     int NOT NULL,
    domain      text NOT NULL,
    lab_id      text NOT NULL REFERENCES labs (lab_id),
    deadline    timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'open',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluation_requests_open_by_lab ON evaluation_requests (lab_id) WHERE status = 'open';
CREATE INDEX evaluation_requests_model ON evaluation_requests (registry_id, version);
