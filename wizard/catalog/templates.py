"""Which instruction template and snippets a customer sees, and how a new version becomes them."""

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .models import InstructionTemplate, Platform, Snippet, Versioned


def published_template(
    platform: Platform | None, signature: str, language: str = settings.LANGUAGE_CODE
) -> InstructionTemplate | None:
    """The newest published version for the platform when it matches the signature, else the generic one;
    in ``language``, else in English (the caller notes the fallback: the template's language differs)."""
    candidates = Q(platform=None, signature=signature)
    if platform is not None and platform.signature == signature:
        candidates |= Q(platform=platform)
    return (
        InstructionTemplate.objects.filter(
            candidates,
            status=InstructionTemplate.PUBLISHED,
            language__in={language, settings.LANGUAGE_CODE},
        )
        .select_related("platform")
        .order_by(
            F("platform").asc(nulls_last=True),
            Case(When(language=language, then=Value(0)), default=Value(1)),
            "-version",
        )
        .first()
    )


def next_version(text: Versioned) -> int:
    latest = text.versions().order_by("-version").first()
    return (latest.version if latest else 0) + 1


@transaction.atomic
def publish(text: Versioned) -> None:
    """Make a draft what customers see; the version of the same subject it replaces is retired, not
    changed."""
    text.versions().filter(status=Versioned.PUBLISHED).exclude(pk=text.pk).update(status=Versioned.RETIRED)
    text.status = Versioned.PUBLISHED
    text.published_at = timezone.now()
    text.save(update_fields=["status", "published_at"])


def published_snippets(platform: Platform | None) -> list[Snippet]:
    """The snippets a customer sees for the app, in page order (one published version per title)."""
    if platform is None:
        return []
    return list(platform.snippets.filter(status=Snippet.PUBLISHED).order_by("position", "title"))
