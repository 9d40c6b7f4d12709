"""Clinicians' reports: summary.py (pure numbers from rows), text.py (Japanese text), charts.py (PNG),
build.py (reads the database with a few set-based queries and puts the three together)."""
