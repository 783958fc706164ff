from django.conf import settings


def portal(request):
    return {"secret_ttl_minutes": settings.PORTAL_SECRET_TTL_MINUTES}
