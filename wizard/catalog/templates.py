"""Which instruction template and snippets a customer sees, and how a new version becomes them."""

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .models import InstructionTemplate, Platform, Snippet


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


def subject_filter(template: InstructionTemplate) -> dict:
    """The versions one template is among: the same platform (or generic signature) and language."""
    if template.platform_id:
        return {"platform_id": template.platform_id, "language": template.language}
    return {"platform": None, "signature": template.signature, "language": template.language}


def next_version(template: InstructionTemplate) -> int:
    latest = InstructionTemplate.objects.filter(**subject_filter(template)).order_by("-version").first()
    return (latest.version if latest else 0) + 1


@transaction.atomic
def publish(template: InstructionTemplate) -> None:
    """Make a draft what customers see; the version it replaces is retired, not changed."""
    InstructionTemplate.objects.filter(
        status=InstructionTemplate.PUBLISHED, **subject_filter(template)
    ).exclude(pk=template.pk).update(status=InstructionTemplate.RETIRED)
    template.status = InstructionTemplate.PUBLISHED
    template.published_at = timezone.now()
    template.save(update_fields=["status", "published_at"])


def published_snippets(platform: Platform | None) -> list[Snippet]:
    """The snippets a customer sees for the app, in page order (one published version per title)."""
    if platform is None:
        return []
    return list(platform.snippets.filter(status=Snippet.PUBLISHED).order_by("position", "title"))


def next_snippet_version(snippet: Snippet) -> int:
    latest = (
        Snippet.objects.filter(platform_id=snippet.platform_id, title=snippet.title)
        .order_by("-version")
        .first()
    )
    return (latest.version if latest else 0) + 1


@transaction.atomic
def publish_snippet(snippet: Snippet) -> None:
    """Make a draft what customers see; the version with the same title it replaces is retired."""
    Snippet.objects.filter(
        status=Snippet.PUBLISHED, platform_id=snippet.platform_id, title=snippet.title
    ).exclude(pk=snippet.pk).update(status=Snippet.RETIRED)
    snippet.status = Snippet.PUBLISHED
    snippet.published_at = timezone.now()
    snippet.save(update_fields=["status", "published_at"])
