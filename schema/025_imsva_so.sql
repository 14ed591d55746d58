-- 025_imsva_so.sql - suspicious objects synchronised from Control Manager.
-- The key is a 64-bit hash of "TYPE:value", the table's rowid, so a lookup is
-- one rowid seek whatever the table size; type and value are kept to check.
CREATE TABLE imsva_so (
	hkey INTEGER PRIMARY KEY,
	type TEXT NOT NULL,
	value TEXT NOT NULL,
	action TEXT NOT NULL DEFAULT 'log',
	risk TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	expires_ms INTEGER NOT NULL DEFAULT 0,
	feed_id INTEGER NOT NULL DEFAULT 0
);
