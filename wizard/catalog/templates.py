"""Which instruction template a customer sees."""

from .models import InstructionTemplate, Platform


def published_template(platform: Platform | None, signature: str) -> InstructionTemplate | None:
    """The newest published version for the platform when it matches the signature, else the generic one."""
    published = InstructionTemplate.objects.filter(status=InstructionTemplate.PUBLISHED).order_by("-version")
    if platform is not None and platform.signature == signature:
        template = published.filter(platform=platform).first()
        if template is not None:
            return template
    return published.filter(platform=None, signature=signature).first()
