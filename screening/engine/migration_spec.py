"""The migration format: how a newer instrument version carries answers over from an older one.

May import: pydantic / stdlib (nothing from ``screening``: ``instrument.py`` imports this).

Stored answers are the source of truth and scores are derived, so when an
instrument changes the old answers must be *translated*, never re-guessed. A
version declares, per older version it accepts, what became of each item:

* ``renamed``: the same question under a new id;
* ``recoded``: an old answer value means a value of the new scale (keyed by the
  *old* item id; values not listed carry over unchanged);
* ``split``: one old item became several; per old value, what each new item gets
  (``null``: not asked). Values not listed carry over to every new item;
* ``merged``: several old items became one, by a three-valued rule
  (``any_yes``: yes if any is yes, no if all are no, otherwise not asked);
* ``removed``: old items no longer asked (their stored answers stay stored);
* ``added``: new items; old assessments did not ask them, so they are *not
  asked* — unknown, never "no";
* ``levels``: old level id → new level id, for a renamed level (judgements).

Items with the same id in both versions carry over implicitly. Cross-checks
against both versions live in ``migration.check_migrations``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["Merge", "Migration", "Split"]

# The same patterns as instrument.Id / Value / SemVer; repeated here because
# instrument.py imports this module (importing it back would be a cycle).
Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Value = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]
SemVer = Annotated[str, StringConstraints(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


class Split(_Model):
    """One old item asked as several new ones.

    ``values`` maps an old answer value to what each new item gets; a new item
    left out of that mapping gets the old value, ``null`` means not asked.
    """

    into: list[Id] = Field(min_length=2)
    values: dict[Value, dict[Id, Value | None]] = {}


class Merge(_Model):
    """Several old items asked as one new item, combined three-valued.

    ``any_yes``: "yes" if any source is "yes", "no" if all are "no", else not asked.
    ``all_yes``: "yes" if all are "yes", "no" if any is "no", else not asked.
    """

    model_config = ConfigDict(populate_by_name=True)

    sources: list[Id] = Field(alias="from", min_length=2)
    rule: Literal["any_yes", "all_yes"]


class Migration(_Model):
    """How answers given under ``from_version`` become answers of this version."""

    from_version: SemVer
    renamed: dict[Id, Id] = {}
    recoded: dict[Id, dict[Value, Value]] = {}
    split: dict[Id, Split] = {}
    merged: dict[Id, Merge] = {}
    removed: list[Id] = []
    added: list[Id] = []
    levels: dict[Id, Id] = {}
