"""Django's SQLite backend, with the writers of one process taking turns on a lock.

SQLite lets one connection write at a time. One that finds the database locked sleeps and tries again
(after 1, 2, 5, 10 … ms) while newcomers may take the lock first: under load some answers waited over a
second, and now and then one past a load tool's 2 s timeout. Here a process's threads queue on a lock
instead, and the next writer starts the moment the one before it is done. Processes (gunicorn workers)
still meet at SQLite's own lock, which waits as before, up to the same timeout.

A transaction (BEGIN IMMEDIATE: it is for writing) holds the turn from BEGIN to COMMIT or ROLLBACK; a
statement outside one holds it while it runs, unless it only reads. Readers never wait (WAL).

The hot paths' statements (wizard/db.py) run on the sqlite3 cursor itself, their placeholders converted
once, and writes that go together in a BEGIN IMMEDIATE … COMMIT of their own: Django's cursor converts
every statement's placeholders with a regular expression, and its atomic() keeps savepoints and hooks
that these writes never use: ~65,000 instructions a statement and ~140,000 a transaction (callgrind),
where an UPDATE itself, SQLite's work and the sqlite3 module's, takes ~87,000.
"""

import contextlib
import functools
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from wizard.db import HotStatements, between_placeholders

# Re-entrant: BEGIN IMMEDIATE itself goes through the cursor below.
_turn = threading.RLock()


def _take_turn(settings_dict: dict) -> None:
    if not _turn.acquire(timeout=settings_dict["OPTIONS"].get("timeout", 5)):
        raise OperationalError("database is locked (waited for this process's other writers)")


@contextlib.contextmanager
def _writers_turn(settings_dict: dict):
    _take_turn(settings_dict)
    try:
        yield
    finally:
        _turn.release()


def _reads_only(query: str) -> bool:
    return query.lstrip()[:6].upper() == "SELECT"


@functools.lru_cache(maxsize=256)
def qmarked(sql: str) -> str:
    """Django's ``%s`` placeholders as SQLite's ``?``."""
    return "?".join(between_placeholders(sql))


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    settings_dict: dict

    def execute(self, query, params=None):
        if self.connection.in_transaction or _reads_only(query):
            return super().execute(query, params)
        with _writers_turn(self.settings_dict):
            return super().execute(query, params)

    def executemany(self, query, param_list):
        if self.connection.in_transaction:
            return super().executemany(query, param_list)
        with _writers_turn(self.settings_dict):
            return super().executemany(query, param_list)


class DatabaseWrapper(HotStatements, base.DatabaseWrapper):
    has_turn = False  # a transaction holds the turn from BEGIN until it ends

    def run_statement(self, sql: str, params: list) -> tuple[tuple | None, int]:
        self.ready_for_statement()
        if not self.runs_directly():
            return super().run_statement(sql, params)
        with self.wrap_database_errors:
            if _reads_only(sql):
                return self._run_directly(sql, params)
            with _writers_turn(self.settings_dict):
                return self._run_directly(sql, params)

    def run_together(self, statements: list) -> tuple[tuple | None, int]:
        self.ready_for_statement()
        if not self.runs_directly():
            return super().run_together(statements)
        with self.wrap_database_errors, _writers_turn(self.settings_dict):
            self._run_directly("BEGIN IMMEDIATE", [])
            try:
                for statement in statements:
                    result = self._run_directly(*statement)
                self._run_directly("COMMIT", [])
            except BaseException:
                self.connection.rollback()
                raise
        return result

    def _run_directly(self, sql: str, params: list) -> tuple[tuple | None, int]:
        cursor = self.kept("_sqlite_cursor", self.connection.cursor)
        return self._result(cursor, qmarked(sql), params)

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=SQLiteCursorWrapper)
        cursor.settings_dict = self.settings_dict
        return cursor

    def _start_transaction_under_autocommit(self):
        _take_turn(self.settings_dict)
        self.has_turn = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self):
        if self.has_turn:
            self.has_turn = False
            _turn.release()

    def _ending_the_turn(self, end):
        try:
            return end()
        finally:
            self._end_turn()

    def _commit(self):
        return self._ending_the_turn(super()._commit)

    def _rollback(self):
        return self._ending_the_turn(super()._rollback)

    def _close(self):
        return self._ending_the_turn(super()._close)
