from django.shortcuts import render
from django.urls import include, path


def bare(request):
    return render(request, "bench/bare.html", {"name": "world"})


urlpatterns = [path("bench/bare/", bare), path("", include("wizard.urls"))]
