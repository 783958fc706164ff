"""The hot paths' statements (wizard/db.py) through libpq's own calls: one wait, one release of the GIL.

psycopg's cursor runs a statement as a generator of small steps in Python (send, flush, wait, read the
result), and Django's cursor wraps each call in more. With 16 requests in flight in a gunicorn worker,
every time a thread lets go of Python's GIL another takes the interpreter, so each extra wait costs
system calls and context switches too. libpq's PQexecPrepared sends, waits and reads in C with the GIL
let go once. Measured: a one-row SELECT by token took ~110,000 instructions of this process through
Django's cursor and ~26,000 this way (callgrind); on the benchmark's one-worker server an answer's CPU
fell by about a quarter, its system time from ~0.55 to ~0.33 ms a request.

Values are adapted both ways by psycopg's own Transformer with the connection's adapters (Django's
among them), so rows read back exactly as through a cursor (tests/test_db.py compares them).
"""

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

from wizard.db import between_placeholders

# A connection prepares each statement once per combination of parameter types; past this many it runs
# the rest unprepared rather than keep an ever-longer list on the server.
MAX_PREPARED = 200


def numbered(sql: str) -> bytes:
    """Django's ``%s`` placeholders as PostgreSQL's ``$1``, ``$2`` …"""
    parts = between_placeholders(sql)
    return ("".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]).encode()


class Runner:
    """Runs statements on one psycopg connection (in autocommit: see DatabaseWrapper.run_statement)."""

    def __init__(self, connection, prepare: bool):
        self.connection = connection
        self.prepare = prepare
        self.transformer = Transformer(connection)
        self.queries: dict[str, tuple[bytes, list]] = {}
        self.prepared: dict[tuple, bytes] = {}

    def run(self, sql: str, params: list) -> tuple[tuple | None, int]:
        query = self.queries.get(sql)
        if query is None:
            query = self.queries[sql] = (numbered(sql), [PyFormat.AUTO] * sql.count("%s"))
        tx = self.transformer
        values = tx.dump_sequence(params, query[1])
        pgconn = self.connection.pgconn
        name = self._prepared_name(sql, query[0], tx.types) if self.prepare else None
        if name is None:
            result = pgconn.exec_params(query[0], values, tx.types, tx.formats)
        else:
            result = pgconn.exec_prepared(name, values, tx.formats)
        self._check(result)
        row = None
        if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
            tx.set_pgresult(result)
            row = tx.load_row(0, tuple)
        return row, result.command_tuples or 0

    def _prepared_name(self, sql: str, query: bytes, types) -> bytes | None:
        # psycopg picks a parameter's type by its value (int2, int4 or int8 for an int; none for None),
        # and a prepared statement keeps the types it was prepared with: one per combination.
        key = (sql, types)
        name = self.prepared.get(key)
        if name is None and len(self.prepared) < MAX_PREPARED:
            name = f"portal_{len(self.prepared)}".encode()
            self._check(self.connection.pgconn.prepare(name, query, types))
            self.prepared[key] = name
        return name

    def _check(self, result) -> None:
        if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
            raise errors.error_from_result(result, encoding=self.connection.info.encoding)
