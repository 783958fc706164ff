from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.setup_list, name="list"),
    path("login/", views.sign_in, name="login"),
    path("login/code/", views.enter_code, name="code"),
    path("login/enrol/", views.enrol, name="enrol"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("find/", views.find, name="find"),
    path("new/", views.start_for_customer, name="new"),
    path("insights/", views.insights_page, name="insights"),
    path("insights/<str:table>.csv", views.insights_csv, name="insights_csv"),
    path("s/<str:reference>/", views.setup_detail, name="setup"),
    path("s/<str:reference>/notes/", views.add_note, name="note"),
    path("s/<str:reference>/step/", views.send_to_step, name="step"),
]
