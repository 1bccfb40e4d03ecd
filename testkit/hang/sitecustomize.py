"""Loaded by every Python process of a worker started with ``stack.hang.hanging_env``."""

import os

if os.environ.get("PARLEY_TEST_HANG_FILE"):
    from stack import hang

    hang.install()
