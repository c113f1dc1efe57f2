"""The SIGKILL soak: ``orderflow sync`` killed at random moments, again and again, loses and doubles nothing.

Each iteration the simulated clock moves on ten minutes, new orders arrive every other time, the vendors
answer what they have received, and a sync starts and is SIGKILLed after a random delay (seeded) within a
typical run's length; some runs finish first. Every kill is followed by the verifier's "never doubled"
checks; at the end clean runs settle the shop and the whole verifier runs over the database and the test
servers' logs.

CI runs a short soak on SQLite and PostgreSQL; the full 200 iterations run on demand: ``scripts/test -m soak``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

import pytest

from tests.support.pipeline_world import FINE, PipelineWorld

SHORT, FULL = 6, 200
KILLED = -9


def soak(world: PipelineWorld, iterations: int, *, seed: int) -> Counter[int]:
    """Run the soak; returns how the syncs ended (return code -> how many)."""
    rng = random.Random(seed)
    world.add_orders(3)
    started = time.monotonic()
    world.sync()
    typical = time.monotonic() - started  # the kills land anywhere in a run of this shop on this machine
    outcomes: Counter[int] = Counter()
    for iteration in range(iterations):
        if iteration % 2 == 0:
            world.add_orders(3)
        world.vendor_side()
        world.advance(timedelta(minutes=10))
        finished = world.finish(world.start("sync"), kill_after=rng.uniform(0.1, 1.1) * typical)
        outcomes[finished.returncode] += 1
        assert finished.returncode == KILLED or finished.returncode in FINE, finished.stderr
        assert "Traceback" not in finished.stderr, finished.stderr
        assert world.verify(settled=False) == [], f"after iteration {iteration} ({finished.returncode})"
    world.settle()
    assert world.verify() == []
    return outcomes


class TestSoak:
    def test_short_soak(self, world: PipelineWorld) -> None:
        """A few syncs killed at random moments, then clean runs: every order, purchase order, file, email and
        push exactly once, nothing stuck, no lock held."""
        outcomes = soak(world, SHORT, seed=20261103)
        assert outcomes[KILLED] >= 1, outcomes

    @pytest.mark.soak
    @pytest.mark.timeout(3600)
    def test_full_soak(self, world: PipelineWorld) -> None:
        """Two hundred syncs killed at random moments, then clean runs: the same, with most runs killed."""
        outcomes = soak(world, FULL, seed=7)
        assert outcomes[KILLED] >= FULL // 2, outcomes
