"""The load the worker reports to LiveKit's dispatcher, and shows on ``/metrics``.

livekit-agents' own load is the machine's CPU: several workers on one machine all report the
same number, so the dispatcher (which picks a worker at random, weighted by ``1 - load``)
cannot tell a busy worker from an idle one. Parley reports the larger of its own process
tree's share of the cores and, with ``PARLEY_MAX_ROOMS``, its rooms against that cap; a
worker at its cap reads 1.0 and gets no new room. LiveKit Cloud replaces any custom load with
its own.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

import psutil
from livekit.agents import AgentServer
from livekit.agents.utils.hw import get_cpu_monitor
from prometheus_client import Gauge

WINDOW_S = 2.5
"""CPU is averaged over this long: livekit-agents' own window, and its status interval."""

LOAD = Gauge("parley_worker_load", "The load this worker reports (0..1).", multiprocess_mode="max")
ROOMS = Gauge("parley_worker_rooms", "Rooms this worker serves.", multiprocess_mode="max")
DRAINING = Gauge(
    "parley_worker_draining",
    "1 once SIGTERM has made the worker take no new rooms.",
    multiprocess_mode="max",
)


class TreeCpu:
    """CPU seconds used by a process and its descendants, summed over the processes seen
    alive: a job process that ends takes only its last, unseen slice with it."""

    def __init__(self, root: int) -> None:
        self._root = psutil.Process(root)
        self._seen: dict[int, float] = {}
        self._total = 0.0

    def seconds(self) -> float:
        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return self._total
        seen: dict[int, float] = {}
        for proc in procs:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            used = times.user + times.system
            seen[proc.pid] = used
            self._total += used - self._seen.get(proc.pid, used if proc is self._root else 0.0)
        self._seen = seen
        return self._total


class WorkerLoad:
    """``load_fnc`` for the AgentServer: called by livekit-agents every 0.5 s in a thread."""

    def __init__(self, max_rooms: int | None) -> None:
        self.max_rooms = max_rooms
        self._cpu = TreeCpu(os.getpid())
        self._cores = get_cpu_monitor().cpu_count()
        self._samples: deque[tuple[float, float]] = deque()
        self._lock = threading.Lock()

    def cpu_share(self) -> float:
        """The process tree's CPU over the last ``WINDOW_S``, as a share of all cores."""
        with self._lock:
            now, used = time.monotonic(), self._cpu.seconds()
            self._samples.append((now, used))
            while len(self._samples) > 2 and now - self._samples[1][0] >= WINDOW_S:
                self._samples.popleft()
            then, before = self._samples[0]
        return 0.0 if now <= then else min(1.0, (used - before) / (now - then) / self._cores)

    def rooms_share(self, rooms: int) -> float:
        return 0.0 if self.max_rooms is None else min(1.0, rooms / self.max_rooms)

    def __call__(self, server: AgentServer) -> float:
        rooms = len(server.active_jobs)
        load = max(self.cpu_share(), self.rooms_share(rooms))
        LOAD.set(load)
        ROOMS.set(rooms)
        DRAINING.set(1 if server.draining else 0)
        return load
