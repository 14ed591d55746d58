-- 010_ddan.sql - DDAN (Deep Discovery Analyzer) state: submitters, samples
-- with their analysis result, and generated suspicious objects with the
-- change sequence the get_black_lists cursor (X-DTAS-LastQueryID) walks.

-- Registered DTAS clients ("Submitters" in the console).
CREATE TABLE ddan_submitters (
	client_uuid      TEXT PRIMARY KEY,
	product_name     TEXT NOT NULL DEFAULT '',
	client_hostname  TEXT NOT NULL DEFAULT '',
	source_id        TEXT NOT NULL DEFAULT '',
	source_name      TEXT NOT NULL DEFAULT '',
	protocol_version TEXT NOT NULL DEFAULT '',
	registered       INTEGER NOT NULL DEFAULT 1,  -- 0 after unregister
	first_seen_ms    INTEGER NOT NULL,
	last_seen_ms     INTEGER NOT NULL,
	submissions      INTEGER NOT NULL DEFAULT 0
);

-- One row per submitted object (file or URL), keyed by upper-case SHA-1.
-- status: 2 arrived, 3 processing, 4 done, 5 error, 6 timeout.
-- risk: -1 unsupported/unknown, 0 no risk, 1 low, 2 medium, 3 high.
CREATE TABLE ddan_samples (
	sha1          TEXT PRIMARY KEY,
	id            INTEGER NOT NULL UNIQUE,       -- SRID shown in the console
	sample_type   INTEGER NOT NULL DEFAULT 0,    -- 0 file, 1 URL
	orig_name     TEXT NOT NULL DEFAULT '',
	size          INTEGER NOT NULL DEFAULT 0,
	md5           TEXT NOT NULL DEFAULT '',
	sha256        TEXT NOT NULL DEFAULT '',
	data          BLOB,
	archive_password TEXT NOT NULL DEFAULT '',
	meta          TEXT NOT NULL DEFAULT '',      -- the .meta line as received
	log           TEXT NOT NULL DEFAULT '',      -- the .log content as received
	client_uuid   TEXT NOT NULL DEFAULT '',
	source_id     TEXT NOT NULL DEFAULT '',
	source_name   TEXT NOT NULL DEFAULT '',
	status        INTEGER NOT NULL DEFAULT 2,
	risk          INTEGER NOT NULL DEFAULT -1,
	true_type     TEXT NOT NULL DEFAULT '',
	virus_name    TEXT NOT NULL DEFAULT '',
	result        TEXT,                          -- analysis result JSON (objects, urls, events)
	submissions   INTEGER NOT NULL DEFAULT 1,
	submitted_ms  INTEGER NOT NULL,
	started_ms    INTEGER NOT NULL DEFAULT 0,
	due_ms        INTEGER NOT NULL DEFAULT 0,    -- when processing completes
	completed_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ddan_samples_status ON ddan_samples(status, due_ms);
CREATE INDEX ddan_samples_submitted ON ddan_samples(submitted_ms);
CREATE INDEX ddan_samples_completed ON ddan_samples(completed_ms);

-- Generated suspicious objects. change_id is bumped (from ddan_so_seq) on
-- every change a feed consumer must see: created, re-seen, expired,
-- never-expire toggled.
CREATE TABLE ddan_so (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	type           TEXT NOT NULL,                -- FILE | URL | DOMAIN | IP
	value          TEXT NOT NULL,
	risk           TEXT NOT NULL,                -- High | Medium
	first_seen_ms  INTEGER NOT NULL,
	last_seen_ms   INTEGER NOT NULL,
	expires_ms     INTEGER NOT NULL,             -- 0 = never expires
	related_sha1   TEXT NOT NULL DEFAULT '',     -- latest related sample
	related_count  INTEGER NOT NULL DEFAULT 1,   -- related submissions
	removed        INTEGER NOT NULL DEFAULT 0,   -- expired: consumers drop it
	change_id      INTEGER NOT NULL UNIQUE,
	UNIQUE (type, value)
);

-- Which samples produced which object (get_suspicious_object_by_sha1).
CREATE TABLE ddan_so_samples (
	so_id  INTEGER NOT NULL REFERENCES ddan_so(id),
	sha1   TEXT NOT NULL,
	PRIMARY KEY (so_id, sha1)
);
CREATE INDEX ddan_so_samples_sha1 ON ddan_so_samples(sha1);

-- The monotonic change counter behind X-DTAS-LastQueryID.
CREATE TABLE ddan_so_seq (
	one   INTEGER PRIMARY KEY CHECK (one = 1),
	last  INTEGER NOT NULL
);
INSERT INTO ddan_so_seq (one, last) VALUES (1, 0);
