-- 078_imsva_logs_time.sql - the log query pages newest first by time
-- (ORDER BY ts_ms DESC, id DESC, keyset cursor): this index serves it without
-- a type (imsva_logs_type_ts with one), so a page of a million rows reads
-- its own rows and stops, and a date range is a range of the index.
CREATE INDEX imsva_logs_ts ON imsva_logs(ts_ms);
