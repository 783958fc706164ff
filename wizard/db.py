"""Hand-written statements for the requests every customer makes, where Django's ORM spends longer
building a query than the database spends running it (reading a setup: 0.4 ms against 0.04 ms).

These do what the ORM would do with the same rows (each field's own conversion both ways, auto_now
stamps), one plain statement each; the rest of the code keeps the ORM. Table and column names come
from the models and every value is a parameter: nothing here is typed by anyone.
"""

import functools
import inspect

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(field) -> str:
    return connection.ops.quote_name(field.column)


def columns(model, alias: str) -> str:
    """Every column of ``model`` under table alias ``alias``, in the order load() reads them."""
    return ", ".join(f"{alias}.{_column(f)}" for f in model._meta.concrete_fields)


def width(model) -> int:
    """How many values columns() selects."""
    return len(model._meta.concrete_fields)


@functools.lru_cache(maxsize=256)
def _converters(model, ops) -> list[tuple]:
    """(position, column, converters) of the columns whose values need converting: what the ORM's
    compiler works out for every query, worked out once per model and connection."""
    found = []
    for i, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        funcs = ops.get_db_converters(column) + field.get_db_converters(ops.connection)
        if funcs:
            found.append((i, column, funcs))
    return found


def _this_threads_connection():
    # Looked up once per call: every attribute read through django.db.connection looks it up again.
    return connections[DEFAULT_DB_ALIAS]


# A statement with its parameters, built here and run by run() or run_together().
Statement = tuple[str, list]


def execute(sql: str, params: list) -> tuple[tuple | None, int]:
    """Run one statement: its first row (None when it returns none) and how many rows it touched.
    The backend (wizard/postgres, wizard/sqlite) decides how: see HotStatements."""
    return _this_threads_connection().run_statement(sql, params)


