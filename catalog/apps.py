from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Imported here, not at the top: it imports models, which Django loads only
        # after every apps module.
        from catalog.search.sqlite import repair_after_migrate

        # A later migration that rebuilds the course table on SQLite drops its FTS triggers.
        post_migrate.connect(repair_after_migrate, sender=self)
