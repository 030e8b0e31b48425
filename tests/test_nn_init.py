"""Tests for nn.init: the standard formulas (where notes 004 differ), seeding and names."""

import math

import numpy as np
import pytest

import nn
from nn import init

FAN_IN, FAN_OUT = 500, 300
SHAPE = (FAN_IN, FAN_OUT)  # 150,000 draws: sample std within ~0.5% of the true one


@pytest.mark.parametrize("name, std, bound", [
    ("normal", 1.0, None),  # lecture 11: N(0, 1)
    ("uniform", 0.05 / math.sqrt(3), 0.05),
    ("xavier-uniform", math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("xavier-normal", math.sqrt(2 / (FAN_IN + FAN_OUT)), None),  # 004's 2/(in+out) = variance
    ("he-uniform", math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),  # not 004's √(3/n_in)
    ("he-normal", math.sqrt(2 / FAN_IN), None),
])
def test_initializer_statistics_follow_the_formula(name, std, bound):
    w = init.get(name)(SHAPE, rng=0)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 0.01 * std
    assert w.std() == pytest.approx(std, rel=0.01)
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound


def test_he_uniform_is_not_the_bound_of_notes_004():
    """004's U[±√(3/n_in)] has variance 1/n_in, half of He's 2/n_in."""
    w = init.he_uniform(SHAPE, rng=0)
    assert np.abs(w).max() > 1.4 * math.sqrt(3 / FAN_IN)
    assert w.var() == pytest.approx(2 / FAN_IN, rel=0.02)


def test_constant_and_custom_ranges():
    np.testing.assert_array_equal(init.constant((2, 3), 0.5), np.full((2, 3), 0.5, np.float32))
    w = init.uniform((1000,), low=2.0, high=3.0, rng=1)
    assert w.min() >= 2 and w.max() <= 3
    assert init.normal((20000,), mean=5.0, std=0.1, rng=2).mean() == pytest.approx(5, abs=0.01)


def test_seed_and_generator():
    np.testing.assert_array_equal(init.he_normal((4, 3), rng=7), init.he_normal((4, 3), rng=7))
    rng = np.random.default_rng(7)
    first, second = init.he_normal((4, 3), rng=rng), init.he_normal((4, 3), rng=rng)
    assert not np.array_equal(first, second)  # a shared generator moves on
    assert init.xavier_normal((4, 3), rng=1, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("name", ["normal", "uniform", "constant", "xavier-uniform",
                                  "xavier-normal", "he-uniform", "he-normal", "he_normal",
                                  "glorot-uniform"])
def test_linear_accepts_every_init_name(name):
    layer = nn.Linear(6, 4, init=name, rng=0)
    assert layer.weight.shape == (6, 4) and layer.weight.dtype == np.float32


def test_unknown_init_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown initializer 'lecun'.*he-normal"):
        nn.Linear(2, 2, init="lecun")
