-- Reliable-delivery tables, created in every service's own schema (tracked in plumbing_migrations).

-- Transactional outbox. Column names follow Debezium's outbox pattern so change-data-capture can replace
-- the relay: id = dedupe key, aggregatetype = topic, aggregateid = message key, type = event type.
CREATE TABLE outbox (
    seq           bigserial PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    aggregatetype text NOT NULL,
    aggregateid   text NOT NULL,
    type          text NOT NULL,
    payload       text NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      int NOT NULL DEFAULT 0,
    last_error    text
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Inbox: events this service's consumer has processed, written in the same transaction as their effects.
CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    topic        text NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Messages this service gave up on; the same record is published on its dead-letter topic.
CREATE TABLE dead_letters (
    id           uuid PRIMARY KEY,
    consumer     text NOT NULL,
    topic        text NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    message_key  text,
    message_value text NOT NULL,
    error        text NOT NULL,
    attempts     int NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, topic, kafka_partition, kafka_offset)
);
