"""Numba kernels only: no validation, no defaults, no Python objects.

Every public wrapper in ``fastdet`` validates and converts its input before
calling into this package; a kernel may assume C-contiguous arrays of the
documented shapes and dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(*, parallel: bool = False, vectorize_division: bool = False) -> Callable[[F], F]:
    """Compile a function with fastdet's uniform Numba options (cached, nogil).

    ``vectorize_division`` selects Numba's ``error_model="numpy"``: a division
    by zero gives inf/NaN instead of a Python exception check, which lets LLVM
    vectorize loops with a division. Use it only where every divisor is chosen
    non-zero by the kernel itself.
    """
    error_model = "numpy" if vectorize_division else "python"
    return cast(
        Callable[[F], F],
        numba.njit(cache=True, nogil=True, parallel=parallel, error_model=error_model),
    )
