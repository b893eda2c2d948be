-- One owner's encrypted secret fields.
SELECT token FROM {table} WHERE {key} = :a
