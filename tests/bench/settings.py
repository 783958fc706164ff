"""The product's settings plus one bare view, so the benchmark compares a wizard step with plain Django."""

from wizard.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "bench" / "templates"]  # noqa: F405
