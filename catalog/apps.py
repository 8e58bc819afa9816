from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Imported here, not at the top: it imports models, which Django loads only
        # after every apps module.
        from catalog.search.sqlite import drop_before_migrate, repair_after_migrate

        # On SQLite the FTS triggers stand in the way of Django's table rebuilds (and a
        # rebuild of the course table drops its own): off while migrating, back after.
        pre_migrate.connect(drop_before_migrate, sender=self)
        post_migrate.connect(repair_after_migrate, sender=self)
