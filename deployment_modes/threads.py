"""One thread for small fits: BLAS and OpenMP pools limited to one thread, cheaply.

A fit on a few thousand rows gains nothing from BLAS threads: on a shared 2-core machine they
only wait for each other (seen: 17 times the CPU under load). threadpoolctl's
``threadpool_limits`` finds the loaded libraries anew on every call (about 3 ms, more than
many of these fits take); :func:`one_thread` finds them once per process (again only when
modules were imported since) and limits them in about 20 us.

Used by the batch deployments' retrains (``deployment_modes.batch``) and the experiments.
"""

from __future__ import annotations

import sys

from threadpoolctl import ThreadpoolController

__all__ = ["one_thread"]

_found: list = [None, -1]  # the controller, and how many modules were loaded when it was built


def one_thread():
    """A context manager in which BLAS and OpenMP thread pools use one thread.

    Examples
    --------
    >>> import numpy as np
    >>> with one_thread():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    if _found[0] is None or _found[1] != len(sys.modules):
        _found[:] = [ThreadpoolController(), len(sys.modules)]
    return _found[0].limit(limits=1)
