"""Paper and bulk import: spreadsheet templates per survey, an upload previewed before anything
is stored, and idempotent storing through the same validation as every other channel."""
