from django.conf import settings
from django.urls import reverse
from django.utils import translation


def staff_pages_in_english(get_response):
    """The support console and the admin speak English, whatever language the agent's browser asks for:
    agents and staff share one vocabulary with each other and with the docs. (The customer's language is
    shown on the setup, not used for the page.)"""

    def middleware(request):
        if request.path_info.startswith((reverse("console:list"), reverse("admin:index"))):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return get_response(request)

    return middleware
