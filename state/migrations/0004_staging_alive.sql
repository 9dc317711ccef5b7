-- crmigrate control database, version 4: a sentinel that says staging is whole.
--
-- Staging (golden, cluster_members) is UNLOGGED: fast to write, but crash recovery of the server
-- empties every unlogged table. This table is unlogged too, so a crash empties it with them: a
-- plan whose last clean passed but that has no row here lost its staging, and the phases that
-- read staging refuse to run on it ("staging was lost (server crash): run clean again").
CREATE UNLOGGED TABLE crmigrate.staging_alive (
    plan       text PRIMARY KEY,
    run_id     bigint NOT NULL REFERENCES crmigrate.runs (id),
    written_at timestamptz NOT NULL DEFAULT now()
);

-- Staging written before this version is whole if it is there at all.
INSERT INTO crmigrate.staging_alive (plan, run_id)
SELECT plan, max(run_id) FROM crmigrate.golden GROUP BY plan;
