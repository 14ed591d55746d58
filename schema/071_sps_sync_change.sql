-- 070_sps_sync_change.sql - SPS keeps the last synchronisation that brought
-- changes beside the last one: its time and the change number (the source's
-- feed cursor) it reached, the evidence of seed STEP 4-4 that a change arrived.
ALTER TABLE sps_sync_state ADD COLUMN last_change_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sps_sync_state ADD COLUMN change_number INTEGER NOT NULL DEFAULT 0;
