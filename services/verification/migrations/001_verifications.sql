-- What each filing version declared (kept so attestations arriving later can trigger re-verification).
CREATE TABLE declarations (
    registry_id     text NOT NULL,
    version         int NOT NULL,
    organisation_id text NOT NULL,
    filing          jsonb NOT NULL,
    correlation_id  text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry_id, version)
);

-- One outcome per filing version and verification run (re-verification adds a run).
CREATE TABLE verifications (
    registry_id   text NOT NULL,
    version       int NOT NULL,
    run           int NOT NULL,
    status        text NOT NULL,
    declared_tier text NOT NULL,
    verified_tier text NOT NULL,
    outcome       jsonb NOT NULL,
    event_id      uuid NOT NULL,
    verified_at   timestamptz NOT NULL,
    PRIMARY KEY (registry_id, version, run)
);
