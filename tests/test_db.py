"""The hand-written statements of the hot paths (wizard/db.py) read and write rows exactly as the ORM does.
Runs on SQLite and, in the suite's second pass, on PostgreSQL, where a statement in autocommit goes
through libpq directly (wizard/postgres/statements.py) and one in a transaction through a cursor: the
tests of rows run both ways."""

import threading
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wizard import db
from wizard.catalog.loader import load_catalog
from wizard.catalog.models import Platform
from wizard.flow import services, steps
from wizard.flow.models import Setup
from wizard.vault import store
from wizard.vault.models import StoredSecret

from .conftest import keep_secret

pytestmark = pytest.mark.django_db

# Rows must read and write the same inside a transaction (tests' default) and in autocommit (requests).
both_ways = pytest.mark.parametrize(
    "way",
    [
        pytest.param("in a transaction", marks=pytest.mark.django_db),
        pytest.param("in autocommit", marks=pytest.mark.django_db(transaction=True)),
    ],
    indirect=True,
)


@pytest.fixture
def way(request):
    """How this test's statements run; in autocommit the catalog is loaded again (each such test ends
    by emptying every table)."""
    if request.param == "in autocommit":
        load_catalog()
    assert connection.get_autocommit() == (request.param == "in autocommit")
    return request.param


def values(instance) -> list:
    return [getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields]


def a_setup_with_every_kind_of_value() -> Setup:
    setup = services.start_setup(Platform.objects.get(slug="novu").pk)
    Setup.objects.filter(pk=setup.pk).update(
        app_fields="api_key",
        username="ops & co",
        credentials_saved_at=timezone.now() - timedelta(minutes=3),
        delivery_confirmed=False,
        password_has_reserved_chars=True,
    )
    return setup


@both_ways
def test_a_setup_found_by_hand_equals_the_orms_reading(way, vault_keys):
    setup = a_setup_with_every_kind_of_value()
    found, progress = services.find_setup(setup.token)
    expected = Setup.objects.select_related("platform").get(pk=setup.pk)
    assert values(found) == values(expected)
    assert values(found.platform) == values(expected.platform)
    # Converted as the ORM converts: aware datetimes, real booleans (SQLite stores 0 and 1), None kept.
    assert timezone.is_aware(found.credentials_saved_at) and found.delivery_confirmed is False
    assert found.password_has_reserved_chars is True and found.test_passed_at is None
    assert not progress.secrets_held
    keep_secret(found.vault_owner, steps.API_KEY, "Key0123456789abcdefghij==")
    assert services.find_setup(setup.token)[1].secrets_held


@both_ways
def test_a_setup_read_by_hand_is_a_saved_row_the_orm_can_update(way):
    setup = a_setup_with_every_kind_of_value()
    found, _ = services.find_setup(setup.token)
    assert found._state.adding is False and found._state.db == "default"
    found.username = "saved through the orm"
    found.save(update_fields=["username"])  # an UPDATE: a row thought new would be INSERTed
    assert Setup.objects.get(pk=setup.pk).username == "saved through the orm"
    assert Setup.objects.count() == 1


def test_with_an_init_signal_listening_rows_are_made_through_model_init():
    from django.db.models.signals import post_init

    setup = services.start_setup(None)
    made = []

    def listen(sender, instance, **kwargs):
        made.append(instance.pk)

    post_init.connect(listen, sender=Setup)
    try:
        assert services.find_setup(setup.token)[0].pk == setup.pk
    finally:
        post_init.disconnect(listen, sender=Setup)
    assert made == [setup.pk]


@both_ways
def test_a_setup_s_app_is_this_worker_s_copy_until_the_app_is_saved(way):
    setup = a_setup_with_every_kind_of_value()
    first = services.find_setup(setup.token)[0].platform
    assert services.find_setup(setup.token)[0].platform is first  # no second read of the row
    edited = Platform.objects.get(pk=first.pk)
    edited.settings_path = "Settings → Channels → SMS (edited)"
    edited.save()
    fresh = services.find_setup(setup.token)[0].platform
    assert fresh is not first and values(fresh) == values(Platform.objects.get(pk=first.pk))


