from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "mstoutcomes.demo"
    verbose_name = "Demo site"
