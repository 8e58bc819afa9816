from django.apps import AppConfig

from portal.accounts.hooks import credentials_revoked_register


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Real-time"

    def ready(self) -> None:
        # Imported here, not at the top: realtime.auth imports models, and Django imports
        # every apps module before any models module may be.
        from realtime.auth import credential_sockets_close

        # Revoked tokens and ended sessions close their sockets.
        credentials_revoked_register(credential_sockets_close)