@both_ways
def test_an_unlisted_app_reads_back_without_a_platform(way):
    setup = services.start_setup(None)
    found, _ = services.find_setup(setup.token)
    assert found.platform is None and found.platform_id is None and found.app_unlisted
    assert services.find_setup("no-such-token") is None


@both_ways
def test_insert_fills_in_defaults_and_the_new_primary_key(way):
    setup = services.start_setup(None)
    stored = Setup.objects.get(pk=setup.pk)
    assert setup.pk and values(stored) == values(setup)
    assert len(setup.token) == 32 and setup.step == steps.FIELDS


@both_ways
def test_insert_new_adds_a_row_with_its_own_key_once(way):
    expires = timezone.now() + timedelta(hours=1)
    assert db.insert_new(Session(session_key="k" * 40, session_data="first", expire_date=expires))
    assert not db.insert_new(Session(session_key="k" * 40, session_data="second", expire_date=expires))
    stored = Session.objects.get(session_key="k" * 40)
    assert (stored.session_data, stored.expire_date) == ("first", expires)


@both_ways
@pytest.mark.parametrize("column", ["token", "reference"])
def test_no_two_setups_share_a_token_or_a_reference(way, column):
    first = services.start_setup(None)
    copy = Setup(**{column: getattr(first, column)})
    with pytest.raises(IntegrityError), transaction.atomic():
        db.insert(copy)
    assert Setup.objects.filter(**{column: getattr(first, column)}).count() == 1


@both_ways
def test_save_writes_only_the_named_columns_and_stamps_updated_at(way):
    setup = a_setup_with_every_kind_of_value()
    before = Setup.objects.get(pk=setup.pk)
    setup.step = steps.CREDENTIALS
    setup.username = "not-saved"
    db.save(setup, ["step", "updated_at"])
    after = Setup.objects.get(pk=setup.pk)
    assert after.step == steps.CREDENTIALS and after.username == "ops & co"
    assert after.updated_at > before.updated_at


@both_ways
def test_pk_of_finds_one_rows_primary_key_by_a_column(way):
    assert db.pk_of(Platform, "slug", "novu") == Platform.objects.get(slug="novu").pk
    assert db.pk_of(Platform, "slug", "no-such-app") is None


@both_ways
def test_an_upsert_adds_new_rows_and_replaces_only_the_named_fields_of_existing_ones(way, vault_keys):
    keep_secret("setup:1", steps.API_KEY, "first-value-0000000000==")
    first = StoredSecret.objects.get()

    def row(field):
        return StoredSecret(
            owner="setup:1",
            field=field,
            key_id="k9",
            nonce=b"n" * 12,
            ciphertext=b"c",
            expires_at=first.expires_at,
        )

    db.run(
        db.upsert([row(steps.API_KEY), row(steps.PASSWORD)], conflict=("owner", "field"), replace=("key_id",))
    )
    replaced, added = StoredSecret.objects.order_by("pk")
    assert replaced.pk == first.pk and replaced.field == steps.API_KEY
    assert replaced.key_id == "k9" and bytes(replaced.ciphertext) == bytes(first.ciphertext)
    assert added.field == steps.PASSWORD and bytes(added.ciphertext) == b"c"


@both_ways
def test_forgetting_deletes_every_secret_of_that_owner_only(way, vault_keys):
    keep_secret("setup:1", steps.API_KEY, "Key0123456789abcdefghij==")
    keep_secret("setup:1", steps.PASSWORD, "pw")
    keep_secret("setup:2", steps.PASSWORD, "pw")
    assert store.forget("setup:1") == 2
    assert store.forget("setup:1") == 0
    assert list(StoredSecret.objects.values_list("owner", "field")) == [("setup:2", steps.PASSWORD)]


@pytest.mark.django_db(transaction=True)
def test_writes_run_together_stand_or_fall_together(vault_keys):
    setup = services.start_setup(None)
    setup.username = "saved-together"
    secret = store.put(store.seal(setup.vault_owner, {steps.API_KEY: "Key0123456789abcdefghij=="}))
    db.run_together([secret, db.update(setup, ["username"])])
    assert Setup.objects.get(pk=setup.pk).username == "saved-together"
    assert StoredSecret.objects.filter(owner=setup.vault_owner).count() == 1

    store.forget(setup.vault_owner)
    setup.username = "never-saved"
    other = services.start_setup(None)  # another row: writes run together must not touch the same one
    violates_not_null = (f"UPDATE {db.table(Setup)} SET token = NULL WHERE id = %s", [other.pk])  # noqa: S608
    with pytest.raises(IntegrityError):
        db.run_together([secret, db.update(setup, ["username"]), violates_not_null])
    assert Setup.objects.get(pk=setup.pk).username == "saved-together"
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()


