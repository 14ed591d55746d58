-- 079_sps_objects_hkey.sql - sps_objects keyed by a 64-bit hash of type and
-- normalised value (so_content_key, the key IMSVA's imsva_so has), a unique
-- integer index: a full sync's index build sorts integers, not text, and a
-- lookup probes the key and then compares type and value. SQL cannot compute
-- the hash, so the list starts over: the subscription's cursor goes back to 0
-- and its next sync brings every object again (a full sync, seconds for a
-- million).
DROP TABLE IF EXISTS sps_objects_next;
DROP TABLE sps_objects;
CREATE TABLE sps_objects (
	id INTEGER PRIMARY KEY,
	hkey INTEGER NOT NULL,               -- so_content_key(type, value)
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
CREATE UNIQUE INDEX sps_objects_key ON sps_objects (hkey);
CREATE INDEX sps_objects_expiry ON sps_objects (expires_ms) WHERE expires_ms != 0;
UPDATE sps_sync_state SET cursor = 0 WHERE id = 1;
