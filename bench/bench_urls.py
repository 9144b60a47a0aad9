"""The app's URLs plus one bare view (one query, no template) to compare pages against."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from thalimon.urls import urlpatterns as app_patterns


@login_required
def bare(request):
    from patients.models import Patient

    return HttpResponse(str(Patient.objects.count()))


urlpatterns = [path("bench/bare/", bare), *app_patterns]
