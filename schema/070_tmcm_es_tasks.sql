-- 070_tmcm_es_tasks.sql - Apex Central Endpoint Sensor tasks created over the
-- Automation API tunnel (OSCE_iES ApiEntry): live and scheduled
-- investigations, historical investigations and process terminations. The
-- lab runs each at once: it is finished when created, its result stored here.
CREATE TABLE tmcm_es_tasks (
	id           INTEGER PRIMARY KEY AUTOINCREMENT, -- scanSummaryId
	guid         TEXT NOT NULL UNIQUE,             -- scanSummaryGuid / taskId
	kind         TEXT NOT NULL,                    -- scan | schedule | historical | terminate
	name         TEXT NOT NULL DEFAULT '',
	scan_type    INTEGER NOT NULL DEFAULT 0,       -- 0 custom, 1 registry, 2 YARA, 3 IOC, 6 disk IOC
	criteria     TEXT NOT NULL DEFAULT '',         -- the criteria's name (file name, key ...)
	creator      TEXT NOT NULL DEFAULT '',
	submitted_ms INTEGER NOT NULL,
	finished_ms  INTEGER NOT NULL,
	agents       TEXT NOT NULL DEFAULT '[]',       -- JSON array of agent guids
	matched      INTEGER NOT NULL DEFAULT 0        -- 1: the criteria matched on every agent
);
