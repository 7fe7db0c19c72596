"""The SQL store on SQLite and on PostgreSQL (skipped, with a message, when PostgreSQL is absent)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core import auth
from core.store.models import DataPackage, Dataset, Item, Listing, Sale, User
from core.store.sql import get_engine, migrate, session_scope, table_names

EXPECTED_TABLES = {
    "user", "source", "job", "dataset", "item", "refinementrun", "refinementrecord", "datapackage", "listing",
    "sale", "download", "review", "feedback", "auditevent", "alembic_version", "loginattempt",
    "networkallowentry", "prediction", "modelwatch",
}


def test_migrations_create_every_table_and_are_idempotent(sql_url):
    assert set(table_names()) >= EXPECTED_TABLES
    migrate()  # second call is a no-op
    with get_engine().connect() as conn:
        applied = conn.execute(text("select version_num from alembic_version")).scalar()
    assert applied == _migrations_head()


def _migrations_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.store.sql import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def test_json_columns_round_trip(sql_url):
    with session_scope() as session:
        dataset = Dataset(name="news-1", app="news", topic_keywords=["energy", "grid"])
        session.add(dataset)
        session.flush()
        session.add(Item(dataset_id=dataset.id, source_app="news", source_id="s", raw_id="r1", data_type="listing",
                         content_hash="h1", fields={"price": 12.5, "attributes": {"beds": 2}}))
    with session_scope() as session:
        item = session.exec(Item.__table__.select()).first()
        assert item.fields == {"price": 12.5, "attributes": {"beds": 2}}


def test_item_is_unique_per_dataset_source_and_content_hash(sql_url):
    with session_scope() as session:
        dataset = Dataset(name="d", app="news")
        session.add(dataset)
        session.flush()
        dataset_id = dataset.id
        session.add(Item(dataset_id=dataset_id, source_app="news", source_id="s", raw_id="r", data_type="text",
                         content_hash="same"))
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(Item(dataset_id=dataset_id, source_app="news", source_id="s", raw_id="r2", data_type="text",
                         content_hash="same"))


def test_a_purchase_cannot_be_recorded_twice(sql_url):
    with session_scope() as session:
        seller = User(email="s@x.io", display_name="s", role="supplier", password_hash="x")
        buyer = User(email="b@x.io", display_name="b", role="buyer", password_hash="x")
        dataset = Dataset(name="d2", app="news")
        session.add_all([seller, buyer, dataset])
        session.flush()
        package = DataPackage(dataset_id=dataset.id, name="p", title="P", version="1.0.0", license="CC0-1.0")
        session.add(package)
        session.flush()
        listing = Listing(package_id=package.id, seller_id=seller.id, title="P", license="CC0-1.0")
        session.add(listing)
        session.flush()
        ids = (listing.id, package.id, buyer.id)
    sale = dict(listing_id=ids[0], package_id=ids[1], buyer_id=ids[2], amount_cents=100, currency="usd",
                provider="stripe", provider_ref="cs_test_1")
    with session_scope() as session:
        session.add(Sale(**sale))
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(Sale(**sale))


def test_foreign_keys_are_enforced(sql_url):
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(Item(dataset_id=999_999, source_app="news", source_id="s", raw_id="r", data_type="text",
                         content_hash="h"))


def test_accounts_work_on_this_store(sql_url):
    principal = auth.sign_up("ana@example.org", "correct horse battery", "Ana", "supplier")
    assert auth.authenticate("ANA@example.org ", "correct horse battery") == principal


def test_sqlite_runs_in_wal_mode_with_busy_timeout(sql_url):
    if not sql_url.startswith("sqlite"):
        pytest.skip("SQLite-only pragmas")
    with get_engine().connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_models_and_migrations_agree(sql_url):
    """The tables the migrations build are the tables the models declare (a model change needs a migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import core.store.models  # noqa: F401 - registers every table on SQLModel.metadata

    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], differences
