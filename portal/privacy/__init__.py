"""An account's own data as a whole: the export (GET /api/me/export) and the erasure
(DELETE /api/me). Both reach into every app that holds personal data, so this package
sits above them all (the top layer in pyproject.toml's import contract)."""
