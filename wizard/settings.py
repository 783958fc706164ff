"""Portal Switch settings: one module, driven by environment variables (README lists them)."""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a yes/no value, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Everything this process writes for itself (SQLite file, generated local keys) lives here, git-ignored.
DATA_DIR = Path(os.environ.get("PORTAL_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def local_secret(filename: str, make) -> str:
    """A value generated once into DATA_DIR, so a fresh checkout runs without a constant in code."""
    path = DATA_DIR / filename
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or local_secret(
    "django_secret_key", lambda: secrets.token_urlsafe(50)
)
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # The admin asks for a second factor too (console/admin_site.py).
    "wizard.console.apps.VerifiedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "wizard.vault",
    "wizard.clickatell",
    "wizard.catalog",
    "wizard.flow",
    "wizard.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The customer's language: their choice (a cookie), else the browser's Accept-Language. A setup's own
    # pages speak the setup's language (flow/views.py); agents' pages speak English (console/middleware.py).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before django-otp's, which marks the user (signed out or not) as verified or not.
    "wizard.console.middleware.agents_sessions_end",
    "django_otp.middleware.OTPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wizard.console.middleware.staff_pages_in_english",
    "wizard.flow.middleware.setup_reference",
]

ROOT_URLCONF = "wizard.urls"
WSGI_APPLICATION = "wizard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "wizard.flow.context.portal",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            "DATABASE_URL must be a postgres:// URL (SQLite is the default without it)"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # Connections are kept between requests and checked before a request's first query, so one the
        # server closed (a restart, a failover) is replaced instead of failing a customer's page.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(os.environ.get("PORTAL_SQLITE_PATH", DATA_DIR / "db.sqlite3")),
            # WAL lets readers go on while one connection writes; immediate transactions and a busy
            # timeout make concurrent writers wait their turn instead of failing with "database is locked".
            # Tests use a file too: concurrency tests need real locking, which in-memory SQLite lacks.
            "TEST": {"NAME": str(DATA_DIR / "test-db.sqlite3")},
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every app server when REDIS_URL is set (the abuse limits use it too); else per process.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:list"

LANGUAGE_CODE = "en"
# The languages the customer wizard speaks, each named in itself for the language switch.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español"), ("pt", "Português")]
LOCALE_PATHS = [BASE_DIR / "wizard" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and first runs may start before collectstatic; let whitenoise serve from the finders then.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Sessions are stored server-side (Django's database sessions) and carry no secrets: an agent's login.
# An agent idle for PORTAL_AGENT_IDLE_MINUTES signs in again; after PORTAL_AGENT_SIGNED_IN_HOURS they
# sign in again however busy (console/middleware.py).
PORTAL_AGENT_IDLE_MINUTES = env_int("PORTAL_AGENT_IDLE_MINUTES", 30)
PORTAL_AGENT_SIGNED_IN_HOURS = env_int("PORTAL_AGENT_SIGNED_IN_HOURS", 8)
SESSION_COOKIE_AGE = PORTAL_AGENT_IDLE_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The number a customer last typed for a test SMS, signed, in their own browser (flow/views.py).
PORTAL_PHONE_COOKIE_NAME = "phone"
# A username the credentials form refused, signed, in the customer's own browser for a while (flow/views.py).
PORTAL_USERNAME_COOKIE_NAME = "username"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"

# Security headers that hold with or without HTTPS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Behind HTTPS (production), cookies get the __Host- prefix and HSTS is sent. Plain http on
# 127.0.0.1 (the README's serve command) cannot carry Secure cookies, so this is opt-in.
PORTAL_HTTPS = env_bool("PORTAL_HTTPS", False)
if PORTAL_HTTPS:
    SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", True)
    if env_bool("PORTAL_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    PORTAL_PHONE_COOKIE_NAME = "__Host-phone"
    PORTAL_USERNAME_COOKIE_NAME = "__Host-username"

DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
DEFAULT_EXCEPTION_REPORTER = "wizard.vault.redaction.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "wizard.vault.redaction.RedactingReporterFilter"

# --- Clickatell -------------------------------------------------------------------------------
CLICKATELL_PLATFORM_URL = os.environ.get("CLICKATELL_PLATFORM_URL", "https://platform.clickatell.com")
CLICKATELL_GATEWAY_URL = os.environ.get("CLICKATELL_GATEWAY_URL", "https://api.clickatell.com")
CLICKATELL_CONNECT_TIMEOUT = env_float("CLICKATELL_CONNECT_TIMEOUT", 5.0)
CLICKATELL_READ_TIMEOUT = env_float("CLICKATELL_READ_TIMEOUT", 15.0)

# --- Abuse limits on the test send (README: "Limits") ------------------------------------------
# "allowed/seconds" per budget, counted over a sliding period; a variable may list several budgets,
# comma-separated ("1/10,30/3600"). Every budget must have room for a call to go out.
PORTAL_TEST_SENDS_ENABLED = env_bool("PORTAL_TEST_SENDS_ENABLED", True)
PORTAL_SEND_LIMITS = {
    "setup": os.environ.get("PORTAL_LIMIT_PER_SETUP", "5/3600"),
    "ip": os.environ.get("PORTAL_LIMIT_PER_IP", "20/3600"),
    "destination": os.environ.get("PORTAL_LIMIT_PER_DESTINATION", "3/3600"),
    "api_key": os.environ.get("PORTAL_LIMIT_PER_API_KEY", "10/3600"),
    # Counts only sends Clickatell authenticated (charged after the send); a spent one refuses before.
    "global": os.environ.get("PORTAL_LIMIT_GLOBAL", "1000/86400"),
}
# Failed authentications after which test sends are locked, until a full period after the last one.
PORTAL_AUTH_FAILURE_LIMITS = {
    "setup": os.environ.get("PORTAL_AUTH_FAILURES_PER_SETUP", "3/900"),
    "ip": os.environ.get("PORTAL_AUTH_FAILURES_PER_IP", "10/3600"),
    "username": os.environ.get("PORTAL_AUTH_FAILURES_PER_USERNAME", "5/3600"),
    "api_key": os.environ.get("PORTAL_AUTH_FAILURES_PER_API_KEY", "5/3600"),
}
# Failed authentications from everyone: once reached, only setups whose credentials Clickatell has
# already accepted may send.
PORTAL_AUTH_FAILURES_GLOBAL = os.environ.get("PORTAL_AUTH_FAILURES_GLOBAL", "200/3600")
# "Check delivery again" asks Clickatell with the customer's credentials: budgets of its own.
PORTAL_DELIVERY_CHECK_LIMITS = {
    "setup": os.environ.get("PORTAL_LIMIT_DELIVERY_CHECKS_PER_SETUP", "1/10,30/3600"),
    "ip": os.environ.get("PORTAL_LIMIT_DELIVERY_CHECKS_PER_IP", "30/3600"),
}
# Hand-on links e-mailed from one setup and from one client (each e-mail goes to an address the customer
# typed: the budget keeps the form from being used to send mail to strangers).
PORTAL_HAND_ON_EMAIL_LIMITS = {
    "setup": os.environ.get("PORTAL_LIMIT_HAND_ON_EMAILS_PER_SETUP", "5/86400"),
    "ip": os.environ.get("PORTAL_LIMIT_HAND_ON_EMAILS_PER_IP", "20/86400"),
}
# Setups started from one client (choosing the app on the first page); agents' console starts are exempt.
PORTAL_LIMIT_NEW_SETUPS_PER_IP = os.environ.get("PORTAL_LIMIT_NEW_SETUPS_PER_IP", "30/3600")
# The request header (as in request.META, e.g. HTTP_X_FORWARDED_FOR) a trusted proxy sets; empty: none.
PORTAL_CLIENT_IP_HEADER = os.environ.get("PORTAL_CLIENT_IP_HEADER", "")
# ISO country codes test messages may go to, e.g. "ZA,GB,US"; empty: any country.
PORTAL_ALLOWED_COUNTRIES = [c.upper() for c in env_list("PORTAL_ALLOWED_COUNTRIES", "")]
REDIS_URL = os.environ.get("REDIS_URL", "")
# Test sends waiting on Clickatell at once, per process: a slow Clickatell can then hold only these
# threads, and the rest keep serving other customers' pages.
PORTAL_MAX_CONCURRENT_SENDS = env_int("PORTAL_MAX_CONCURRENT_SENDS", 8)
# How long a send waits for one of those slots before the customer is asked to try again.
PORTAL_SEND_SLOT_WAIT_SECONDS = env_float("PORTAL_SEND_SLOT_WAIT_SECONDS", 5.0)

# --- Secrets vault ----------------------------------------------------------------------------
# "id:base64key,id:base64key", newest first. Without it, a development key is generated into DATA_DIR.
PORTAL_VAULT_KEYS = os.environ.get("PORTAL_VAULT_KEYS", "")
PORTAL_VAULT_KEY_FILE = Path(os.environ.get("PORTAL_VAULT_KEY_FILE", DATA_DIR / "vault.keys"))
PORTAL_SECRET_TTL_MINUTES = env_int("PORTAL_SECRET_TTL_MINUTES", 30)

# --- Retention (purge_expired) ----------------------------------------------------------------
# Setups untouched this long are deleted with their tests and agents' notes.
PORTAL_SETUP_RETENTION_DAYS = env_int("PORTAL_SETUP_RETENTION_DAYS", 90)
# How long a hand-on link (a read-only link to a setup's instructions) works; purge_expired deletes it
# as long again after it expires (until then, opening it says it has expired).
PORTAL_HAND_ON_DAYS = env_int("PORTAL_HAND_ON_DAYS", 7)
# The audit of agents' accesses is kept longer, naming setups by their reference code.
PORTAL_AUDIT_RETENTION_DAYS = env_int("PORTAL_AUDIT_RETENTION_DAYS", 365)

# --- Support console sign-in (docs/console.md) -------------------------------------------------
# Sign-in attempts (each password or code submitted; a sign-in takes two) allowed, "allowed/seconds", per
# typed username and per client IP; past either, sign-in is refused until that budget has room again.
PORTAL_SIGNIN_ATTEMPT_LIMITS = {
    "username": os.environ.get("PORTAL_SIGNIN_ATTEMPTS_PER_USERNAME", "10/900"),
    "ip": os.environ.get("PORTAL_SIGNIN_ATTEMPTS_PER_IP", "40/3600"),
}
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Portal Switch"
# Staff looking at devices in /admin/ see nobody's TOTP secret or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- E-mail: Django's error reports (DEBUG off) go to DJANGO_ADMINS -------------------------------
ADMINS = env_list("DJANGO_ADMINS", "")
SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", "portal-switch@localhost")
# Mail (error reports, hand-on links) goes through SMTP; in development (DJANGO_DEBUG) it is written to the
# server's output instead.
MAILERS = {
    "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if DEBUG
    else {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("PORTAL_SMTP_HOST", "localhost"),
            "port": env_int("PORTAL_SMTP_PORT", 25),
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", SERVER_EMAIL)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "wizard.vault.redaction.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Every handler redacts, and one added here (a file, an error tracker) must take the "redact" filter
    # too: a logger's filters see only the records logged on that very logger, not its children's.
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        # Django's error reports by e-mail, as Django's own logging sends them (DEBUG off); the report's
        # body goes through the project's exception reporter, which hides secrets and links.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        # In place of Django's own handlers, whose console copy (DEBUG) would print its records unredacted
        # (a CSRF refusal names the customer's link): its records reach the root's console instead.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["console"], "propagate": False},
        # Filters on the loggers that write links and request lines apply to every handler, tests'
        # capture included: urllib3 writes request lines, and the platform HTTP signature carries its key
        # in the query string; Django's request warnings name the path ("Too Many Requests:
        # /s/<token>/test/").
        "urllib3": {"level": "WARNING"},
        "urllib3.connectionpool": {"filters": ["redact"]},
        "django.request": {"filters": ["redact"]},
    },
}
