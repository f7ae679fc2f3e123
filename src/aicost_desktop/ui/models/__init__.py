"""Qt item models over core query results (tables, lists)."""
