"""What a command costs the person who runs it: the wall time until it exits, and the CPU time of
every process it started — driver and browser included, even those it left running when it exited.

The benchmark process makes itself a child subreaper (Linux prctl), so processes a subject orphans
are re-parented to it instead of init; it reaps them once they exit, and the kernel adds their CPU
time to ours (RUSAGE_CHILDREN). Subjects run one at a time, in a session of their own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

PR_SET_CHILD_SUBREAPER = 36
_subreaper_set = False


@dataclass(frozen=True)
class ProcessCost:
    wall_s: float
    cpu_s: float
    returncode: int
    stdout: str
    stderr: str
    # Processes still alive when the command exited and how long they took to go.
    lingering: int = 0
    linger_s: float = 0.0


def _subreaper() -> None:
    global _subreaper_set
    if _subreaper_set:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    _subreaper_set = True


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid → (state, parent pid, session id) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry)] = (fields[0], int(fields[1]), int(fields[3]))
    return found


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reap_session(session_id: int, timeout: float) -> tuple[int, float]:
    """Wait for the session's leftovers to exit (reaping those re-parented to us); kill what
    outlives the timeout. Returns how many there were and how long they took."""
    started = time.perf_counter()
    me = os.getpid()
    initial = None
    deadline, killed = started + timeout, False
    while True:
        processes = _processes()
        members = {pid: parent for pid, (_state, parent, session) in processes.items() if session == session_id}
        if initial is None:
            initial = len(members)
        # Orphans re-parented to us: the session's, and daemons that left it (Chromium's crash
        # handler starts a session of its own), reaped once they are zombies.
        for pid, (state, parent, session) in processes.items():
            if parent == me and (session == session_id or state == "Z"):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
        if not members:
            return initial, time.perf_counter() - started
        if time.perf_counter() > deadline:
            if killed:
                raise RuntimeError(f"processes of session {session_id} outlived SIGKILL: {sorted(members)}")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session_id, signal.SIGKILL)
            deadline, killed = time.perf_counter() + 5, True
        time.sleep(0.01)


def process_cost(argv: Sequence[str], *, env: dict[str, str], cwd: str | os.PathLike, timeout: float = 900,
                 linger_timeout: float = 30) -> ProcessCost:  # fmt: skip
    """Run argv to completion in its own session and measure it (see the module's docstring).

    Raises subprocess.TimeoutExpired (after killing the session) when it runs past timeout.
    """
    _subreaper()
    cpu_before = _cpu_children()
    # Files rather than pipes: a browser the command orphans keeps inherited pipes open, and
    # reading them to the end would wait for it, counting its shutdown as the command's.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   start_new_session=True)  # fmt: skip
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            _reap_session(process.pid, 5)
            raise
        wall = time.perf_counter() - started
        lingering, linger_s = _reap_session(process.pid, linger_timeout)
        cpu = _cpu_children() - cpu_before
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return ProcessCost(wall_s=wall, cpu_s=cpu, returncode=returncode, stdout=stdout, stderr=stderr,
                       lingering=lingering, linger_s=linger_s)  # fmt: skip
