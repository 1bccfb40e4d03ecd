"""Where Parley writes, and for how long: every file lies under the worker's data directory
(``PARLEY_DATA_DIR``), private to the worker's user (``livekit.plugins.participants.files``),
and is deleted after ``PARLEY_RETENTION_DAYS``.

A room never names a path: it may pick a sub-folder name (``meeting.notes_dir``), and file
names derived from a room carry its SID, so two rooms never share a file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

logger = logging.getLogger("parley")

FOLDER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""What a room may name as its own sub-folder: one plain name, no separators, no dots."""


WRITTEN = ("meetings", "reports", "intake")
"""The folders of the data directory Parley writes what rooms said into (models are not)."""


def sweep(data_dir: Path, days: float, now: float | None = None) -> int:
    """Deletes the files in the ``WRITTEN`` folders of ``data_dir`` last written more than
    ``days`` ago (and the folders left empty below them); returns how many files went."""
    cutoff = (now or time.time()) - days * 86_400
    removed = 0
    for top in (data_dir / name for name in WRITTEN):
        for folder, _, files in os.walk(top, topdown=False):
            for name in files:
                path = Path(folder, name)
                try:
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError as e:  # gone already, or not ours to delete
                    logger.warning("retention: cannot delete a file (%s)", e.strerror)
            if Path(folder) != top and not os.listdir(folder):
                Path(folder).rmdir()
    return removed


async def keep_sweeping(data_dir: Path, days: float, every_s: float = 3600.0) -> None:
    """Runs ``sweep`` now and then every ``every_s`` for as long as the worker runs."""
    while True:
        removed = await asyncio.to_thread(sweep, data_dir, days)
        if removed:
            logger.info("retention: deleted %d files older than %g days", removed, days)
        await asyncio.sleep(every_s)