def test_while_django_logs_queries_the_hot_statements_are_logged_too():
    setup = services.start_setup(None)
    with CaptureQueriesContext(connection) as logged:
        services.find_setup(setup.token)
        db.save(setup, ["step", "updated_at"])
    assert len(logged) == 2 and "WHERE s.token" in logged[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_the_kept_cursor_holds_no_snapshot_so_another_connections_write_shows_at_once():
    setup = services.start_setup(None)
    services.start_setup(None)
    assert services.find_setup(setup.token)[0].username == ""
    # A statement with more rows than its caller wants, the first of them being all it returns.
    assert db.execute(f"SELECT id FROM {db.table(Setup)} ORDER BY id", [])[0] == (setup.pk,)  # noqa: S608

    def write():
        try:
            Setup.objects.filter(pk=setup.pk).update(username="written elsewhere")
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    # SQLite keeps a read transaction open while a statement has rows left to step through, and every
    # other read on the connection, the ORM's too, would see the database as it was.
    assert Setup.objects.get(pk=setup.pk).username == "written elsewhere"
    assert services.find_setup(setup.token)[0].username == "written elsewhere"


# --- PostgreSQL: statements through libpq (wizard/postgres/statements.py) -----------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="libpq's calls are PostgreSQL's")


def prepared_on_this_connection() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE starts_with(name, 'portal_')")
        return {name for (name,) in cursor.fetchall()}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_statement_is_prepared_once_per_connection():
    setup = services.start_setup(None)
    before = prepared_on_this_connection()
    services.find_setup(setup.token)
    found = prepared_on_this_connection()
    assert len(found - before) == 1
    assert services.find_setup(setup.token)[0].pk == setup.pk
    assert prepared_on_this_connection() == found
    # A connection opened anew (a restart, CONN_MAX_AGE) has none, and prepares what it runs.
    connection.close()
    assert services.find_setup(setup.token)[0].pk == setup.pk
    assert len(prepared_on_this_connection()) == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_parameter_of_another_type_gets_a_statement_prepared_for_it():
    setup = services.start_setup(None)
    before = prepared_on_this_connection()
    # psycopg sends a small int as int2 and a large one as int8; a statement keeps its types.
    assert db.pk_of(Setup, "id", setup.pk) == setup.pk
    assert db.pk_of(Setup, "id", 2**40) is None
    assert db.pk_of(Setup, "username", None) is None
    assert db.pk_of(Setup, "id", setup.pk) == setup.pk
    assert len(prepared_on_this_connection() - before) == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_in_a_transaction_statements_take_part_in_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        setup = services.start_setup(None)
        assert services.find_setup(setup.token) is not None
        raise RuntimeError("rolled back")
    assert services.find_setup(setup.token) is None
    assert not Setup.objects.filter(pk=setup.pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_failed_statement_raises_djangos_error_and_the_connection_goes_on():
    setup = services.start_setup(None)
    other = services.start_setup(None)
    other.token = setup.token
    with pytest.raises(IntegrityError):
        db.save(other, ["token"])
    assert services.find_setup(setup.token)[0].pk == setup.pk


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_without_prepared_statements_nothing_is_prepared():
    saved = connection.settings_dict
    connection.close()
    connection.settings_dict = {**saved, "OPTIONS": {**saved["OPTIONS"], "prepare_threshold": None}}
    try:
        setup = services.start_setup(None)
        assert services.find_setup(setup.token)[0].pk == setup.pk
        assert prepared_on_this_connection() == set()
    finally:
        connection.close()
        connection.settings_dict = saved


def test_placeholders_become_sqlites_question_marks():
    from wizard.sqlite.base import qmarked

    assert qmarked("UPDATE t SET a = %s WHERE b = %s") == "UPDATE t SET a = ? WHERE b = ?"
    with pytest.raises(ValueError):
        qmarked("SELECT a FROM t WHERE b LIKE 'x%%'")


def test_placeholders_are_numbered_as_postgresql_numbers_them():
    from wizard.postgres.statements import numbered

    assert numbered("SELECT a FROM t WHERE b = %s AND c = %s") == b"SELECT a FROM t WHERE b = $1 AND c = $2"
    assert numbered("SELECT 1") == b"SELECT 1"
    with pytest.raises(ValueError):
        numbered("SELECT a FROM t WHERE b LIKE 'x%%' AND c = %s")


# --- SQLite: a process's writers take turns (wizard/sqlite) -------------------------------------------

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the turn-taking is SQLite's backend")


class Writer(threading.Thread):
    """A thread with its own connection that opens a transaction, writes, and holds it until let go."""

    def __init__(self, setup_pk: int, fail: bool = False):
        super().__init__(daemon=True)
        self.setup_pk, self.fail = setup_pk, fail
        self.writing, self.let_go, self.done = threading.Event(), threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                Setup.objects.filter(pk=self.setup_pk).update(username="first writer")
                self.writing.set()
                self.let_go.wait(10)
                if self.fail:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        finally:
            connection.close()
            self.done.set()


def second_write_through_the_orm(setup_pk: int) -> None:
    Setup.objects.filter(pk=setup_pk).update(username="second writer")


def second_write_as_a_hot_statement(setup_pk: int) -> None:
    setup = Setup(pk=setup_pk, username="second writer")
    db.save(setup, ["username"])


def second_write_together_with_another(setup_pk: int) -> None:
    setup = Setup(pk=setup_pk, username="second writer", step=steps.TEST)
    db.run_together([db.update(setup, ["username"]), db.update(setup, ["step"])])


# Every way a write is made waits its turn the same way.
writers = pytest.mark.parametrize(
    "second_write",
    [second_write_through_the_orm, second_write_as_a_hot_statement, second_write_together_with_another],
)


def write_in_a_thread(setup_pk: int, timeout: float, second_write) -> tuple[list, threading.Thread]:
    """Another thread's write, with this timeout: where its outcome (None or the error) will be, and
    the thread."""
    outcome = []

    def write():
        # This thread's connection only: the settings dict is shared by every thread's.
        options = {**connection.settings_dict["OPTIONS"], "timeout": timeout}
        connection.settings_dict = {**connection.settings_dict, "OPTIONS": options}
        try:
            second_write(setup_pk)
            outcome.append(None)
        except OperationalError as error:
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    return outcome, thread


@sqlite_only
@writers
@pytest.mark.django_db(transaction=True)
def test_a_writer_waits_its_turn_behind_a_transaction_and_readers_never_wait(second_write):
    setup = services.start_setup(None)
    first = Writer(setup.pk)
    first.start()
    assert first.writing.wait(10)
    # A read goes ahead while the transaction holds the turn.
    assert services.find_setup(setup.token) is not None
    outcome, second = write_in_a_thread(setup.pk, timeout=10, second_write=second_write)
    second.join(0.3)
    assert second.is_alive() and outcome == []  # waiting its turn, not failing
    first.let_go.set()
    second.join(10)
    assert outcome == [None]
    assert Setup.objects.get(pk=setup.pk).username == "second writer"


@sqlite_only
@writers
@pytest.mark.django_db(transaction=True)
def test_a_writer_that_waits_too_long_gets_an_error_and_a_rollback_frees_the_turn(second_write):
    setup = services.start_setup(None)
    first = Writer(setup.pk, fail=True)
    first.start()
    assert first.writing.wait(10)
    outcome, second = write_in_a_thread(setup.pk, timeout=0.2, second_write=second_write)
    second.join(10)
    # It waited on this process's turn (SQLite's own busy wait says only "database is locked").
    assert "other writers" in str(outcome[0])
    first.let_go.set()
    assert first.done.wait(10)
    outcome, second = write_in_a_thread(setup.pk, timeout=0.2, second_write=second_write)
    second.join(10)
    assert outcome == [None]
    assert Setup.objects.get(pk=setup.pk).username == "second writer"
