from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Username or password is not correct. After 5 failed attempts the account "
            "is locked for an hour."
        ),
    }
