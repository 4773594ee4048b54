-- 1. Numbers for registry ids and filing ids come from PostgreSQL sequences, one per series and year, created
-- on first use. A counter row was locked from the moment a filing drew its number until it committed, so
-- every filing queued behind the one before it. A sequence hands out numbers without that lock; the price
-- is that a number drawn by a filing that then fails is not reused: ids stay unique, readable and
-- increasing, and may skip a number.
CREATE FUNCTION next_number(series text, id_year int) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    sequence_name text := quote_ident(format('numbers_%s_%s', lower(series), id_year));
BEGIN
    IF to_regclass(sequence_name) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE %s', sequence_name);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL; -- another filing created it at the same moment; use theirs
        END;
    END IF;
    RETURN nextval(sequence_name::regclass);
END $$;

-- Carry on from the counters' last values.
DO $$
DECLARE counter record;
BEGIN
    FOR counter IN SELECT 'registry' AS series, year, last_value FROM registry_id_sequences
                   UNION ALL SELECT prefix, year, last_value FROM filing_sequences LOOP
        EXECUTE format('CREATE SEQUENCE %I START %s', format('numbers_%s_%s', lower(counter.series), counter.year),
                       counter.last_value + 1);
    END LOOP;
END $$;
DROP TABLE registry_id_sequences;
DROP TABLE filing_sequences;

-- 2. A model's signed public answer is made on the first lookup after anything it states changed (once per
-- change, not per request, and not on the filing's own path). This trigger is what makes "changed" reliable:
-- whichever statement changes a stated field also drops the stale signed copy. Each intake process also keeps
-- answers in memory, so the trigger tells every process (NOTIFY, delivered at commit) to drop its copy too:
-- a replica never serves an answer the database has replaced.
CREATE FUNCTION drop_stale_signed_answer() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER models_drop_stale_signed_answer BEFORE UPDATE ON models
    FOR EACH ROW EXECUTE FUNCTION drop_stale_signed_answer();
