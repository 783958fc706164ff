from django.urls import path

from . import views

app_name = "flow"

urlpatterns = [
    path("", views.app_step, name="home"),
    path("language/", views.switch_language, name="language"),
    path("s/<str:token>/language/", views.switch_language, name="setup_language"),
    path("s/<str:token>/app/", views.app_step, name="app"),
    path("s/<str:token>/fields/", views.fields_step, name="fields"),
    path("s/<str:token>/credentials/", views.credentials_step, name="credentials"),
    path("s/<str:token>/credentials/forget/", views.forget, name="forget"),
    path("s/<str:token>/test/", views.test_step, name="test"),
    path("s/<str:token>/test/delivery/", views.check_delivery, name="check_delivery"),
    path("s/<str:token>/test/confirm/", views.confirm_delivery, name="confirm_delivery"),
    path("s/<str:token>/instructions/", views.instructions_step, name="instructions"),
    path("s/<str:token>/instructions.md", views.instructions_download, name="instructions_download"),
    path("s/<str:token>/instructions/hand-on/", views.hand_on_create, name="hand_on_create"),
    path(
        "s/<str:token>/instructions/hand-on/<int:link_id>/revoke/",
        views.hand_on_revoke,
        name="hand_on_revoke",
    ),
    path(
        "s/<str:token>/instructions/hand-on/<int:link_id>/email/", views.hand_on_email, name="hand_on_email"
    ),
    path("h/<str:token>/", views.hand_on_page, name="hand_on"),
]
