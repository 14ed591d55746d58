-- 060_ddan_exceptions.sql - DDAN's Virtual Analyzer > Suspicious Objects >
-- Exceptions: objects the analysis never turns into suspicious objects.
CREATE TABLE ddan_so_exceptions (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	type        TEXT NOT NULL,               -- FILE | URL | DOMAIN | IP
	value       TEXT NOT NULL,               -- normalised as ddan_so stores it
	note        TEXT NOT NULL DEFAULT '',
	created_ms  INTEGER NOT NULL,
	UNIQUE (type, value)
);
