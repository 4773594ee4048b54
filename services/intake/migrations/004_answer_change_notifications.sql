-- Each intake process keeps signed answers in memory for the public lookup. When a stated field changes, the
-- trigger of migration 003 also tells every process (NOTIFY, delivered at commit) to drop its copy, so a
-- replica never serves an answer the database has replaced.
CREATE OR REPLACE FUNCTION drop_stale_signed_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.model_name, NEW.developer, NEW.standing, NEW.standing_reasons, NEW.status, NEW.tier, NEW.standing_since)
       IS DISTINCT FROM
       (OLD.model_name, OLD.developer, OLD.standing, OLD.standing_reasons, OLD.status, OLD.tier, OLD.standing_since)
    THEN
        NEW.signed_answer := NULL;
        NEW.signed_key_id := NULL;
        PERFORM pg_notify('intake_answer_changed', NEW.registry_id);
    END IF;
    RETURN NEW;
END $$;
