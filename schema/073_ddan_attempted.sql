-- 061_ddan_attempted.sql - the Virtual Analyzer's crash-safe "attempted"
-- mark: set (and committed) just before a sample's analysis runs, cleared
-- when the sample is queued again. A Processing sample found with the mark
-- set had an analysis that never finished (ddand crashed or was killed in
-- it): it is marked Error instead of being analysed again.
ALTER TABLE ddan_samples ADD COLUMN attempted_ms INTEGER NOT NULL DEFAULT 0;
