-- crmigrate control database, version 2: the clean phase's staging area.

-- Reports of runs (a phase's summary as JSON), for later rendering.
CREATE TABLE crmigrate.run_reports (
    run_id bigint PRIMARY KEY REFERENCES crmigrate.runs (id),
    body   jsonb NOT NULL
);

-- Golden records: one per cluster of source records that are the same entity.
CREATE UNLOGGED TABLE crmigrate.golden (
    plan        text NOT NULL,
    object      text NOT NULL,
    golden_id   text NOT NULL,
    run_id      bigint NOT NULL REFERENCES crmigrate.runs (id),
    canonical_key text NOT NULL DEFAULT '',
    vals        text[] NOT NULL,          -- canonical values in the plan's field order
    provenance  text[] NOT NULL,          -- per field: SOURCE:ID the value came from ('' when empty)
    updated_at  timestamptz,
    members     integer NOT NULL,
    digest      text NOT NULL,            -- hash of vals, to see what changed between runs
    PRIMARY KEY (plan, object, golden_id)
);

-- Which golden record each source record went into, and why.
CREATE UNLOGGED TABLE crmigrate.cluster_members (
    plan        text NOT NULL,
    object      text NOT NULL,
    source      text NOT NULL,
    source_id   text NOT NULL,
    golden_id   text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('single', 'exact', 'auto', 'review', 'accepted')),
    score       double precision NOT NULL DEFAULT 0,
    run_id      bigint NOT NULL REFERENCES crmigrate.runs (id),
    line        bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz,
    vals        text[],                   -- the record's canonical values; NULL when it is alone in its cluster (then they are the golden record's)
    PRIMARY KEY (plan, object, source, source_id)
);
CREATE INDEX cluster_members_golden ON crmigrate.cluster_members (plan, object, golden_id);

-- Pairs of records that may be the same entity, waiting for a person. Decisions survive re-runs.
CREATE TABLE crmigrate.review_queue (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    object      text NOT NULL,
    a_source    text NOT NULL,
    a_id        text NOT NULL,
    b_source    text NOT NULL,
    b_id        text NOT NULL,
    score       double precision NOT NULL,
    field_scores double precision[] NOT NULL DEFAULT '{}',
    reason      text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    first_run   bigint NOT NULL REFERENCES crmigrate.runs (id),
    last_run    bigint NOT NULL REFERENCES crmigrate.runs (id),
    decided_by  text NOT NULL DEFAULT '',
    decided_at  timestamptz,
    UNIQUE (plan, object, a_source, a_id, b_source, b_id)
);

-- Records that could not be used, with where they came from and why.
CREATE TABLE crmigrate.rejects (
    id        bigserial PRIMARY KEY,
    plan      text NOT NULL,
    run_id    bigint NOT NULL REFERENCES crmigrate.runs (id),
    phase     text NOT NULL,
    object    text NOT NULL,
    system    text NOT NULL,
    line      bigint NOT NULL DEFAULT 0,
    source_id text NOT NULL DEFAULT '',
    reason    text NOT NULL,
    raw       text NOT NULL DEFAULT ''
);
CREATE INDEX rejects_run ON crmigrate.rejects (plan, run_id);
