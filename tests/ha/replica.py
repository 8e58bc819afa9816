"""A second PostgreSQL database standing in for a read replica: a copy of the test
database (pg_dump into it), which a test then makes differ on purpose so an answer tells
which database gave it. TEST_DATABASE_REPLICA_NAME names it; default: the test database's
name with `_replica` (one per xdist worker, like the test database)."""

import os
import subprocess

import psycopg
from django.db import connection

REPLICA_MARK = " [replica]"


def _server_args(db: dict) -> list[str]:
    return [
        "-h", db["HOST"] or "127.0.0.1",
        "-p", str(db["PORT"] or 5432),
        "-U", db["USER"] or "postgres",
    ]  # fmt: skip


def _env(db: dict) -> dict[str, str]:
    return {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}


class ReplicaDatabase:
    def __init__(self) -> None:
        self.source = connection.settings_dict
        self.name = os.environ.get("TEST_DATABASE_REPLICA_NAME") or f"{self.source['NAME']}_replica"

    def url(self) -> str:
        db = self.source
        return (
            f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{self.name}"
        )

    def _admin(self, sql: str) -> None:
        db = self.source
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(sql)

    def copy_of_primary(self) -> "ReplicaDatabase":
        """The replica made anew as a copy of the test database's committed rows."""
        self.drop()
        self._admin(f'CREATE DATABASE "{self.name}"')
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                *_server_args(self.source),
                self.source["NAME"],
            ],
            capture_output=True,
            env=_env(self.source),
            check=True,
            timeout=120,
        )
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", *_server_args(self.source), "-d", self.name],
            input=dump.stdout,
            capture_output=True,
            env=_env(self.source),
            check=True,
            timeout=120,
        )
        return self

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url(), autocommit=True) as replica:
            cursor = replica.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def mark_titles(self) -> None:
        """Every course title on the replica ends with REPLICA_MARK."""
        self.execute("UPDATE catalog_course SET title = title || %s", (REPLICA_MARK,))

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
