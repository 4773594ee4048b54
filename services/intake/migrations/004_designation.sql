-- The regulator's designation of a model (at least reportable whatever its compute), and the decision that set
-- it; each decision and each rebuttal is also a filing (DES-..., DRB-...) in `filings`.
ALTER TABLE models ADD COLUMN designated boolean NOT NULL DEFAULT false;
ALTER TABLE models ADD COLUMN designation_id text;
-- A rebuttal is kept as a filing but is no event (it changes nothing until an officer decides).
ALTER TABLE filings ALTER COLUMN event_id DROP NOT NULL;
