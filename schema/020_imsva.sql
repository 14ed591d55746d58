-- 020_imsva.sql - IMSVA policy rules (the engine's tables; see docs/imsva.md).
-- rule_json holds the rule in the documented JSON format (without its id);
-- ord, builtin, name and enabled are copied out for ordering and lookups.
CREATE TABLE imsva_rules (
	id INTEGER PRIMARY KEY,
	ord INTEGER NOT NULL,                 -- order number; 0 for built-in rules
	builtin TEXT,                         -- NULL, 'so_file' or 'so_url'
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	enabled INTEGER NOT NULL DEFAULT 1,
	rule_json TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL
);
CREATE INDEX imsva_rules_ord ON imsva_rules(ord);

-- Bumped on every rule change so a daemon can cache the loaded rule set.
CREATE TABLE imsva_rules_meta (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
);
INSERT INTO imsva_rules_meta (id, generation) VALUES (1, 0);
