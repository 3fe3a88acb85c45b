"""Shared personas: every role of DESIGN.md, plus an outsider from another workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.test import Client as HttpClient

from confiance.core.models import Client, Membership, Role, User, Workspace
from confiance.core.services import client_create, membership_add, user_create, workspace_create
from confiance.engagements.models import ContactOrigin, Engagement, EngagementStatus
from confiance.engagements.services import engagement_create, interlocutor_set

PASSWORD = "correct-horse-battery"

# The longest files first. `--dist loadfile` gives a worker whole files and `--no-loadscope-reorder`
# (pyproject.toml) hands them out in collection order, so a long file started last would leave the
# other worker idle until it ends (xdist's own order, most tests first, put the one-test scenario
# suite last: a tail of minutes). Wall per file from a whole SQLite run (--durations=0, summed),
# 4 December 2026, after the demo builds were shared; a file not listed keeps its place, after
# these.
LONGEST_FIRST = (
    "tests/trust/test_scenarios.py",
    "tests/browser/test_every_page_on_a_phone.py",
    "tests/api/test_schema.py",
    "tests/core/test_url_access.py",
    "tests/core/test_archive_restore.py",
    "tests/test_french.py",
    "tests/browser/test_from_zero_journey.py",
    "tests/browser/test_emergence_journey.py",
    "tests/consumption/test_import_concurrency.py",
    "tests/browser/test_ledger_verify.py",
    "tests/core/test_schedule_processes.py",
    "tests/core/test_erasure.py",
    "tests/consumption/test_import_services.py",
    "tests/browser/test_client_journey.py",
    "tests/ledger/test_verify_cli.py",
    "tests/core/test_startup.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def _settings_for_tests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from django.conf import settings

    # Tasks run at once in tests (the real framework's immediate backend), so their effects
    # (e-mails) can be asserted; static files need no collectstatic manifest.
    return {
        "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "EMERGENCE_ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments")),
        "PROBLEM_ATTACHMENT_DIR": str(tmp_path_factory.mktemp("problem-attachments")),
        "LEDGER_BUNDLE_DIR": str(tmp_path_factory.mktemp("ledger-bundles")),
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        # Argon2 is the production hasher (asserted in test_security); tests need speed, not
        # strength. (Set before the test runs: set after `yield`, it only ever applied to the
        # teardown, and every persona of every test was hashed with argon2.)
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # WhiteNoise looks a static file up when it is asked for, instead of listing every
        # static file (~1,700, node_modules' included) when a handler loads its middleware:
        # that listing cost ~0.17 s of CPU for each test client, eight a row of the URL access
        # table. Production's listing is tested in tests/core/test_startup.py.
        "WHITENOISE_AUTOREFRESH": True,
    }


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    for name, value in _settings_for_tests(tmp_path_factory).items():
        setattr(settings, name, value)
    from django.core.cache import cache
    from django.utils import translation

    cache.clear()
    from confiance.api.auth import forget_leases

    forget_leases()  # a process's leases of API requests go with the cache they came from
    # A request in an earlier test may leave its language active on this thread.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# -- one migrated database, copied for each worker ---------------------------------------------


def _migrations_digest() -> str:
    """What the migrated schema depends on: every migration file of every app, and Django."""
    import hashlib
    import sys

    import django
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(django.get_version().encode())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in sorted(loader.disk_migrations):
        source = sys.modules[type(loader.disk_migrations[key]).__module__].__file__
        digest.update(repr(key).encode())
        digest.update(Path(str(source)).read_bytes())
    return digest.hexdigest()[:12]


def _clone_migrated(connection, worker: str | None) -> str | None:  # type: ignore[no-untyped-def]
    """Make this worker's test database a copy of a migrated template, and return its name.

    Migrating costs ~16 s of CPU; each xdist worker used to migrate its own database. The
    template is migrated once (under a lock: the first worker builds it, the others wait) and
    kept, named after a digest of the migrations, so a later run with the same migrations copies
    it at once and a changed migration builds a new one. None where it does not apply (an
    in-memory SQLite database, another engine): Django creates the database as usual."""
    import fcntl
    import hashlib
    import sqlite3
    import tempfile

    creation = connection.creation
    vendor = connection.vendor
    name = str(creation._get_test_db_name())
    if vendor not in ("sqlite", "postgresql") or (
        vendor == "sqlite" and creation.is_in_memory_db(name)
    ):
        return None
    base = name.removesuffix(f"_{worker}") if worker else name
    template = f"{base}_tpl_{_migrations_digest()}"
    lock = Path(tempfile.gettempdir()) / (
        "confiance-test-template-" + hashlib.sha256(template.encode()).hexdigest()[:16] + ".lock"
    )

    def template_exists() -> bool:
        if vendor == "sqlite":
            return Path(template).exists()
        with creation._nodb_cursor() as cursor:
            return bool(creation._database_exists(cursor, template))

    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not template_exists():
            building = f"{template}_building"
            test_settings = connection.settings_dict["TEST"]
            wanted = test_settings.get("NAME")
            test_settings["NAME"] = building
            try:
                creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
                connection.close()
            finally:
                test_settings["NAME"] = wanted
                connection.settings_dict["NAME"] = creation._get_test_db_name()
            # The new template replaces those of earlier migrations.
            if vendor == "sqlite":
                Path(building).replace(template)
                for stale in Path(base).parent.glob(f"{Path(base).name}_tpl_*"):
                    if stale.name != Path(template).name:
                        stale.unlink(missing_ok=True)
            else:
                with creation._nodb_cursor() as cursor:
                    cursor.execute(
                        f"ALTER DATABASE {creation._quote_name(building)} "
                        f"RENAME TO {creation._quote_name(template)}"
                    )
                    cursor.execute(
                        "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                        [base.replace("_", r"\_") + r"\_tpl\_%", template],
                    )
                    for (stale,) in cursor.fetchall():
                        cursor.execute(f"DROP DATABASE IF EXISTS {creation._quote_name(stale)}")
        if vendor == "sqlite":
            for stale in (name, f"{name}-wal", f"{name}-shm"):
                Path(stale).unlink(missing_ok=True)
            source, target = sqlite3.connect(template), sqlite3.connect(name)
            with source, target:
                source.backup(target)
            source.close()
            target.close()
        else:
            with creation._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {creation._quote_name(name)}")
                cursor.execute(
                    f"CREATE DATABASE {creation._quote_name(name)} "
                    f"TEMPLATE {creation._quote_name(template)}"
                )
    return name


def _delete_flush_sql(  # type: ignore[no-untyped-def]
    self, style, tables, *, reset_sequences=False, allow_cascade=False
) -> list[str]:
    """PostgreSQL's flush in tests: DELETE each table instead of one TRUNCATE of all of them.

    A flush empties the database after each `transaction=True` test and after a module's demo.
    TRUNCATE gives each of the ~100 tables (and their indexes) new files, which cost 2.5-4.5 s
    a flush on this machine under load, against 0.1-0.3 s to DELETE the few rows a test leaves
    (same load, same run). The tables end as empty either way: the foreign keys Django creates
    are deferrable, checked at the end of the flush's transaction; sequences restart when asked,
    as TRUNCATE ... RESTART IDENTITY does. (`allow_cascade` needs nothing more: every table is
    in the list.)"""
    if not tables:
        return []
    sql = ["SET CONSTRAINTS ALL DEFERRED;"]
    sql += [f"{style.SQL_KEYWORD('DELETE FROM')} {self.quote_name(table)};" for table in tables]
    if reset_sequences:
        introspection = self.connection.introspection
        with self.connection.cursor() as cursor:
            sequences = [s for table in tables for s in introspection.get_sequences(cursor, table)]
        sql += self.sequence_reset_by_name_sql(style, sequences)
    return sql


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):  # type: ignore[no-untyped-def]
    """pytest-django's database set-up, each worker's database copied from a migrated template
    (`_clone_migrated`) instead of migrated again; on PostgreSQL, flushes DELETE
    (`_delete_flush_sql`)."""
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    patches = pytest.MonkeyPatch()
    if connection.vendor == "postgresql":
        patches.setattr(type(connection.ops), "sql_flush", _delete_flush_sql)
    with django_db_blocker.unblock():
        old_name = connection.settings_dict["NAME"]
        name = _clone_migrated(connection, worker)
        if name is None:
            from django.test.utils import setup_databases, teardown_databases

            config = setup_databases(verbosity=0, interactive=False)
        else:
            connection.close()
            settings.DATABASES[connection.alias]["NAME"] = name
            connection.settings_dict["NAME"] = name
            connection.ensure_connection()
    yield
    with django_db_blocker.unblock():
        if name is None:
            teardown_databases(config, verbosity=0)
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    patches.undo()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo workspace built once for a module whose tests read it (each test's own writes
    still roll back), and emptied after the module: a build costs seconds. It is built as
    `make run` builds it, its after-commit work (notices, trust refreshes) run at the end."""
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    from confiance.core.demo import build_demo

    overridden = override_settings(**_settings_for_tests(tmp_path_factory))
    with django_db_blocker.unblock(), overridden, transaction.atomic():
        assert build_demo(), "the database held a demo already"
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@dataclass
class World:
    workspace: Workspace
    other_workspace: Workspace
    client_a: Client
    client_b: Client
    owner: Membership
    member: Membership
    finance: Membership
    client_contact: Membership  # contact of client A
    other_client_contact: Membership  # contact of client B, same workspace
    expert: Membership
    outsider: Membership  # member of another workspace
    engagement: Engagement  # client A, active
    draft: Engagement  # client A, draft
    engagement_b: Engagement  # client B, active
    foreign_engagement: Engagement  # another workspace

    def user(self, persona: str) -> User:
        return getattr(self, persona).user


