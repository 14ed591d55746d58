-- 021_imsva_messages.sql - IMSVA's message store: every message accepted over
-- SMTP, committed before its 250 (group commit), then processed off the intake
-- path. state: new -> processing -> delivered | quarantined | deleted | handoff
-- | va (parked for Virtual Analyzer) | defer (a lookup failed; retried at
-- next_ms). After a restart, 'processing' goes back to 'new'.
CREATE TABLE imsva_messages (
	id INTEGER PRIMARY KEY,
	internal_id TEXT NOT NULL,
	received_ms INTEGER NOT NULL,
	client_ip TEXT NOT NULL DEFAULT '',
	helo TEXT NOT NULL DEFAULT '',
	tls INTEGER NOT NULL DEFAULT 0,
	mail_from TEXT NOT NULL,
	rcpts TEXT NOT NULL,            -- JSON array of envelope recipients
	size INTEGER NOT NULL,
	data BLOB NOT NULL,
	state TEXT NOT NULL DEFAULT 'new',
	next_ms INTEGER NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	subject TEXT,
	message_id TEXT,
	final_action TEXT,
	done_ms INTEGER
);
CREATE INDEX imsva_messages_state ON imsva_messages(state, id);
