"""/admin/ behind the console's door: staff sign in and enrol there, with the same two factors and limits."""

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class VerifiedAdminSite(OTPAdminSite):
    """Only users verified by a second factor get in (OTPAdminSite), under the usual "admin" name."""

    def __init__(self, name="admin"):
        super().__init__(name)

    def login(self, request, extra_context=None):
        # One sign-in page for everyone, so the limits on guessing hold for staff too, and a staff user
        # without an authenticator app is taken through enrolment.
        wanted = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        return redirect_to_login(wanted, "console:login")
