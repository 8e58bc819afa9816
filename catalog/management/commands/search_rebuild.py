"""Rebuild the search indexes: the database's (term list, FTS5 index, statistics) and,
when MEILI_URL is set, Meilisearch's (a fresh index swapped in atomically).

manage.py search_rebuild
manage.py search_rebuild --no-progress
"""

import time
from typing import TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog import search


class Command(BaseCommand):
    help = "Rebuild the catalog search indexes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        bar = tqdm(
            unit="course",
            desc="Indexing courses",
            disable=options["no_progress"],
            # The wrapped stream (the stubs know OutputWrapper's only through __getattr__).
            file=cast(TextIO, self.stderr._out),
        )

        def progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.update(done - bar.n)

        try:
            count = search.rebuild(progress=progress)
        except search.SearchUnavailable as exc:
            raise CommandError(f"Search rebuild failed: {exc}") from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {count} courses in {time.monotonic() - started:.1f}s.")
        )
