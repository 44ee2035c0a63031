"""Starts and talks to the inference worker process. Torch-free."""