def between_placeholders(sql: str) -> list[str]:
    """The text around a statement's ``%s`` placeholders, for a backend to put its own between them.
    Refuses any other ``%``: these statements are written with plain ``%s`` parameters only."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("these statements take %s placeholders only")
    return parts


class HotStatements:
    """Mixed into the project's database backends: how this module's statements run.

    Each one's result is read at once, so a connection keeps one cursor for them: opening a cursor
    costs ~0.03 ms (Django's wrapper and the driver's cursor), as much as Django spends running the
    statement. An ORM query may leave rows unread on its cursor while another runs, so this cursor is
    for these statements only. Where Django logs queries (DEBUG, tests counting them) each statement
    gets a fresh cursor, so it is logged.
    """

    def run_statement(self, sql: str, params: list) -> tuple[tuple | None, int]:
        if self.queries_logged:
            with self.cursor() as cursor:
                return self._result(cursor, sql, params)
        self.ready_for_statement()
        return self._result(self.kept("_statement_cursor", self.cursor), sql, params)

    def run_together(self, statements: list[Statement]) -> tuple[tuple | None, int]:
        with transaction.atomic(using=self.alias):
            for statement in statements:
                result = self.run_statement(*statement)
        return result

    def runs_directly(self) -> bool:
        """Whether a statement may skip Django's cursor (each backend has its own way to run it): in
        autocommit (a transaction's BEGIN is Django's to send), with no query logging or execute
        wrappers to honour."""
        return self.autocommit and not self.queries_logged and not self.execute_wrappers

    def kept(self, name: str, make):
        """This connection's ``name``, made by ``make()`` once per driver connection: a reconnect (after
        a failed health check, say) makes a new one."""
        held = self.__dict__.get(name)
        if held is None or held[0] is not self.connection:
            held = self.__dict__[name] = (self.connection, make())
        return held[1]

    def ready_for_statement(self) -> None:
        """What connection.cursor() does first: a connection the server has closed is replaced."""
        self.close_if_health_check_failed()
        if self.connection is None:
            self.ensure_connection()

    @staticmethod
    def _result(cursor, sql: str, params: list) -> tuple[tuple | None, int]:
        cursor.execute(sql, params)
        # Every row is read, not only the first: on SQLite a statement with rows left keeps its read
        # snapshot, and every later read on this connection would see the database as it was then.
        rows = cursor.fetchall() if cursor.description else []
        return (rows[0] if rows else None), cursor.rowcount


def load(model, row, start: int = 0):
    """The ``model`` instance in ``row`` from ``start`` (as columns() selected it); None when a LEFT JOIN
    found no row (its first column, the primary key, is NULL)."""
    conn = _this_threads_connection()
    values = list(row[start : start + width(model)])
    if values[0] is None:
        return None
    for i, column, funcs in _converters(model, conn.ops):
        for func in funcs:
            values[i] = func(values[i], column, conn)
    attnames = _plain_attnames(model)
    if attnames is None or pre_init.receivers or post_init.receivers:
        return model.from_db(conn.alias, None, values)
    # What Model.__init__ and from_db() do for these fields, without their per-field loop and signals.
    instance = model.__new__(model)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = conn.alias
    instance.__dict__.update(zip(attnames, values, strict=True))
    return instance


@functools.cache
def _plain_attnames(model) -> tuple[str, ...] | None:
    """The attribute names of ``model``'s columns when Model.__init__ would only store each value in the
    instance's __dict__ (each attribute is Django's plain deferred one); None when a field has an
    attribute of its own that does more with a value (a FileField's, say)."""
    plain = (DeferredAttribute, ForeignKeyDeferredAttribute)
    fields = model._meta.concrete_fields
    if any(type(inspect.getattr_static(model, f.attname, None)) not in plain for f in fields):
        return None
    return tuple(f.attname for f in fields)


def get(model, pk):
    """The ``model`` row with primary key ``pk``, or None."""
    row, _ = execute(_get_sql(model), [pk])
    return load(model, row) if row else None


@functools.lru_cache(maxsize=64)
def _get_sql(model) -> str:
    return f"SELECT {columns(model, 't')} FROM {table(model)} t WHERE t.{_column(model._meta.pk)} = %s"  # noqa: S608


def pk_of(model, column: str, value):
    """The primary key of the one ``model`` row whose ``column`` is ``value``, or None."""
    row, _ = execute(_pk_sql(model, column), [value])
    return row[0] if row else None


@functools.lru_cache(maxsize=64)
def _pk_sql(model, column: str) -> str:
    pk, field = _column(model._meta.pk), _column(model._meta.get_field(column))
    return f"SELECT {pk} FROM {table(model)} WHERE {field} = %s"  # noqa: S608


def run(statement: Statement) -> int:
    """Run one statement; how many rows it touched."""
    return execute(*statement)[1]


def run_together(statements: list[Statement]) -> tuple[tuple | None, int]:
    """Writes that stand or fall together; the last one's result (as execute() gives it). They must
    write different rows: on PostgreSQL they go as one statement, on one snapshot, and cannot see each
    other's changes. The backend decides how (see wizard/postgres and wizard/sqlite)."""
    return _this_threads_connection().run_together(statements)


def save(instance, names: list[str]) -> None:
    """``instance.save(update_fields=names)`` as one UPDATE."""
    run(update(instance, names))


def update(instance, names: list[str]) -> Statement:
    """The UPDATE of ``instance``'s fields ``names`` (auto_now ones stamped now)."""
    statement, fields = _update_sql(type(instance), tuple(names))
    conn = _this_threads_connection()
    return statement, [*(f.get_db_prep_save(f.pre_save(instance, False), conn) for f in fields), instance.pk]


@functools.lru_cache(maxsize=64)
def _update_sql(model, names: tuple[str, ...]) -> tuple[str, list]:
    fields = [model._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{_column(f)} = %s" for f in fields)
    return f"UPDATE {table(model)} SET {assignments} WHERE {_column(model._meta.pk)} = %s", fields  # noqa: S608


def insert(instance) -> None:
    """``instance.save()`` of a new row as one INSERT; the instance gets its new primary key."""
    adopt(instance, execute(*inserting(instance))[0])


def insert_new(instance) -> bool:
    """``instance``, whose primary key is its own (not the database's), as a new row unless a row with
    that key exists: whether it was inserted. One INSERT, atomic without a transaction."""
    statement, fields = _insert_new_sql(type(instance))
    return execute(statement, _insert_values([instance], fields, _this_threads_connection()))[1] == 1


@functools.lru_cache(maxsize=64)
def _insert_new_sql(model) -> tuple[str, list]:
    statement, fields = _insert_sql(model, 1)
    return f"{statement} ON CONFLICT ({_column(model._meta.pk)}) DO NOTHING", fields


def inserting(instance) -> Statement:
    """The INSERT of new ``instance``, returning its primary key: give the row it returns to adopt()."""
    statement, fields = _insert_sql(type(instance), 1, returning=True)
    return statement, _insert_values([instance], fields, _this_threads_connection())


def adopt(instance, row: tuple) -> None:
    """``instance`` is the row inserting() wrote, whose primary key is ``row``'s first value."""
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = _this_threads_connection().alias


def upsert(instances: list, conflict: tuple[str, ...], replace: tuple[str, ...]) -> Statement:
    """The INSERT of new rows where one that matches an existing row on ``conflict`` (a unique
    constraint's fields) updates that row instead, its ``replace`` fields taking the new values."""
    statement, fields = _upsert_sql(type(instances[0]), len(instances), conflict, replace)
    return statement, _insert_values(instances, fields, _this_threads_connection())


def _insert_values(instances: list, fields: list, conn) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, True), conn) for instance in instances for f in fields]


@functools.lru_cache(maxsize=64)
def _insert_sql(model, rows: int, returning: bool = False) -> tuple[str, list]:
    # Every column but a primary key the database numbers.
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    names = ", ".join(_column(f) for f in fields)
    values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    statement = f"INSERT INTO {table(model)} ({names}) VALUES {values}"  # noqa: S608
    if returning:
        statement += f" RETURNING {_column(model._meta.pk)}"
    return statement, fields


@functools.lru_cache(maxsize=64)
def _upsert_sql(model, rows: int, conflict: tuple[str, ...], replace: tuple[str, ...]) -> tuple[str, list]:
    statement, fields = _insert_sql(model, rows)
    targets = ", ".join(_column(model._meta.get_field(name)) for name in conflict)
    updates = ", ".join(f"{c} = excluded.{c}" for c in (_column(model._meta.get_field(n)) for n in replace))
    return f"{statement} ON CONFLICT ({targets}) DO UPDATE SET {updates}", fields
