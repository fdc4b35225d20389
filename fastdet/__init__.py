"""fastdet: Numba-fast, peer-exact tools for what happens after an object detector runs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fastdet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
