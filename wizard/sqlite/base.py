"""Django's SQLite backend, with the writers of one process taking turns on a lock.

SQLite lets one connection write at a time. One that finds the database locked sleeps and tries again
(after 1, 2, 5, 10 … ms) while newcomers may take the lock first: under load some answers waited over a
second, and now and then one past a load tool's 2 s timeout. Here a process's threads queue on a lock
instead, and the next writer starts the moment the one before it is done. Processes (gunicorn workers)
still meet at SQLite's own lock, which waits as before, up to the same timeout.

A transaction (BEGIN IMMEDIATE: it is for writing) holds the turn from BEGIN to COMMIT or ROLLBACK; a
statement outside one holds it while it runs, unless it only reads. Readers never wait (WAL).
"""

import contextlib
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from wizard.db import HotStatements

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


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    settings_dict: dict

    def execute(self, query, params=None):
        if self.connection.in_transaction or query.lstrip()[:6].upper() == "SELECT":
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
