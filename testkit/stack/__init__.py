"""The one way to start each real component (LiveKit server, fake providers, Parley worker).

Shared by the dev command (``python -m stack``), the tests' fixtures and the benchmarks.
Every process is started by us, bound to 127.0.0.1 and stopped by its PID.
"""
