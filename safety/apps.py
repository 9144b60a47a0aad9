from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"

    def ready(self):
        from safety import signals

        signals.connect()
