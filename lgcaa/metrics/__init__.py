"""Metrics: the nine metrics of Table I under one pinned protocol (pyiqa)."""
