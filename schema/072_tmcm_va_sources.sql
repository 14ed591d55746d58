-- 071_tmcm_va_sources.sql - every source that reported a Virtual Analyzer
-- object (first seen from DDI, also reported by DDAN), not only the last one:
-- tmcm_va_objects.source becomes the first source, the one the Virtual
-- Analyzer Objects list shows (seed STEP 3-2: "synchronised from DDI").
CREATE TABLE tmcm_va_sources (
	type TEXT NOT NULL,
	value TEXT NOT NULL,
	source TEXT NOT NULL,                -- DDAN, DDI, DDI-2 ...
	first_seen_ms INTEGER NOT NULL,      -- as the source reported it
	last_seen_ms INTEGER NOT NULL,
	added_ms INTEGER NOT NULL,           -- when TMCM first pulled it from this source
	PRIMARY KEY (type, value, source)
);
INSERT INTO tmcm_va_sources (type, value, source, first_seen_ms, last_seen_ms, added_ms)
	SELECT type, value, source, first_seen_ms, last_seen_ms, modified_ms FROM tmcm_va_objects;
