-- 001_core.sql - the chassis tables every daemon shares: namespaced settings
-- (generated keys and passwords) and the append-only events timeline.

CREATE TABLE settings (
	ns      TEXT NOT NULL,          -- appliance name, e.g. 'ddan'
	key     TEXT NOT NULL,
	value   TEXT NOT NULL,
	updated INTEGER NOT NULL,       -- ms since the epoch
	PRIMARY KEY (ns, key)
) WITHOUT ROWID;

CREATE TABLE events (
	id        INTEGER PRIMARY KEY,  -- grows in commit order: follow mode reads id > last
	ts_ms     INTEGER NOT NULL,
	appliance TEXT NOT NULL,
	kind      TEXT NOT NULL,        -- 'sample.done', 'so.created', ...
	ref       TEXT,                 -- the object the event is about (sha1, message id, ...)
	detail    TEXT                  -- JSON object or NULL
);
CREATE INDEX events_ts ON events (ts_ms);
CREATE INDEX events_appliance_kind ON events (appliance, kind);
