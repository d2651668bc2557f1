"""`Slotted` and `Frozen`: the base of imgcall's internal value classes.

A dataclass compiles its generated methods when its module is imported: ~0.8 ms a
class here, paid at every start of the command line (bench/README.md, changes 35 and
41). The internal classes made at every start or per image are plain classes with
``__slots__`` and their own ``__init__``; these bases give them the equality and
``repr`` that a dataclass would, from the slots. The public classes stay dataclasses,
which users may `dataclasses.replace`.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Frozen", "Slotted"]


class Slotted:
    """Equality and ``repr`` from the fields named in ``__match_args__`` (the order of
    ``__init__``'s parameters, as a dataclass has it); unhashable, as a mutable
    dataclass is."""

    __slots__: ClassVar[tuple[str, ...]] = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        fields = zip(self.__match_args__, self._fields(), strict=True)
        shown = ", ".join(f"{name}={value!r}" for name, value in fields)
        return f"{type(self).__name__}({shown})"


class Frozen(Slotted):
    """A `Slotted` value that is never changed after ``__init__``, so it hashes."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._fields())
