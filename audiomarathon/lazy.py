"""Package attributes loaded on first use (a module ``__getattr__``, PEP 562).

A package whose light parts every command reads (a command table, option declarations) and whose
heavy parts (torch, numpy, an HTTP client) only some runs need names its public attributes here;
each loads its module when first read, then stays in the package's namespace.

    __getattr__ = lazy_attributes(__name__, {"score": "scoring", ...})
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Mapping


def lazy_attributes(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """The ``__getattr__`` of ``package``: ``exports`` maps a public name to the submodule defining it."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
