-- 076_imsva_so_bulk.sql - imsva_so in arrival order with its lookup key
-- indexed: a full sync appends a million objects to an index-free twin and
-- builds the index once (common/store_swap.h), instead of a million inserts
-- at random places of a keyed table. A lookup is one index seek and one row
-- fetch, whatever the table size. The objects already synced are kept.
ALTER TABLE imsva_so RENAME TO imsva_so_keyed;
CREATE TABLE imsva_so (
	id INTEGER PRIMARY KEY,
	hkey INTEGER NOT NULL,               -- 64-bit hash of "TYPE:value"
	type TEXT NOT NULL,
	value TEXT NOT NULL,
	action TEXT NOT NULL DEFAULT 'log',
	risk TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	expires_ms INTEGER NOT NULL DEFAULT 0,
	feed_id INTEGER NOT NULL DEFAULT 0
);
INSERT INTO imsva_so (hkey, type, value, action, risk, source, expires_ms, feed_id)
	SELECT hkey, type, value, action, risk, source, expires_ms, feed_id FROM imsva_so_keyed
	ORDER BY feed_id;
DROP TABLE imsva_so_keyed;
CREATE UNIQUE INDEX imsva_so_hkey ON imsva_so (hkey);
