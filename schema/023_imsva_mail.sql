-- 023_imsva_mail.sql - where processed mail goes: quarantine areas, the
-- outbound delivery queue (next hop or handoff, deferred retries with
-- backoff) and the local "delivered" mailbox used when no next hop is set.
CREATE TABLE imsva_quarantine (
	id INTEGER PRIMARY KEY,
	msg_id INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	area TEXT NOT NULL,
	rule TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	sender TEXT NOT NULL,
	rcpts TEXT NOT NULL,            -- JSON array
	subject TEXT NOT NULL DEFAULT '',
	size INTEGER NOT NULL,
	data BLOB,                      -- NULL once deleted
	state TEXT NOT NULL DEFAULT 'quarantined', -- quarantined | released | deleted
	state_ms INTEGER
);
CREATE INDEX imsva_quarantine_area ON imsva_quarantine(state, area, ts_ms);

CREATE TABLE imsva_outbound (
	id INTEGER PRIMARY KEY,
	msg_id INTEGER NOT NULL,
	created_ms INTEGER NOT NULL,
	host TEXT NOT NULL,
	port INTEGER NOT NULL,
	sender TEXT NOT NULL,
	rcpts TEXT NOT NULL,            -- JSON array
	data BLOB NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending', -- pending | sent | bounced
	attempts INTEGER NOT NULL DEFAULT 0,
	next_ms INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	done_ms INTEGER
);
CREATE INDEX imsva_outbound_due ON imsva_outbound(state, next_ms);

CREATE TABLE imsva_mailbox (
	id INTEGER PRIMARY KEY,
	msg_id INTEGER NOT NULL,
	ts_ms INTEGER NOT NULL,
	sender TEXT NOT NULL,
	rcpt TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	data BLOB NOT NULL
);
CREATE INDEX imsva_mailbox_rcpt ON imsva_mailbox(rcpt, id);
CREATE INDEX imsva_mailbox_msg ON imsva_mailbox(msg_id);
