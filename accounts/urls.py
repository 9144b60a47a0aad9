from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/language/", views.language, name="language"),
]
