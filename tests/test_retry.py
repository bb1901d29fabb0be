"""publisher.retry.backoff: a pure function of (policy, attempt, rand)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from publisher.retry import RetryPolicy, backoff

POLICY = RetryPolicy(base_seconds=30.0, max_seconds=3600.0)
RANDS = [0.0, 0.1, 0.25, 0.5, 0.75, 0.999999]


def _ceiling(policy: RetryPolicy, attempt: int) -> float:
    """The ceiling as documented: base doubling from the first attempt, capped."""
    return min(policy.max_seconds, policy.base_seconds * 2.0 ** max(attempt - 1, 0))


def test_deterministic_for_a_given_rand():
    for attempt in range(0, 12):
        for rand in RANDS:
            first = backoff(POLICY, attempt, rand)
            assert isinstance(first, timedelta)
            assert all(backoff(POLICY, attempt, rand) == first for _ in range(3))
            # and it depends on nothing else: an equal policy object gives the same delay
            assert backoff(RetryPolicy(base_seconds=30.0, max_seconds=3600.0), attempt, rand) == first


def test_does_not_touch_global_random_state_when_rand_is_given():
    random.seed(1234)
    expected = random.random()
    random.seed(1234)
    backoff(POLICY, 3, 0.5)
    assert random.random() == expected


@pytest.mark.parametrize("attempt", range(0, 15))
def test_within_half_ceiling_and_ceiling(attempt):
    ceiling = _ceiling(POLICY, attempt)
    for rand in RANDS:
        seconds = backoff(POLICY, attempt, rand).total_seconds()
        assert ceiling / 2 <= seconds <= ceiling, (attempt, rand, seconds)
    assert backoff(POLICY, attempt, 0.0).total_seconds() == pytest.approx(ceiling / 2)
    assert backoff(POLICY, attempt, 0.999999).total_seconds() == pytest.approx(ceiling, rel=1e-5)


def test_random_jitter_stays_in_range():
    for attempt in (1, 3, 6, 20):
        ceiling = _ceiling(POLICY, attempt)
        values = {backoff(POLICY, attempt).total_seconds() for _ in range(200)}
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len(values) > 1  # jitter: not everyone retries at the same instant


def test_grows_monotonically_with_rand():
    delays = [backoff(POLICY, 4, r) for r in RANDS]
    assert delays == sorted(delays)
    assert delays[0] < delays[-1]


@pytest.mark.parametrize("rand", RANDS)
def test_doubles_per_attempt_until_the_cap(rand):
    policy = RetryPolicy(base_seconds=10.0, max_seconds=10.0 * 2**6)
    delays = [backoff(policy, a, rand).total_seconds() for a in range(1, 8)]
    for before, after in zip(delays, delays[1:], strict=False):
        assert after == pytest.approx(2 * before)
    # attempt 1 waits around base_seconds
    assert 5.0 <= delays[0] <= 10.0


@pytest.mark.parametrize("rand", RANDS)
def test_capped_at_max_seconds(rand):
    policy = RetryPolicy(base_seconds=30.0, max_seconds=100.0)
    capped = [backoff(policy, a, rand).total_seconds() for a in range(4, 40)]
    assert all(50.0 <= s <= 100.0 for s in capped)
    assert len(set(capped)) == 1  # once capped, the attempt number no longer matters


def test_huge_attempt_numbers_saturate_instead_of_overflowing():
    policy = RetryPolicy(base_seconds=30.0, max_seconds=3600.0)
    for attempt in (64, 1100, 10_000, 10**9):
        assert backoff(policy, attempt, 0.0) == timedelta(seconds=1800)
        assert backoff(policy, attempt, 0.5) == timedelta(seconds=2700)


def test_zero_base_means_no_wait():
    policy = RetryPolicy(base_seconds=0.0, max_seconds=3600.0)
    assert all(backoff(policy, a, 0.7) == timedelta(0) for a in (0, 1, 5, 5000))


def test_first_attempts_use_base_seconds():
    # attempt 0 and 1 both wait around base_seconds (no negative exponent)
    assert backoff(POLICY, 0, 0.0) == backoff(POLICY, 1, 0.0) == timedelta(seconds=15)
    assert backoff(POLICY, -3, 0.0) == timedelta(seconds=15)
