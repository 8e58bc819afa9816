"""Search synonyms (catalog.models.Synonym), seeded with a few common ones; staff edit them
in the admin."""

import django.db.models.functions.text
from django.db import migrations, models

import catalog.models

# term → expansions: abbreviations searchers type for what course titles spell out.
DEFAULTS = {
    "ai": ["artificial intelligence", "machine learning"],
    "cv": ["computer vision"],
    "db": ["database"],
    "dl": ["deep learning"],
    "golang": ["go"],
    "js": ["javascript"],
    "k8s": ["kubernetes"],
    "ml": ["machine learning"],
    "nlp": ["natural language processing"],
    "postgres": ["postgresql"],
    "rl": ["reinforcement learning"],
    "ts": ["typescript"],
    "ui": ["user interface"],
    "ux": ["user experience"],
}


def seed(apps, schema_editor):
    Synonym = apps.get_model("catalog", "Synonym")
    Synonym.objects.bulk_create(
        [
            Synonym(term=term, expansion=expansion)
            for term, expansions in DEFAULTS.items()
            for expansion in expansions
        ],
        ignore_conflicts=True,
    )


def unseed(apps, schema_editor):
    Synonym = apps.get_model("catalog", "Synonym")
    for term, expansions in DEFAULTS.items():
        Synonym.objects.filter(term=term, expansion__in=expansions).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_waitlist"),
    ]

    operations = [
        migrations.CreateModel(
            name="Synonym",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "term",
                    models.CharField(
                        help_text="One word, lower-case, as searchers type it (e.g. k8s).",
                        max_length=64,
                        validators=[catalog.models.synonym_term_validator],
                    ),
                ),
                (
                    "expansion",
                    models.CharField(
                        help_text="What it also finds: a word or a phrase (e.g. Kubernetes).",
                        max_length=200,
                    ),
                ),
            ],
            options={
                "ordering": ["term", "expansion"],
                "constraints": [
                    models.UniqueConstraint(fields=("term", "expansion"), name="synonym_unique"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("term", django.db.models.functions.text.Lower("term")),
                            models.Q(("term", ""), _negated=True),
                        ),
                        name="synonym_term_lower_case",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
