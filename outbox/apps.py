from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Queued work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from outbox import tasks  # noqa: F401  (registers the relay task in every process)
