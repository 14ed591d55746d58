-- 077_sps_objects_bulk.sql - sps_objects in arrival order with its lookup key
-- (type, normalised value) a unique index: a full sync appends a million
-- objects to an index-free twin and builds the indexes once
-- (common/store_swap.h), instead of a million inserts at random places of a
-- keyed table. Expiring objects get a partial index, so the sweep at the
-- end of every sync no longer reads the whole list. Objects are kept.
ALTER TABLE sps_objects RENAME TO sps_objects_keyed;
CREATE TABLE sps_objects (
	id INTEGER PRIMARY KEY,
	-- ORs, not IN: a CHECK of x IN (list) builds a temporary index per row
	type TEXT NOT NULL CHECK (type = 'URL' OR type = 'DOMAIN' OR type = 'IP' OR type = 'FILE'),
	value TEXT NOT NULL,
	raw_value TEXT NOT NULL,
	risk TEXT NOT NULL,
	action TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	feed_id INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL DEFAULT 0,
	updated_ms INTEGER NOT NULL
);
INSERT INTO sps_objects (type, value, raw_value, risk, action, source, feed_id, expires_ms,
			 updated_ms)
	SELECT type, value, raw_value, risk, action, source, feed_id, expires_ms, updated_ms
	FROM sps_objects_keyed ORDER BY feed_id;
DROP TABLE sps_objects_keyed;
CREATE UNIQUE INDEX sps_objects_key ON sps_objects (type, value);
CREATE INDEX sps_objects_expiry ON sps_objects (expires_ms) WHERE expires_ms != 0;
