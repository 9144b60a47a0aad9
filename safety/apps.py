from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"

    def ready(self):
        # Register the Celery tasks in every process (web included): actions queue the
        # rescan by its task name (safety.actions.RESCAN_TASK) without importing a door.
        from safety import tasks  # noqa: F401
