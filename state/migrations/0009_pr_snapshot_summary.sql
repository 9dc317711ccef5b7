-- crmigrate control database, version 9: each snapshot's JSON without its drift rows, kept beside
-- it, so that a report of a month of snapshots of large CRMs reads the figures only.

ALTER TABLE crmigrate.pr_snapshots ADD COLUMN summary jsonb;
UPDATE crmigrate.pr_snapshots SET summary = (body - 'objects' - 'closed_drift') || jsonb_build_object('objects',
    (SELECT coalesce(jsonb_agg(o - 'drift' ORDER BY n), '[]') FROM jsonb_array_elements(body->'objects') WITH ORDINALITY AS x(o, n)));
