"""Services: every write to grants goes through one of these (keyword-only, typed, atomic)."""
