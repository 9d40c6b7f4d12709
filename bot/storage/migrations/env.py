"""Alembic environment: runs on the connection handed over by bot.storage.db.Database.migrate(),
or on DATABASE_URL when called from the alembic command line."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlmodel import SQLModel

from bot.storage import models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bot.config import load_settings
    from bot.storage.db import make_engine, migration_connection

    async def _main() -> None:
        engine = make_engine(load_settings().database_url)
        async with migration_connection(engine) as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(_main())


run_migrations_online()
