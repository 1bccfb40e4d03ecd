"""Offline evaluations of the worker's own code paths (``python -m agent eval ...``)."""
