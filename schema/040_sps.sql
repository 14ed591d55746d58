-- 040_sps.sql - Smart Protection Server: the Approved/Blocked URL rules, the
-- suspicious objects subscribed from TMCM or a DDAN, and the subscription state.

CREATE TABLE sps_url_rules (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('url', 'keyword')),
	pattern TEXT NOT NULL,
	scope TEXT NOT NULL DEFAULT 'subsites' CHECK (scope IN ('subsites', 'page')),
	action TEXT NOT NULL CHECK (action IN ('approve', 'block')),
	enabled INTEGER NOT NULL DEFAULT 1,
	note TEXT NOT NULL DEFAULT '',
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL
);

-- One row per object; the primary key is the lookup: (type, normalised value)
-- where value is a normalised URL, a lower-case domain, an IP in inet_ntop
-- form or an upper-case SHA-1.
CREATE TABLE sps_objects (
	type TEXT NOT NULL CHECK (type IN ('URL', 'DOMAIN', 'IP', 'FILE')),
	value TEXT NOT NULL,
	raw_value TEXT NOT NULL,
	risk TEXT NOT NULL,
	action TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	feed_id INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL DEFAULT 0,
	updated_ms INTEGER NOT NULL,
	PRIMARY KEY (type, value)
) WITHOUT ROWID;

CREATE TABLE sps_sync_state (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	source TEXT NOT NULL DEFAULT '',
	url TEXT NOT NULL DEFAULT '',
	cursor INTEGER NOT NULL DEFAULT 0,
	last_sync_ms INTEGER NOT NULL DEFAULT 0,
	last_success_ms INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	last_changes INTEGER NOT NULL DEFAULT 0,
	syncs INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sps_sync_state (id) VALUES (1);
