-- The quarterly re-evaluation is due evaluation_periodic_days (rule profile) after the model's last full plan:
-- one that required domains, made on registration, amendment or the previous periodic cycle. NULL: never
-- (its tier requires nothing). Existing models take it from the plans already made.
ALTER TABLE models ADD COLUMN last_full_plan_at timestamptz;
CREATE INDEX models_last_full_plan ON models (last_full_plan_at) WHERE last_full_plan_at IS NOT NULL;
UPDATE models m SET last_full_plan_at = (
    SELECT max(p.planned_at) FROM plans p
    WHERE p.registry_id = m.registry_id
      AND p.plan->'trigger'->>'kind' IN ('registration', 'substantial_amendment', 'periodic')
      AND jsonb_array_length(p.plan->'required_domains') > 0
);

-- Required domains no lab could take when planned. Each waits, with the trigger that required it, until a
-- lab can take it (the assignment watch re-plans with that same trigger, so the request id is the one the
-- plan announced) or a newer version of the model replaces it.
CREATE TABLE waiting_domains (
    request_id  text PRIMARY KEY,
    registry_id text NOT NULL,
    version     int NOT NULL,
    domain      text NOT NULL,
    trigger     jsonb NOT NULL,
    reason      text NOT NULL,
    since       timestamptz NOT NULL,
    checked_at  timestamptz NOT NULL
);
CREATE INDEX waiting_domains_model ON waiting_domains (registry_id, version);
CREATE INDEX waiting_domains_checked ON waiting_domains (checked_at);
-- Domains earlier plans of a model's current version could not assign, and no request has taken since.
INSERT INTO waiting_domains (request_id, registry_id, version, domain, trigger, reason, since, checked_at)
SELECT u->>'request_id', p.registry_id, p.version, u->>'domain', p.plan->'trigger', u->>'reason', p.planned_at,
       p.planned_at
FROM plans p
JOIN models m ON m.registry_id = p.registry_id AND m.version = p.version
CROSS JOIN LATERAL jsonb_array_elements(p.plan->'unassignable') AS u
WHERE NOT EXISTS (SELECT 1 FROM evaluation_requests r WHERE r.request_id = u->>'request_id')
ORDER BY p.planned_at
ON CONFLICT (request_id) DO NOTHING;

-- Who asked for a plan made through the API (a regulator's request); NULL for plans caused by an event.
ALTER TABLE plans ADD COLUMN requested_by text;
ALTER TABLE plans ADD COLUMN trigger_kind text;
ALTER TABLE plans ADD COLUMN trigger_reference text;
UPDATE plans SET trigger_kind = plan->'trigger'->>'kind', trigger_reference = plan->'trigger'->>'reference';
CREATE INDEX plans_trigger ON plans (registry_id, version, trigger_kind, trigger_reference);
