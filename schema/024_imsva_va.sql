-- 024_imsva_va.sql - the Virtual Analyzer queue: messages parked until DDAN
-- has a verdict for each submitted attachment (attempts, query time,
-- expiration, release).
CREATE TABLE imsva_va_queue (
	msg_id INTEGER PRIMARY KEY,
	ts_ms INTEGER NOT NULL,
	rule TEXT NOT NULL DEFAULT '',
	expires_ms INTEGER NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending', -- pending | done | timeout | error | released
	risk INTEGER NOT NULL DEFAULT -1,
	attempts INTEGER NOT NULL DEFAULT 0,
	query_ms INTEGER,
	done_ms INTEGER
);
CREATE INDEX imsva_va_queue_status ON imsva_va_queue(status);
CREATE TABLE imsva_va_samples (
	msg_id INTEGER NOT NULL,
	sha1 TEXT NOT NULL,
	filename TEXT NOT NULL DEFAULT '',
	data BLOB,                      -- dropped once submitted
	submitted INTEGER NOT NULL DEFAULT 0,
	status INTEGER NOT NULL DEFAULT 0, -- DTAS brief status (4 done, 5 error, 6 timeout)
	risk INTEGER NOT NULL DEFAULT -1,
	PRIMARY KEY (msg_id, sha1)
);
