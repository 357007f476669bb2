"""The authorPerson match of ITI TF-2a 3.18.4.1.2.3.6 as one SQL construct that answers alike on both
backends: ``%`` any text, ``_`` one character, every other character literal, case-sensitive."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

# LIKE pattern -> GLOB pattern: the wildcards translated, GLOB's own specials made literal
_GLOB = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}


class PersonMatches(ColumnElement[bool]):
    """``column`` matches ``pattern``. Both dialect forms of the pattern are bound parameters, so statements
    holding it are cached like any other (the pattern is a value, not part of the SQL text)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("like", InternalTraversal.dp_clauseelement),
        ("glob", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnClause, pattern: str) -> None:
        self.column = column
        self.like = literal(pattern.replace("\\", "\\\\"), String())
        self.glob = literal("".join(_GLOB.get(c, c) for c in pattern), String())


@compiles(PersonMatches)
def _like(element: PersonMatches, compiler, **kw) -> str:  # noqa: ANN001 - SQLAlchemy compiler hook
    # SQL LIKE with a backslash escape, so that only % and _ are special (PostgreSQL's LIKE is case-sensitive)
    column = compiler.process(element.column, **kw)
    return f"{column} LIKE {compiler.process(element.like, **kw)} ESCAPE '\\'"


@compiles(PersonMatches, "sqlite")
def _glob(element: PersonMatches, compiler, **kw) -> str:  # noqa: ANN001
    # SQLite's LIKE ignores ASCII case; its GLOB does not
    column = compiler.process(element.column, **kw)
    return f"{column} GLOB {compiler.process(element.glob, **kw)}"
