-- crmigrate control database, version 7: the journal entries an undo run undid, found by that
-- run (the parallel run's incremental snapshots ask what a run wrote or undid).

CREATE INDEX journal_undone_by ON crmigrate.journal (undone_by) WHERE undone_by IS NOT NULL;
