-- Lab onboarding: when its Kafka topics (and, with SASL, its user and ACLs) were provisioned.
ALTER TABLE labs ADD COLUMN kafka_provisioned_at timestamptz;
ALTER TABLE labs ADD COLUMN kafka_principal text;

-- Overdue detection: set once, in the same transaction as the EvaluationDeadlineMissed outbox row.
ALTER TABLE evaluation_requests ADD COLUMN deadline_missed_at timestamptz;
ALTER TABLE evaluation_requests ADD COLUMN completed_at timestamptz;
CREATE INDEX evaluation_requests_due ON evaluation_requests (deadline)
    WHERE status = 'open' AND deadline_missed_at IS NULL;

-- Every result a lab submitted (Kafka or HTTP), accepted or not, with the assessment: nothing is lost.
CREATE TABLE lab_submissions (
    submission_id uuid PRIMARY KEY,
    request_id    text NOT NULL,
    lab_id        text NOT NULL,
    via           text NOT NULL,
    accepted      boolean NOT NULL,
    rejection     text,
    assessment    jsonb NOT NULL,
    submission    jsonb NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lab_submissions_request ON lab_submissions (request_id);
CREATE INDEX lab_submissions_lab ON lab_submissions (lab_id, received_at);

-- Accepted domain verdicts per model version: the overall verdict is the worst of them.
CREATE TABLE domain_verdicts (
    registry_id text NOT NULL,
    version     int NOT NULL,
    domain      text NOT NULL,
    request_id  text NOT NULL UNIQUE,
    verdict     text NOT NULL,
    decided_at  timestamptz NOT NULL,
    PRIMARY KEY (registry_id, version, domain, request_id)
);

-- What evaluations knows of each model (latest verified version), so incidents can be planned for.
CREATE TABLE models (
    registry_id             text PRIMARY KEY,
    version                 int NOT NULL,
    tier                    text NOT NULL,
    developer               text NOT NULL,
    model_name              text NOT NULL,
    planned_deployment_date date,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Incidents reported before the model was verified: planned when its first ComputeVerified arrives.
CREATE TABLE pending_incidents (
    registry_id text NOT NULL,
    incident_id text NOT NULL,
    event_id    uuid NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry_id, incident_id)
);
