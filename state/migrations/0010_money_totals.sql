-- crmigrate control database, version 10: the money totals of staging before and after clean (what
-- duplicates overstated), kept with the staging they were summed from: reports read them daily,
-- staging changes with a clean or a sync.

CREATE TABLE crmigrate.money_totals (
    plan    text NOT NULL,
    object  text NOT NULL,
    field   integer NOT NULL,      -- position in the object's fields, from 0
    stamp   text NOT NULL,         -- the staging they were summed from (StagingStamp)
    totals  jsonb NOT NULL,
    PRIMARY KEY (plan, object, field)
);