PERSONAS = [
    "owner",
    "member",
    "finance",
    "client_contact",
    "other_client_contact",
    "expert",
    "outsider",
]


def _person(email: str, name: str) -> User:
    return user_create(email=email, password=PASSWORD, full_name=name)


def _engagement(owner: Membership, client: Client, title: str, status: str) -> Engagement:
    return engagement_create(
        membership=owner,
        client=client,
        title=title,
        status=status,
        contact_origin=ContactOrigin.PEER_REFERRAL,
        start_date=date(2026, 9, 1),
        end_date=date(2026, 12, 31),
        summary=f"Shared summary of {title}",
        internal_notes=f"INTERNAL-NOTE of {title}",
    )


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


def build_world() -> World:
    """The personas and their engagements (the `world` fixture), in the current transaction."""
    owner_user = _person("owner@provider.test", "Olivia Owner")
    workspace = workspace_create(name="Provider", owner=owner_user, slug="provider")
    owner = Membership.objects.get(user=owner_user, workspace=workspace)
    client_a = client_create(membership=owner, name="Client A")
    client_b = client_create(membership=owner, name="Client B")

    def add(email: str, name: str, role: str, client: Client | None = None) -> Membership:
        return membership_add(by=owner, user=_person(email, name), role=role, client=client)

    member = add("member@provider.test", "Mark Member", Role.MEMBER)
    finance = add("finance@provider.test", "Fiona Finance", Role.FINANCE)
    client_contact = add("contact@client-a.test", "Carla Contact", Role.CLIENT, client_a)
    other_client_contact = add("contact@client-b.test", "Bob Bcontact", Role.CLIENT, client_b)
    expert = add("expert@independent.test", "Eve Expert", Role.EXPERT)

    outsider_user = _person("outsider@elsewhere.test", "Oscar Outsider")
    other_workspace = workspace_create(name="Elsewhere", owner=outsider_user, slug="elsewhere")
    outsider = Membership.objects.get(user=outsider_user, workspace=other_workspace)
    other_client = client_create(membership=outsider, name="Their client")

    engagement = _engagement(owner, client_a, "Alpha migration", EngagementStatus.ACTIVE)
    draft = _engagement(owner, client_a, "Alpha draft", EngagementStatus.DRAFT)
    engagement_b = _engagement(owner, client_b, "Beta audit", EngagementStatus.ACTIVE)
    # The owner and the member take part in the engagements (pickers offer only the
    # people of an engagement); tests of that rule build their own outsider to the team.
    for on in (engagement, draft, engagement_b):
        for person in (owner, member):
            interlocutor_set(membership=owner, engagement=on, user=person.user, tell=False)
    return World(
        workspace=workspace,
        other_workspace=other_workspace,
        client_a=client_a,
        client_b=client_b,
        owner=owner,
        member=member,
        finance=finance,
        client_contact=client_contact,
        other_client_contact=other_client_contact,
        expert=expert,
        outsider=outsider,
        engagement=engagement,
        draft=draft,
        engagement_b=engagement_b,
        foreign_engagement=_engagement(
            outsider, other_client, "Foreign work", EngagementStatus.ACTIVE
        ),
    )


