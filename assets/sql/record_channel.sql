-- A declared channel in ops.channels (the database's list of what an account may be of); its label kept
-- current, the row untouched when nothing changed.
INSERT INTO ops.channels (name, label) VALUES (:name, :label)
ON CONFLICT (name) DO UPDATE SET label = excluded.label
WHERE ops.channels.label IS DISTINCT FROM excluded.label
