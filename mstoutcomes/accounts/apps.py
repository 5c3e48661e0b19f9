from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mstoutcomes.accounts"
    verbose_name = "Sites, agencies and people"