@pytest.fixture
def login(client: HttpClient, world: World):  # type: ignore[no-untyped-def]
    """Log the test client in as a persona: login("client_contact")."""

    def do(persona: str) -> HttpClient:
        client.force_login(world.user(persona))
        return client

    return do


# -- the trust scenario suite: its histories spread over the workers, its figures over all --------

_SPREAD = ("tests/trust/test_scenarios.py::",)
"""Files whose tests xdist hands out one by one instead of as one file (the rest of the suite
keeps `--dist loadfile`): each trust history takes seconds, one file of them took minutes."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):  # type: ignore[no-untyped-def]
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SpreadScheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(_SPREAD):
                return nodeid
            return str(super()._split_scope(nodeid))

    return SpreadScheduling(config, log)


_scenario_outcomes: dict[str, str] = {}
_scenario_summary: list[str] = []


def pytest_runtest_logreport(report):  # type: ignore[no-untyped-def]
    # In the process that reports (xdist's controller, or the only one): the outcome each
    # history test recorded (tests/trust/test_scenarios.py).
    if report.when == "call":
        from tests.trust.scenario_figures import PROPERTY, Outcome

        for name, value in report.user_properties:
            if name == PROPERTY:
                _scenario_outcomes[Outcome.loads(value).name] = value


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session):  # type: ignore[no-untyped-def]
    yield
    if hasattr(session.config, "workerinput") or not _scenario_outcomes:
        return  # a worker (the controller sums up), or no history ran
    from tests.trust.scenario_figures import Outcome, report, shortfalls

    outcomes = sorted(
        (Outcome.loads(v) for v in _scenario_outcomes.values()),
        key=lambda o: (o.complaint is not None, o.name),
    )
    declared = outcomes[0].of
    if len(outcomes) < declared:
        _scenario_summary.append(
            f"trust scenarios: {len(outcomes)} of {declared} histories ran in this session; "
            "the figures need all of them (not computed)."
        )
        return
    found = report(outcomes, _scenario_summary.append)
    missed = shortfalls(found)
    if missed:
        _scenario_summary.append("TRUST SCENARIO FIGURES BELOW TARGET: " + "; ".join(missed))
        session.testsfailed += 1


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    if _scenario_summary:
        terminalreporter.section("trust scenarios")
        for line in _scenario_summary:
            terminalreporter.write_line(line)
