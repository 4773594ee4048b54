-- Every event enforcement has judged against its rules, and what it decided.
CREATE TABLE decisions (
    source_event_id uuid PRIMARY KEY,
    registry_id     text,
    version         int,
    rule            text,
    decision        text NOT NULL,            -- case_opened | case_updated | no_action
    case_id         text,
    correlation_id  text NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_model ON decisions (registry_id);

-- Cases: the domain's Case as JSON plus the columns queues filter on. `row_version` gives optimistic
-- concurrency: an officer's edit names the version it read and fails if another edit came first.
CREATE TABLE cases (
    case_id     text PRIMARY KEY,
    model_key   text NOT NULL,
    registry_id text,
    rule        text NOT NULL,
    status      text NOT NULL,
    assigned_officer text,
    response_due_at timestamptz,
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    row_version int NOT NULL DEFAULT 1,
    "case"      jsonb NOT NULL
);
-- One open case per (model, rule); an appeal may reopen a closed case beside a newer open one.
CREATE UNIQUE INDEX cases_one_open_per_key ON cases (model_key, rule) WHERE status NOT IN ('closed', 'appealed');
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_registry ON cases (registry_id);

-- Everything that happened to a case, in order; appended, never edited.
CREATE TABLE case_timeline (
    id       bigserial PRIMARY KEY,
    case_id  text NOT NULL REFERENCES cases (case_id),
    at       timestamptz NOT NULL,
    kind     text NOT NULL,
    actor    text NOT NULL,
    entry    jsonb NOT NULL
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, id);

CREATE SEQUENCE case_numbers;
