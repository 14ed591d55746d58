-- 050_ddi.sql - DDI (network sensor): files carved from traffic with their
-- submission state, detections, and the suspicious objects DDI serves as its
-- SO feed. Times are ms since the epoch. (051-059 are reserved for DDI.)

CREATE TABLE ddi_files (
	id           INTEGER PRIMARY KEY,
	ts_ms        INTEGER NOT NULL,      -- capture time of the packet that completed it
	proto        TEXT NOT NULL,         -- HTTP | SMTP
	client_ip    TEXT NOT NULL,
	client_port  INTEGER NOT NULL,
	server_ip    TEXT NOT NULL,
	server_port  INTEGER NOT NULL,
	url          TEXT,                  -- HTTP: the request URL
	host         TEXT,                  -- HTTP: the Host, without port
	mail_from    TEXT,                  -- SMTP: envelope sender
	file_name    TEXT NOT NULL,
	size         INTEGER NOT NULL,
	truncated    INTEGER NOT NULL DEFAULT 0,
	sha1         TEXT NOT NULL,         -- upper-case hex
	sha256       TEXT NOT NULL,
	md5          TEXT NOT NULL,
	true_type    TEXT NOT NULL,         -- WIN_EXE, PDF, TEXT, ... (libmagic)
	magic        TEXT,                  -- libmagic's description
	rule         TEXT NOT NULL,         -- file submission rule that matched
	state        TEXT NOT NULL,         -- not_submitted | queued | analyzing | done | error | timeout | dropped
	reason       TEXT,                  -- why not submitted / last error
	risk         INTEGER,               -- 0 no risk, 1 low, 2 medium, 3 high (when done)
	threat       TEXT,
	analyzer     TEXT,                  -- ddan | internal
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_ms      INTEGER NOT NULL DEFAULT 0, -- next submission or poll
	submitted_ms INTEGER,
	done_ms      INTEGER,
	data         BLOB                   -- kept until the verdict is in
);
CREATE INDEX ddi_files_state ON ddi_files (state, next_ms);
CREATE INDEX ddi_files_sha1 ON ddi_files (sha1);

CREATE TABLE ddi_detections (
	id           INTEGER PRIMARY KEY,
	ts_ms        INTEGER NOT NULL,
	file_id      INTEGER REFERENCES ddi_files (id),
	detected_by  TEXT NOT NULL,         -- "Known malware" (pattern) | "Virtual Analyzer"
	risk         INTEGER NOT NULL,
	threat       TEXT NOT NULL,
	proto        TEXT NOT NULL,
	sha1         TEXT NOT NULL,
	file_name    TEXT NOT NULL,
	url          TEXT,
	host         TEXT,
	client_ip    TEXT NOT NULL,
	client_port  INTEGER NOT NULL,
	server_ip    TEXT NOT NULL,
	server_port  INTEGER NOT NULL
);

-- One row per object; change_id is the feed cursor (X-DTAS-LastQueryID): every
-- change (new, seen again, expired) takes the next value.
CREATE TABLE ddi_sos (
	id            INTEGER PRIMARY KEY,
	type          TEXT NOT NULL,        -- FILE | URL | DOMAIN | IP
	value         TEXT NOT NULL,
	risk          TEXT NOT NULL,        -- High | Medium
	first_seen_ms INTEGER NOT NULL,
	last_seen_ms  INTEGER NOT NULL,
	expires_ms    INTEGER NOT NULL,     -- 0 = never
	related_sha1  TEXT NOT NULL DEFAULT '',
	removed       INTEGER NOT NULL DEFAULT 0,
	change_id     INTEGER NOT NULL UNIQUE,
	UNIQUE (type, value)
);
