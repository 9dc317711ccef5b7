-- crmigrate control database, version 5: staging is crash-safe and replaced atomically.
--
-- Staging (golden, cluster_members) was UNLOGGED and replaced object by object, so a server crash
-- emptied it and a clean that stopped half-way left a mix of two cleans. Now both tables are
-- ordinary (logged) tables partitioned by plan, and each clean writes a new generation: two new
-- tables, created and filled in open transactions (PostgreSQL then writes them without WAL when
-- wal_level is minimal, as in the private server, and syncs them at commit), indexed after the
-- load, and swapped in for the plan's previous partitions in one short transaction. Until that
-- transaction commits every reader sees the previous clean's staging, whole; after it, the new one.
--
-- Golden records whose non-empty values all come from one source record (most of them) store
-- that record once in origin and leave provenance NULL.

ALTER TABLE crmigrate.golden RENAME TO golden_v4;
ALTER INDEX crmigrate.golden_pkey RENAME TO golden_v4_pkey;
ALTER TABLE crmigrate.cluster_members RENAME TO cluster_members_v4;
ALTER INDEX crmigrate.cluster_members_pkey RENAME TO cluster_members_v4_pkey;
ALTER INDEX crmigrate.cluster_members_golden RENAME TO cluster_members_v4_golden;

CREATE TABLE crmigrate.golden (
    plan          text NOT NULL,
    object        text NOT NULL,
    golden_id     text NOT NULL,
    run_id        bigint NOT NULL,           -- the clean (or delta migrate) run that wrote it
    canonical_key text NOT NULL DEFAULT '',
    vals          text[] NOT NULL,           -- canonical values in the plan's field order
    origin        text NOT NULL DEFAULT '',  -- SOURCE:ID every non-empty value came from, when provenance is NULL
    provenance    text[],                    -- per field: SOURCE:ID the value came from ('' when empty); NULL: see origin
    updated_at    timestamptz,
    members       integer NOT NULL,
    digest        text NOT NULL,             -- hash of vals, to see what changed between runs
    PRIMARY KEY (plan, object, golden_id)
) PARTITION BY LIST (plan);

CREATE TABLE crmigrate.cluster_members (
    plan        text NOT NULL,
    object      text NOT NULL,
    source      text NOT NULL,
    source_id   text NOT NULL,
    golden_id   text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('single', 'exact', 'auto', 'review', 'accepted')),
    score       double precision NOT NULL DEFAULT 0,
    run_id      bigint NOT NULL,
    line        bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz,
    vals        text[],                      -- the record's canonical values; NULL when it is alone in its cluster (then they are the golden record's)
    PRIMARY KEY (plan, object, source, source_id)
) PARTITION BY LIST (plan);
CREATE INDEX cluster_members_golden ON crmigrate.cluster_members (plan, object, golden_id);

-- The generation of staging each plan reads: the partitions a clean swapped in last.
CREATE TABLE crmigrate.staging_generations (
    plan        text PRIMARY KEY,
    run_id      bigint NOT NULL,
    golden_part text NOT NULL,
    members_part text NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);

-- Staging written before this version moves into one partition pair per plan; it counts as a
-- generation only where the version 4 sentinel said it was whole.
DO $$
DECLARE
    p record;
    h text;
    gp text;
    mp text;
BEGIN
    FOR p IN SELECT DISTINCT plan FROM crmigrate.golden_v4 UNION SELECT DISTINCT plan FROM crmigrate.cluster_members_v4 LOOP
        h := substr(md5(p.plan), 1, 12);
        gp := 'golden_' || h || '_0';
        mp := 'cluster_members_' || h || '_0';
        EXECUTE format('CREATE TABLE crmigrate.%I PARTITION OF crmigrate.golden FOR VALUES IN (%L)', gp, p.plan);
        EXECUTE format('CREATE TABLE crmigrate.%I PARTITION OF crmigrate.cluster_members FOR VALUES IN (%L)', mp, p.plan);
        INSERT INTO crmigrate.golden (plan, object, golden_id, run_id, canonical_key, vals, provenance, updated_at, members, digest)
            SELECT plan, object, golden_id, run_id, canonical_key, vals, provenance, updated_at, members, digest
            FROM crmigrate.golden_v4 WHERE plan = p.plan;
        INSERT INTO crmigrate.cluster_members SELECT * FROM crmigrate.cluster_members_v4 WHERE plan = p.plan;
        INSERT INTO crmigrate.staging_generations (plan, run_id, golden_part, members_part, written_at)
            SELECT plan, run_id, gp, mp, written_at FROM crmigrate.staging_alive WHERE plan = p.plan;
    END LOOP;
END $$;

DROP TABLE crmigrate.golden_v4;
DROP TABLE crmigrate.cluster_members_v4;
DROP TABLE crmigrate.staging_alive;
