"""The suite's tests leave no task running."""

from tests.leaks import no_leaked_tasks

__all__ = ["no_leaked_tasks"]
