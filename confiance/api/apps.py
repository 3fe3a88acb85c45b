from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "confiance.api"
    label = "api"
    verbose_name = "API"
