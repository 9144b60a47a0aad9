from django.contrib.auth import views as auth_views

from thalimon.forms import LoginForm


class ThaliMonLoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True
