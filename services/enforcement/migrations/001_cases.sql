-- Every verification outcome enforcement has judged, and what it decided.
CREATE TABLE decisions (
    source_event_id uuid PRIMARY KEY,
    registry_id     text NOT NULL,
    version         int NOT NULL,
    rule            text,
    decision        text NOT NULL,            -- case_opened | case_updated | no_action
    case_id         text,
    correlation_id  text NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_model ON decisions (registry_id);

-- One case per (model, rule); `row_version` gives optimistic concurrency to officers' edits.
CREATE TABLE cases (
    case_id     text PRIMARY KEY,
    registry_id text NOT NULL,
    rule        text NOT NULL,
    status      text NOT NULL,
    summary     text NOT NULL,
    assignee    text,
    evidence    jsonb NOT NULL DEFAULT '[]'::jsonb,
    row_version int NOT NULL DEFAULT 1,
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (registry_id, rule)
);
CREATE INDEX cases_status ON cases (status);

-- Everything that happened to a case, in order.
CREATE TABLE case_timeline (
    id         bigserial PRIMARY KEY,
    case_id    text NOT NULL REFERENCES cases (case_id),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    kind       text NOT NULL,
    detail     text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, id);

CREATE SEQUENCE case_numbers;
