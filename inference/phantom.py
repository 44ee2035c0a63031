"""Synthetic low-dose chest CT with known nodules (demo scan, tests, training data)."""
