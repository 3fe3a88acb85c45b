"""Small query helpers shared by the hot paths of every request."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# A parameter of a compiled query: (named, the value's name or the constant, what wraps the
# value on each run: the type the backend gave the stand-in, or an array's literal).
_Slot = tuple[bool, Any, Callable[[Any], Any] | None]


def one_or_none(queryset: QuerySet[M]) -> M | None:
    """The one row a query on a unique key finds, or None.

    `.first()` would order by the primary key, and compiling that ORDER BY costs Django more
    than running the whole query (about 0.3 ms a request on the pages' hot path); a unique key
    has at most one row, so the order changes nothing.
    """
    for row in queryset[:1]:
        return row
    return None


def columns(model: type[Model], prefix: str = "") -> list[str]:
    """The `values_list` names of a model's concrete columns, through `prefix` (a relation)."""
    return [prefix + field.attname for field in model._meta.concrete_fields]


def build(
    model: type[M], row: Sequence[Any], start: int = 0, using: str = "default"
) -> tuple[M | None, int]:
    """The instance whose `columns(model)` start at `row[start]` (None for a missing row of a
    LEFT JOIN: its primary key is NULL, or the foreign key Django reads in its place), and where
    the next model's columns start."""
    fields = model._meta.concrete_fields
    stop = start + len(fields)
    values = row[start:stop]
    primary = next(i for i, field in enumerate(fields) if field.primary_key)
    if values[primary] is None:
        return None, stop
    return model.from_db(using, [field.attname for field in fields], values), stop


def build_all(model: type[M], rows: Sequence[Sequence[Any]], using: str = "default") -> list[M]:
    """The instances of rows that hold `columns(model)` only (`build` for each)."""
    built = []
    for row in rows:
        instance, _stop = build(model, row, using=using)
        assert instance is not None  # a row of the model's own table has its primary key
        built.append(instance)
    return built


STAND_IN_YEAR = 1901
"""The year of the date and moment stand-ins: no constant of ours."""


def _derived(param: Any) -> bool:
    """A compiled constant that looks computed from a date or moment stand-in (within a year of
    the stand-ins': a week before the first of January is in the year before)."""
    years = range(STAND_IN_YEAR - 1, STAND_IN_YEAR + 2)
    if isinstance(param, date):  # a datetime too
        return param.year in years
    return isinstance(param, str) and any(param.startswith(f"{year}-") for year in years)


def _key(value: Any) -> tuple[type, Any]:
    """What a stand-in is recognised by among the compiled parameters: an int by its value
    whatever int subclass the backend wrapped it in."""
    if isinstance(value, int) and not isinstance(value, bool):
        return int, int(value)
    return type(value), value


class Prepared:
    """A `values_list` queryset compiled to SQL once per process and database; each run binds
    its values to that SQL.

    On the hot paths of every request Django spends more time compiling a query (resolving
    lookups, joins, the select list, the converters) than the database spends running it.
    The queryset is built once with a stand-in for each named value; the stand-ins must reach
    the SQL as parameters unchanged (an equality, `__in` of one value), which is checked when
    compiling. Rows come back converted as the queryset's own rows would be.

    A value computed from a stand-in (a moment a week before it) would be compiled into the SQL
    as a constant: a date or moment of the stand-ins' year among the constants is an error.

    `make` may return a list of querysets with the same columns: their rows in one query (UNION
    ALL), each part with its own order and slice, in one round trip.
    """

    def __init__(
        self, make: Callable[..., QuerySet[Any] | Sequence[QuerySet[Any]]], **kinds: type
    ) -> None:
        self._make = make
        self._kinds = kinds
        self._optional: frozenset[str] = frozenset()
        self._compiled: dict[str, tuple[str, list[_Slot], dict[int, Any]]] = {}
        self._lock = threading.Lock()

    def may_leave_out(self, *names: str) -> Prepared:
        """These named values need not reach the SQL (a query built from parts that do not all
        ask them); returns the query."""
        self._optional = frozenset(names)
        return self

    def _stand_ins(self) -> dict[str, Any]:
        stand_ins: dict[str, Any] = {}
        for number, (name, kind) in enumerate(self._kinds.items()):
            if kind is int:
                # Within every integer column's range (Django turns an out-of-range lookup into
                # "no rows" without a parameter), and no constant of ours.
                stand_ins[name] = 2_147_480_000 + number
            elif kind is str:
                stand_ins[name] = f"\x1fprepared:{name}\x1f"
            elif kind is datetime:
                stand_ins[name] = datetime(STAND_IN_YEAR, 2, 3, 4, 5, 6, 7 + number, tzinfo=UTC)
            elif kind is date:
                stand_ins[name] = date(STAND_IN_YEAR, 1, 1) + timedelta(days=number)
            else:
                raise TypeError(
                    f"a prepared value is an int, a str, a datetime or a date, not {kind}"
                )
        return stand_ins

    def _compile(self, alias: str) -> tuple[str, list[_Slot], dict[int, Any]]:
        compiled = self._compiled.get(alias)
        if compiled is not None:
            return compiled
        with self._lock:
            stand_ins = self._stand_ins()
            made = self._make(**stand_ins)
            parts = [made] if isinstance(made, QuerySet) else list(made)
            if not parts:
                raise ValueError("a prepared query needs at least one queryset")
            compilers = [part.using(alias).query.get_compiler(alias) for part in parts]
            compiled_parts = [part.as_sql() for part in compilers]
            compiler = compilers[0]
            if len(compiled_parts) == 1:
                sql, params = compiled_parts[0]
            else:
                # Each part keeps its own ORDER BY and LIMIT inside a subquery (SQLite allows
                # neither on a bare member of a UNION).
                sql = " UNION ALL ".join(
                    f"SELECT * FROM ({part_sql}) AS part{n}"  # noqa: S608
                    for n, (part_sql, _params) in enumerate(compiled_parts)
                )
                params = tuple(param for _sql, part in compiled_parts for param in part)
            ops = connections[alias].ops
            # A backend may adapt a value before it becomes a parameter: a datetime to a string
            # (SQLite), an int to a sized int (psycopg's Int8 for a bigint column). The slot
            # keeps that parameter's type, and each run's value is given the same type.
            by_value = {_key(v): name for name, v in self._adapted(stand_ins, ops).items()}
            slots: list[_Slot] = []
            for param in params:
                try:
                    name = by_value.get(_key(param))
                except TypeError:  # an unhashable constant
                    name = None
                if name is None:
                    if _derived(param):
                        raise ValueError(f"a constant computed from a stand-in: {param!r}")
                    slots.append((False, param, None))
                else:
                    wrap = type(param) if type(param) is not type(stand_ins[name]) else None
                    slots.append((True, name, wrap))
            used = {slot for named, slot, _wrap in slots if named}
            missing = set(stand_ins) - used - self._optional
            if missing:
                raise ValueError(f"prepared values that do not reach the SQL: {sorted(missing)}")
            # What the compiler would apply to each column (dates on SQLite, decimals ...).
            select = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
            converters = compiler.get_converters(select)
            compiled = (sql, slots, converters)
            self._compiled[alias] = compiled
            return compiled

    def _adapted(self, values: dict[str, Any], ops: Any) -> dict[str, Any]:
        adapted = {}
        for name, value in values.items():
            kind = self._kinds[name]
            if kind is datetime:
                value = ops.adapt_datetimefield_value(value)
            elif kind is date:
                value = ops.adapt_datefield_value(value)
            adapted[name] = value
        return adapted

    def rows(self, using: str = "default", **values: Any) -> list[tuple[Any, ...]]:
        """The rows of the query for these values."""
        sql, slots, converters = self._compile(using)
        connection = connections[using]
        values = self._adapted(values, connection.ops)
        params = [
            (values[slot] if wrap is None else wrap(values[slot])) if named else slot
            for named, slot, wrap in slots
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            values_ = list(row)
            for position, (functions, expression) in converters.items():
                value = values_[position]
                for function in functions:
                    value = function(value, expression, connection)
                values_[position] = value
            converted.append(tuple(values_))
        return converted


class PreparedIn:
    """A `Prepared` with one list of values of one kind (an `__in` lookup; ints unless `item`
    says otherwise): on PostgreSQL one statement for every length, the list bound as one array
    (`= ANY(%s::bigint[])`); elsewhere compiled once per list length.

    `make` receives the list under `name`, the other values as `Prepared` does; an empty list
    finds no rows without a query (Django would not compile `IN ()` either).

    Why an array on PostgreSQL: a list of a hundred ids was a hundred parameters, and psycopg
    converts anew, on every run, a query of more than fifty (it keeps only shorter ones): 2.2 ms
    for the trust portfolio's hundred engagements against 1.1 ms with one array.
    """

    def __init__(
        self, make: Callable[..., QuerySet[Any]], name: str, item: type = int, **kinds: type
    ) -> None:
        self._make = make
        self._name = name
        self._item = item
        self._kinds = kinds
        self._by_length: dict[int, Prepared] = {}
        self._lock = threading.Lock()
        self._array: _ArrayPrepared | None = None

    def _prepared(self, length: int) -> Prepared:
        prepared = self._by_length.get(length)
        if prepared is not None:
            return prepared
        names = [f"{self._name}__{i}" for i in range(length)]

        def make(**values: Any) -> QuerySet[Any]:
            items = [values.pop(name) for name in names]
            return self._make(**values, **{self._name: items})

        with self._lock:
            prepared = self._by_length.setdefault(
                length, Prepared(make, **self._kinds, **dict.fromkeys(names, self._item))
            )
        return prepared

    def rows(self, using: str = "default", **values: Any) -> list[tuple[Any, ...]]:
        """The rows of the query for these values."""
        # None matches no row (Django's `IN` leaves it out, an array would hold a NULL).
        items = [item for item in values.pop(self._name) if item is not None]
        if not items:
            return []
        if connections[using].vendor == "postgresql":
            if self._array is None:
                single = self._prepared(1)  # takes the lock itself
                with self._lock:
                    if self._array is None:
                        self._array = _ArrayPrepared(single, f"{self._name}__0")
            if self._array.rewrites(using):
                return self._array.rows(using, **values, **{f"{self._name}__0": items})
        named = {f"{self._name}__{i}": item for i, item in enumerate(items)}
        return self._prepared(len(items)).rows(using, **values, **named)


_PLACEHOLDER = re.compile(r"%%|%s")


def _bigint_array(items: Sequence[Any]) -> str:
    """A list of ints as PostgreSQL's array literal, `{1,2,3}`, which the statement casts
    (`%s::bigint[]`). Bound as a list, psycopg scanned every item on every run for the smallest
    int type that holds them all, only for the cast to widen it again."""
    return "{" + ",".join(map(str, map(int, items))) + "}"


# How a list of each kind is bound and cast: ints as their array literal, texts as a list.
_ARRAYS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    int: ("bigint[]", _bigint_array),
    str: ("text[]", list),
}


class _ArrayPrepared(Prepared):
    """A `PreparedIn`'s query of one item, its `IN (%s)` compiled as `= ANY(%s::type[])`: the
    one item's value is then the whole list."""

    def __init__(self, single: Prepared, slot: str) -> None:
        super().__init__(single._make, **single._kinds)
        self._single = single
        self._slot = slot
        self._rewritten: dict[str, tuple[str, list[_Slot], Any] | None]
        self._rewritten = {}

    def rewrites(self, alias: str) -> bool:
        """Whether every use of the list compiled to an `IN` that became an array (otherwise the
        caller compiles one query per length, as on other databases)."""
        return self._compile_array(alias) is not None

    def _compile_array(self, alias: str) -> tuple[str, list[_Slot], Any] | None:
        if alias in self._rewritten:
            return self._rewritten[alias]
        sql, slots, converters = self._single._compile(alias)
        array, bind = _ARRAYS.get(self._single._kinds[self._slot], (None, list))
        placeholders = [match for match in _PLACEHOLDER.finditer(sql) if match.group() == "%s"]
        uses = [i for i, (named, slot, _wrap) in enumerate(slots) if named and slot == self._slot]
        found: tuple[str, list[_Slot], Any] | None = None
        if array is not None and uses and len(placeholders) == len(slots):
            new_slots = list(slots)
            for i in reversed(uses):
                match = placeholders[i]
                start, end = match.start(), match.end()
                if not (sql[start - 4 : start] == "IN (" and sql[end : end + 1] == ")"):
                    break
                sql = f"{sql[: start - 4]}= ANY(%s::{array}){sql[end + 1 :]}"
                new_slots[i] = (True, self._slot, bind)
            else:
                found = (sql, new_slots, converters)
        with self._lock:
            self._rewritten[alias] = found
        return found

    def _compile(self, alias: str) -> tuple[str, list[_Slot], Any]:
        compiled = self._compile_array(alias)
        if compiled is None:
            raise ValueError("the list does not compile to an IN of one item")
        return compiled
