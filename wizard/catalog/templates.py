"""Which instruction template a customer sees, and how a new version becomes it."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import InstructionTemplate, Platform


def published_template(platform: Platform | None, signature: str) -> InstructionTemplate | None:
    """The newest published version for the platform when it matches the signature, else the generic one."""
    candidates = Q(platform=None, signature=signature)
    if platform is not None and platform.signature == signature:
        candidates |= Q(platform=platform)
    return (
        InstructionTemplate.objects.filter(candidates, status=InstructionTemplate.PUBLISHED)
        .select_related("platform")
        .order_by(F("platform").asc(nulls_last=True), "-version")
        .first()
    )


def subject_filter(template: InstructionTemplate) -> dict:
    if template.platform_id:
        return {"platform_id": template.platform_id}
    return {"platform": None, "signature": template.signature}


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
