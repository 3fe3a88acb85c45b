"""CSV import of time entries (Kimai, Toggl Track, Harvest and a documented generic format)."""
