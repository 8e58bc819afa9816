from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # A start-up registration, so in ready() as Django advises for such side effects.
        from portal.accounts import (
            schema,  # noqa: F401 - registers the OpenAPI auth scheme
            sessions,  # noqa: F401 - sign-in/out signal receivers
        )
