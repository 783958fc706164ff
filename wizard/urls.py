from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("wizard.flow.urls")),
    path("console/", include("wizard.console.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "wizard.flow.views.bad_request"
handler500 = "wizard.flow.views.server_error"
