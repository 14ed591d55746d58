-- 022_imsva_logs.sql - IMSVA's logs (Logs > Log Query): message tracking,
-- policy events, quarantine events, MTA events, system events and Virtual
-- Analyzer events. Every row is also appended to the shared `events` timeline.
CREATE TABLE imsva_logs (
	id INTEGER PRIMARY KEY,
	ts_ms INTEGER NOT NULL,
	type TEXT NOT NULL,
	msg_id INTEGER,
	internal_id TEXT,
	message_id TEXT,
	sender TEXT,
	recipients TEXT,                -- ';'-separated
	subject TEXT,
	rule TEXT,
	rule_type TEXT,
	action TEXT,
	action_code TEXT,
	reason TEXT,
	filter TEXT,
	violating TEXT,
	detail TEXT                     -- JSON
);
CREATE INDEX imsva_logs_type_ts ON imsva_logs(type, ts_ms);
CREATE INDEX imsva_logs_msg ON imsva_logs(msg_id);
