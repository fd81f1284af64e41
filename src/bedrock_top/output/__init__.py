"""``--once`` output (plain-text table, JSON, CSV) and the live table's CSV export."""
