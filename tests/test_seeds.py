"""deployment_modes.seeds.per_seed: the seeds two at a time give what one at a time gives."""

import os

import pytest

import deployment_modes as dm
from deployment_modes.seeds import per_seed


def test_two_at_a_time_is_one_at_a_time_field_by_field():
    def run(seed):
        _, runs = dm.experiments.cold_start(seed, n_stream=200)
        return {name: (tl.y_pred, tl.model_version.tolist(), tl.score) for name, tl in runs.items()}

    assert per_seed(run, (0, 1, 2), processes=2) == per_seed(run, (0, 1, 2))


def test_the_child_computes_every_other_seed_and_the_order_is_the_seeds():
    parent = os.getpid()
    where = per_seed(lambda seed: os.getpid() == parent, (5, 3, 4, 1), processes=2)
    assert list(where) == [5, 3, 4, 1]
    assert where == {5: True, 3: False, 4: True, 1: False}


def test_a_failure_in_the_child_is_raised_here():
    def fail_on_odd(seed):
        if seed % 2:
            raise ValueError(f"seed {seed} failed")
        return seed

    with pytest.raises(ValueError, match="seed 1 failed"):
        per_seed(fail_on_odd, (0, 1), processes=2)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"experiment": 3}, TypeError),
        ({"experiment": abs, "seeds": ()}, ValueError),
        ({"experiment": abs, "seeds": (0.5,)}, ValueError),
        ({"experiment": abs, "processes": 3}, ValueError),
        ({"experiment": abs, "processes": True}, ValueError),
    ],
)
def test_bad_arguments_are_named(kwargs, error):
    name = "experiment" if error is TypeError else next(k for k in kwargs if k != "experiment")
    with pytest.raises(error, match=name):
        per_seed(**kwargs)


def test_a_failure_here_ends_the_child_and_is_raised():
    parent = os.getpid()

    def fail_here(seed):
        if os.getpid() == parent:
            raise KeyError("here")
        return seed

    with pytest.raises(KeyError, match="here"):
        per_seed(fail_here, (0, 1, 2), processes=2)
