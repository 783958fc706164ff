"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is well,
and the hot paths' statements run through libpq directly (statements.py).

With CONN_HEALTH_CHECKS Django sends ``SELECT 1`` before the first query of every request, so a customer
never gets an error for a connection the server dropped (a restart, a failover, an idle timeout). That
round trip cost a remembered step page an eighth of its time. A connection the server has closed has its
socket readable (end of file or the server's goodbye); an idle healthy one has nothing to read. So the
socket is polled first, and only a readable (or broken) connection gets Django's own check.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq

from wizard.db import HotStatements

from .statements import Runner

TIMESTAMPTZ_OID = base.TIMESTAMPTZ_OID


class DatabaseWrapper(HotStatements, base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is not None and self.health_check_enabled and not self.health_check_done:
            if self._idle_and_open():
                self.health_check_done = True
                return
        super().close_if_health_check_failed()

    def _idle_and_open(self) -> bool:
        if self.connection.closed or self.connection.broken:
            return False
        poller = select.poll()
        try:
            poller.register(self.connection.fileno(), select.POLLIN)
        except (OSError, ValueError, base.Database.Error):
            return False
        return not poller.poll(0)

    def run_statement(self, sql: str, params: list) -> tuple[tuple | None, int]:
        self.ready_for_statement()
        if not self._runs_directly():
            return super().run_statement(sql, params)
        runner = self.kept("_runner", self._new_runner)
        with self.wrap_database_errors:
            return runner.run(sql, params)

    def _new_runner(self) -> Runner:
        return Runner(
            self.connection, prepare=self.settings_dict["OPTIONS"].get("prepare_threshold") is not None
        )

    def run_together(self, statements: list) -> tuple[tuple | None, int]:
        """One statement, all but the last as data-modifying WITH clauses: one round trip, atomic
        without BEGIN and COMMIT, which were two more."""
        *before, (last, params) = statements
        clauses = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(before))
        return self.run_statement(f"WITH {clauses} {last}", [*(p for _, ps in before for p in ps), *params])

    def _runs_directly(self) -> bool:
        # Also: the connection's timestamps load in Django's current time zone (else Django's cursor
        # loads them in it).
        return (
            self.runs_directly()
            and self.connection.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT).timezone == self.timezone
        )
