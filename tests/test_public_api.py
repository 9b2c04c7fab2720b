"""The public surface: ``screening.__all__`` is the whole, sorted API (httpx's habit).

After httpx ``tests/test_exported_members.py``: a name imported into
``screening/__init__.py`` without being added to ``__all__`` (or the reverse) fails
here, so the supported API never grows by accident. Submodules are namespaces,
not exported members, so they are left out of the comparison. Some names are
loaded on first use (PEP 562 ``__getattr__``), so every exported name is resolved
before ``vars(screening)`` is read.
"""

from __future__ import annotations

import inspect
import types

import screening
from screening import errors

INCLUDED_PRIVATE_MEMBERS = {"__version__"}


def public_names() -> list[str]:
    for name in screening.__all__:
        getattr(screening, name)  # load the lazy ones into the module namespace
    return [
        name
        for name, value in vars(screening).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS) and not isinstance(value, types.ModuleType)
    ]


def test_all_is_sorted_and_equals_the_public_names() -> None:
    assert screening.__all__ == sorted(screening.__all__)
    public = public_names()
    extra = sorted(set(public) - set(screening.__all__))
    missing = sorted(set(screening.__all__) - set(public))
    assert not extra and not missing, f"public but not in __all__: {extra}; in __all__ but not public: {missing}"
    assert screening.__all__ == sorted(public)


def test_every_exported_name_resolves_and_comes_from_screening() -> None:
    for name in screening.__all__:
        value = getattr(screening, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("screening."), name


def test_dir_lists_the_lazy_names_too() -> None:
    assert set(screening.__all__) <= set(dir(screening))


def test_every_exported_exception_derives_from_screening_error() -> None:
    exported = [getattr(screening, n) for n in screening.__all__]
    exceptions = [v for v in exported if inspect.isclass(v) and issubclass(v, BaseException)]
    assert screening.ScreeningError in exceptions
    for exc in exceptions:
        assert issubclass(exc, screening.ScreeningError), exc.__name__


def test_every_error_class_in_errors_is_exported() -> None:
    defined = [
        v for v in vars(errors).values()
        if inspect.isclass(v) and issubclass(v, BaseException) and v.__module__ == errors.__name__
    ]
    assert defined
    for exc in defined:
        assert getattr(screening, exc.__name__, None) is exc, f"{exc.__name__} is not exported"


def test_version_is_a_plain_semantic_version() -> None:
    parts = screening.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)
