"""Django's database sessions, a new one saved with one statement and its key drawn in one go.

Django draws a key's 32 characters one by one (32 os.urandom calls, each a system call that lets
another request's thread take Python's GIL), asks the database whether the key is taken, and saves a
new session in a transaction of its own (on PostgreSQL BEGIN, INSERT and COMMIT: three round trips).
Here the key is one draw of 160 bits, and a new session is one INSERT that skips a taken key, which
Django's create() answers by drawing again. A customer's first test send starts their session (it
remembers the phone number), so this is on the test send's path.
"""

import secrets

from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.backends.base import CreateError

from wizard import db


class SessionStore(django_db.SessionStore):
    def _get_new_session_key(self) -> str:
        # 40 lowercase hex characters: what Django's keys are made of, at the session table's width.
        return secrets.token_hex(20)

    def save(self, must_create: bool = False) -> None:
        if must_create and self.session_key is not None:
            if not db.insert_new(self.create_model_instance(self._get_session(no_load=True))):
                raise CreateError
        else:
            super().save(must_create)
