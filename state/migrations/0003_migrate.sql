-- crmigrate control database, version 3: the migrate phase's crosswalk, write journal and checkpoints.

-- The crosswalk: for every golden record written to the new CRM, its id there, its canonical key,
-- the source records it came from and a digest of the row as written (a re-run with the same
-- digest writes nothing). One row per golden record: the latest state.
CREATE TABLE crmigrate.crosswalk (
    plan          text NOT NULL,
    object        text NOT NULL,
    golden_id     text NOT NULL,
    new_id        text NOT NULL,
    canonical_key text NOT NULL DEFAULT '',
    old_ids       text[] NOT NULL DEFAULT '{}',  -- SOURCE:ID of the cluster's members when written
    digest        text NOT NULL,                  -- of the row as written ('' forces the next run to write it)
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'deleted')),
    first_run     bigint NOT NULL REFERENCES crmigrate.runs (id),
    last_run      bigint NOT NULL REFERENCES crmigrate.runs (id),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan, object, golden_id)
);

-- The write journal: one entry per run and golden record the run wrote, with the row as it was
-- before (NULL when the run inserted it). Undo walks it backwards.
CREATE TABLE crmigrate.journal (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    run_id      bigint NOT NULL REFERENCES crmigrate.runs (id),
    object      text NOT NULL,
    golden_id   text NOT NULL,
    action      text NOT NULL CHECK (action IN ('insert', 'update', 'archive', 'delete', 'undo')),
    new_id      text NOT NULL DEFAULT '',   -- the row's id in the new CRM when known before the write ('' for an insert: see the crosswalk)
    key         text NOT NULL DEFAULT '',   -- the value of the row's conflict column (external id or canonical key)
    before      jsonb,                          -- the row before the write; NULL for an insert
    prev_digest text,                           -- the crosswalk digest before the write; NULL when there was none
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    undone_by   bigint REFERENCES crmigrate.runs (id),
    UNIQUE (plan, run_id, object, golden_id)
);

-- Checkpoints: how far a migrate run got per object (golden ids are loaded in order), with its
-- counts so far. A run started after a crash resumes from the abandoned run's checkpoints.
CREATE TABLE crmigrate.checkpoints (
    run_id     bigint NOT NULL REFERENCES crmigrate.runs (id),
    object     text NOT NULL,
    after_id   text NOT NULL DEFAULT '',
    done       boolean NOT NULL DEFAULT false,
    counts     jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, object)
);

-- Runs record the run they resumed.
ALTER TABLE crmigrate.runs ADD COLUMN resumed_from bigint REFERENCES crmigrate.runs (id);
