"""count_many(): several rule variants of one election, optionally on two cores.

Opt-in, for the command line and benchmarks (`bench/counting.py --everything
--processes 2`): the web app counts with count() in its own worker and never
forks. With processes=2 and a second core, the variants with cardinality
utility (their own add1 search) are counted in a forked child while this
process counts the others; the child's outcomes come back pickled through a
pipe. Results are exactly count()'s: the same code runs on the same data, and
whatever goes wrong in the child (no fork, an error, a crash) means its
variants are counted here instead, serially, raising what count() raises.
The child is always waited for, so no zombie is left behind.
"""

from __future__ import annotations

import os
import pickle  # noqa: S403 - only our own forked child's output is unpickled
import signal
from collections.abc import Mapping
from typing import Any

from civic.counting import engine
from civic.counting.api import Outcome, count
from civic.counting.model import Instance, Profile


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def split(variants: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """(counted here, counted in the child): the cardinality-utility variants
    share one add1 search, the others another; nothing goes to the child
    unless both sides have work."""
    theirs = [v for v, kw in variants.items() if kw.get("utility") == "cardinality"]
    mine = [v for v in variants if v not in theirs]
    if not mine or not theirs:
        return list(variants), []
    return mine, theirs


def count_many(
    instance: Instance,
    profile: Profile,
    variants: Mapping[str, Mapping[str, Any]],
    processes: int = 1,
) -> dict[str, Outcome]:
    """count(instance, profile, **kw) for every (name, kw) of `variants`, by
    name in the same order; processes=2 counts in two processes when the
    system can fork and this process may use two cores."""
    mine, theirs = split(variants)
    if processes < 2 or not theirs or not hasattr(os, "fork") or usable_cores() < 2:
        return {v: count(instance, profile, **variants[v]) for v in variants}
    # Merge the ballots once, before the fork: the child inherits the result.
    engine.compile_election(instance, profile)
    done = _in_child(instance, profile, variants, mine, theirs)
    for v in theirs:
        if v not in done:  # the child failed: count them here, as count() would
            done[v] = count(instance, profile, **variants[v])
    return {v: done[v] for v in variants}


def _in_child(
    instance: Instance,
    profile: Profile,
    variants: Mapping[str, Mapping[str, Any]],
    mine: list[str],
    theirs: list[str],
) -> dict[str, Outcome]:
    """Count `theirs` in a forked child and `mine` here; the child's outcomes
    are missing from the result if it failed."""
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return {v: count(instance, profile, **variants[v]) for v in mine}
    if pid == 0:  # the child: count, write, and leave without any cleanup
        status = 1
        try:
            os.close(r)
            out = {v: count(instance, profile, **variants[v]) for v in theirs}
            with os.fdopen(w, "wb") as pipe:
                pipe.write(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    done: dict[str, Outcome] = {}
    failed = True
    try:
        for v in mine:
            done[v] = count(instance, profile, **variants[v])
        failed = False
    finally:
        if failed:  # our own error propagates; the child's work is not needed
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        with os.fdopen(r, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    if status == 0 and data:
        # Only our own forked child writes to this pipe: nothing untrusted is unpickled.
        done.update(pickle.loads(data))  # noqa: S301  # nosec B301
    return done
