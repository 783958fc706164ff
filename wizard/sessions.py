"""Django's database sessions with a new session's key drawn in one go.

Django draws a key's 32 characters one by one (32 os.urandom calls, each a system call that lets
another request's thread take Python's GIL) and then asks the database whether the key is taken. Here
the key is one draw of 160 bits, and the INSERT that saves a new session is the uniqueness check:
Django's create() already saves with must_create and draws again on a clash. A customer's first test
send starts their session (it remembers the phone number), so this is on the test send's path.
"""

import secrets

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    def _get_new_session_key(self) -> str:
        # 40 lowercase hex characters: what Django's keys are made of, at the session table's width.
        return secrets.token_hex(20)
