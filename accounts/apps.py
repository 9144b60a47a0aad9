from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts.middleware import remember_language

        # At sign-in the saved language goes into the session (one query then, none per page).
        user_logged_in.connect(remember_language, dispatch_uid="thalimon_remember_language")
