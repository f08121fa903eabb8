"""Baseline SR methods of Table I behind one interface (explicit registry in baselines.registry)."""
