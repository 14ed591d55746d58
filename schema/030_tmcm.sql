-- 030_tmcm.sql - TMCM (suspicious-object hub): the Virtual Analyzer objects
-- pulled from DDAN/DDI, user-defined objects (Automation API), exceptions, the
-- merged distribution feed with its monotonic change IDs, the SO sources TMCM
-- pulls from and the products that subscribe to its feed.

-- Virtual Analyzer objects, one per (type, value); source = who reported it last.
CREATE TABLE tmcm_va_objects (
	id INTEGER PRIMARY KEY,
	type TEXT NOT NULL,                  -- FILE | URL | DOMAIN | IP
	value TEXT NOT NULL,
	source TEXT NOT NULL,                -- DDAN, DDI, DDI-2 ...
	risk TEXT NOT NULL,                  -- High | Medium | Low
	first_seen_ms INTEGER NOT NULL,
	last_seen_ms INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL DEFAULT 0, -- 0: never
	related_sha1 TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL DEFAULT 'log',  -- log | block | quarantine
	admin_expiry INTEGER NOT NULL DEFAULT 0,
	modified_ms INTEGER NOT NULL,
	UNIQUE (type, value)
);
CREATE INDEX tmcm_va_objects_seen ON tmcm_va_objects (last_seen_ms);
CREATE INDEX tmcm_va_objects_value ON tmcm_va_objects (value);

-- User-defined suspicious objects (Automation API and console).
CREATE TABLE tmcm_udso (
	id INTEGER PRIMARY KEY,
	type TEXT NOT NULL,                  -- ip | url | file_sha1 | domain | file
	content TEXT NOT NULL,
	notes TEXT NOT NULL DEFAULT '',
	scan_action TEXT NOT NULL,           -- log | block | quarantine
	expires_ms INTEGER NOT NULL DEFAULT 0,
	file_name TEXT NOT NULL DEFAULT '',
	feed_type TEXT NOT NULL,             -- the distribution key it maps to
	feed_value TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	modified_ms INTEGER NOT NULL,
	UNIQUE (type, content)
);
CREATE INDEX tmcm_udso_feed_key ON tmcm_udso (feed_type, feed_value);

-- Exceptions to VA objects (value may hold `*` / `?` wildcards).
CREATE TABLE tmcm_exceptions (
	id INTEGER PRIMARY KEY,
	type TEXT NOT NULL,
	value TEXT NOT NULL,
	notes TEXT NOT NULL DEFAULT '',
	created_ms INTEGER NOT NULL,
	UNIQUE (type, value)
);

-- The merged list as distributed: one row per key, its effective state and
-- the change ID of its last change (the feed cursor).
CREATE TABLE tmcm_feed (
	type TEXT NOT NULL,
	value TEXT NOT NULL,
	change_id INTEGER NOT NULL UNIQUE,
	action TEXT NOT NULL,
	risk TEXT NOT NULL,
	source TEXT NOT NULL,
	first_seen_ms INTEGER NOT NULL,
	last_seen_ms INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL,
	related_sha1 TEXT NOT NULL,
	removed INTEGER NOT NULL,
	PRIMARY KEY (type, value)
);
CREATE INDEX tmcm_feed_expiry ON tmcm_feed (expires_ms) WHERE removed = 0 AND expires_ms > 0;

-- SO sources TMCM pulls (DDAN, each DDI) and their cursors.
CREATE TABLE tmcm_sources (
	name TEXT PRIMARY KEY,
	url TEXT NOT NULL,
	cursor INTEGER NOT NULL DEFAULT 0,
	registered_ms INTEGER NOT NULL DEFAULT 0,
	last_attempt_ms INTEGER NOT NULL DEFAULT 0,
	last_sync_ms INTEGER NOT NULL DEFAULT 0,
	last_count INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);

-- Managed products that registered over the DTAS-style API and pull the feed.
CREATE TABLE tmcm_products (
	client_uuid TEXT PRIMARY KEY,
	product_name TEXT NOT NULL,
	hostname TEXT NOT NULL DEFAULT '',
	source_id TEXT NOT NULL DEFAULT '',
	source_name TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	subscription TEXT NOT NULL,          -- which feed key it uses: imsva | sps
	isolation_status TEXT NOT NULL DEFAULT 'normal', -- Automation API agent actions
	registered_ms INTEGER NOT NULL,
	unregistered INTEGER NOT NULL DEFAULT 0,
	last_heartbeat_ms INTEGER NOT NULL DEFAULT 0,
	last_sync_ms INTEGER NOT NULL DEFAULT 0,
	last_sync_id INTEGER NOT NULL DEFAULT 0,
	last_sync_count INTEGER NOT NULL DEFAULT 0
);
