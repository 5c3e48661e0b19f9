"""Benchmark imports and due-work lists at national scale, as ratios measured in the same run.

    createdb -h 127.0.0.1 -U postgres mst_measures_bench    # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mst_measures_bench \\
        .venv/bin/python bench/measures_bench.py [--people 10000] [--rows 1000000]

1. Import: `import_records` of a 1,000,000-row attendance CSV (read column-wise, every cell
   validated, every row matched to a young person, natural keys hashed, one binary COPY into a
   staging table, then UPDATE of changed records and INSERT ... SELECT of new ones) against
   PostgreSQL's own bulk load of the same file (COPY ... FROM STDIN (FORMAT csv) into a
   temporary table of the file's columns: no indexes, foreign keys or WAL). Target: at most 3x.
   For scale it also times a database-only load into the real table (COPY, then one INSERT ...
   SELECT joining young people and hashing keys in SQL, foreign keys checked, rolled back and
   vacuumed away): the cost of storing the rows that any import pays. Then the same file again
   (idempotent re-import: every row found unchanged).
2. Due-work list: the research worklist over 10,000 young people (episodes and assessments
   read in two queries, every window and state computed) against a plain SQL scan that reads
   the same rows of the same tables.

The database is emptied and rebuilt on each run. Never point this at a database you need.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mst_measures_bench"


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if "mst_measures_bench" not in os.environ["DATABASE_URL"]:
        raise SystemExit("Refusing to run: DATABASE_URL must name the mst_measures_bench database.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mstoutcomes.settings")
    import django

    django.setup()


def build_people(count: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """Create a site, therapists, a research worker, young people, episodes and assessments."""
    from django.core.management import call_command

    from mstoutcomes.accounts.models import Membership, Role, Site, User
    from mstoutcomes.cases.models import Episode, YoungPerson
    from mstoutcomes.measures import registry
    from mstoutcomes.measures.models import Assessment
    from mstoutcomes.measures.windows import due_tasks

    call_command("flush", "--noinput", verbosity=0)
    site = Site.objects.create(code="NAT", name="National")
    therapists = User.objects.bulk_create(
        User(username=f"therapist{n}", first_name="T", last_name=str(n)) for n in range(200)
    )
    research = User.objects.create(username="research", first_name="R", last_name="W")
    Membership.objects.bulk_create(
        [Membership(user=t, site=site, role=Role.THERAPIST) for t in therapists]
        + [Membership(user=research, site=site, role=Role.RESEARCH_WORKER)]
    )
    today = dt.date.today()
    people = YoungPerson.objects.bulk_create(
        (
            YoungPerson(
                site=site,
                study_id=f"NAT-{n:06d}",
                given_name=f"Given{n}",
                family_name=f"Family{n}",
                date_of_birth=dt.date(2011, 1, 1) + dt.timedelta(days=n % 1500),
                sex="male",
                referred_on=today - dt.timedelta(days=rng.randint(30, 900)),
            )
            for n in range(count)
        ),
        batch_size=2000,
    )
    episodes = []
    for person in people:
        start = person.referred_on + dt.timedelta(days=rng.randint(7, 40))
        if start > today:
            start = today
        end = start + dt.timedelta(days=rng.randint(90, 160))
        ended = end < today and rng.random() < 0.8
        episodes.append(
            Episode(
                young_person=person,
                start_date=start,
                therapist=rng.choice(therapists),
                end_date=end if ended else None,
                discharge_reason="completed" if ended else "",
            )
        )
    Episode.objects.bulk_create(episodes, batch_size=2000)
    schedules = list(registry.schedules().values())
    assessments = []
    for episode in episodes:
        anchors = {"episode_start": episode.start_date, "episode_end": episode.end_date}
        for task in (t for s in schedules for t in due_tasks(s, anchors)):
            if task.closes < today and rng.random() < 0.75:
                assessments.append(
                    Assessment(
                        young_person_id=episode.young_person_id,
                        instrument=task.instrument,
                        instrument_version="1",
                        respondent=task.respondent,
                        schedule=task.schedule,
                        timepoint=task.timepoint,
                        status="completed",
                        completed_on=task.due,
                    )
                )
    Assessment.objects.bulk_create(assessments, batch_size=5000)
    return site, research, people, len(assessments)


def write_attendance(path: Path, people, rows: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    per_person = max(1, rows // len(people))
    start = dt.date(2015, 9, 7)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "local_id",
                "period_start",
                "period_end",
                "school",
                "sessions_possible",
                "sessions_attended",
                "authorised_absence",
                "unauthorised_absence",
            ]
        )
        written = 0
        for person in people:
            for week in range(per_person):
                if written >= rows:
                    return
                begin = start + dt.timedelta(weeks=week)
                attended = rng.randint(0, 10)
                authorised = rng.randint(0, 10 - attended)
                writer.writerow(
                    [
                        person.study_id,
                        begin.isoformat(),
                        (begin + dt.timedelta(days=4)).isoformat(),
                        "Hillside Academy",
                        10,
                        attended,
                        authorised,
                        10 - attended - authorised,
                    ]
                )
                written += 1


def database_copy(path: Path) -> float:
    """Time PostgreSQL's own bulk load of the file into a table of its columns."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE raw_attendance (local_id text, period_start date, period_end date,"
            " school text, sessions_possible integer, sessions_attended integer,"
            " authorised_absence integer, unauthorised_absence integer)"
        )
        began = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.cursor.copy(
                "COPY raw_attendance FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - began
        cursor.execute("DROP TABLE raw_attendance")
    return elapsed


def database_load_into_table(path: Path, site_id: int) -> float:
    """Time a database-only load into the real table: COPY, then INSERT ... SELECT joining young
    people by study ID and hashing the natural key in SQL (no validation messages, no dry run,
    no unmatched report), foreign keys checked. Rolled back, so the import that follows starts
    from the same table."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        began = time.perf_counter()
        # Check the (deferred) foreign keys inside the timed statement, as a commit would.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "CREATE TEMP TABLE raw_attendance (local_id text, period_start date, period_end date,"
            " school text, sessions_possible integer, sessions_attended integer,"
            " authorised_absence integer, unauthorised_absence integer) ON COMMIT DROP"
        )
        with (
            path.open("rb") as handle,
            cursor.cursor.copy(
                "COPY raw_attendance FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        cursor.execute(
            "INSERT INTO outcomes_attendanceperiod (young_person_id, provenance, source_system,"
            " extracted_on, row_key, created_at, updated_at, period_start, period_end, school,"
            " sessions_possible, sessions_attended, authorised_absence, unauthorised_absence)"
            " SELECT y.id, 'imported', 'bench', now()::date, encode(sha256(convert_to("
            " concat_ws(chr(31), 'attendance', y.id, r.period_start, r.period_end, r.school),"
            " 'UTF8')), 'hex'), now(), now(), r.period_start, r.period_end, r.school,"
            " r.sessions_possible, r.sessions_attended, r.authorised_absence,"
            " r.unauthorised_absence FROM raw_attendance r JOIN cases_youngperson y"
            " ON y.study_id = r.local_id AND y.site_id = %s"
            " ON CONFLICT (row_key) WHERE NOT (row_key = '') DO NOTHING",
            [site_id],
        )
        elapsed = time.perf_counter() - began
        transaction.set_rollback(True)
    # A rolled-back load leaves its dead rows and index entries behind (autovacuum may be off):
    # clear them, so the import that follows starts from the table this load started from.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE outcomes_attendanceperiod")
    return elapsed


def our_import(path: Path, site) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    from mstoutcomes.outcomes.importers import import_records

    began = time.perf_counter()
    with path.open("rb") as stream:
        report = import_records(
            by=None,
            kind="attendance",
            site=site,
            stream=stream,
            file_name=path.name,
            source_system="bench",
            extracted_on=dt.date.today(),
            dry_run=False,
        )
    return time.perf_counter() - began, report


def worklist_vs_scan(research) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    from django.db import connection

    from mstoutcomes.core.dates import today
    from mstoutcomes.measures.selectors import worklist

    best_ours, best_scan, rows = float("inf"), float("inf"), 0
    for _ in range(3):
        began = time.perf_counter()
        rows = len(worklist(user=research, today=today(), collected_by="research"))
        best_ours = min(best_ours, time.perf_counter() - began)
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.young_person_id, y.study_id, y.given_name, y.family_name, y.site_id,"
                " y.referred_on, e.start_date, e.end_date, u.first_name, u.last_name"
                " FROM cases_episode e JOIN cases_youngperson y ON y.id = e.young_person_id"
                " JOIN accounts_user u ON u.id = e.therapist_id ORDER BY e.young_person_id,"
                " e.start_date DESC"
            )
            cursor.fetchall()
            cursor.execute(
                "SELECT id, young_person_id, schedule, timepoint, instrument, respondent, status,"
                " completed_on, reason FROM measures_assessment WHERE timepoint <> ''"
            )
            cursor.fetchall()
        best_scan = min(best_scan, time.perf_counter() - began)
    return best_ours, best_scan, rows


def main() -> None:
    import faulthandler

    faulthandler.dump_traceback_later(
        int(os.environ.get("BENCH_WATCHDOG", "0")) or 10**6, exit=True
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rng = random.Random(2026)
    began = time.perf_counter()
    site, research, people, assessments = build_people(args.people, rng)
    print(
        f"Built {len(people)} young people, {assessments} assessments "
        f"in {time.perf_counter() - began:.1f}s"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "attendance.csv"
        write_attendance(path, people, args.rows, rng)
        size = path.stat().st_size / 1e6
        copy_seconds = database_copy(path)
        load_seconds = database_load_into_table(path, site.pk)
        ours, report = our_import(path, site)
        again, report_again = our_import(path, site)
    print(f"\nImport of {report.rows_read:,} attendance rows ({size:.0f} MB CSV)")
    print(f"  PostgreSQL COPY of the file:  {copy_seconds:7.2f}s")
    print(
        f"  database-only load into the real table (COPY + INSERT ... SELECT): {load_seconds:7.2f}s"
    )
    print(
        f"  mstoutcomes import:           {ours:7.2f}s  added {report.rows_added:,}"
        f"  ratio {ours / copy_seconds:.2f}x to bare COPY (target <= 3x),"
        f" {ours / load_seconds:.2f}x to the database-only load"
    )
    print(
        f"  re-import of the same file:   {again:7.2f}s  added {report_again.rows_added:,},"
        f" updated {report_again.rows_updated:,}, unchanged {report_again.rows_unchanged:,}"
        f"  ratio {again / copy_seconds:.2f}x"
    )
    ours_list, scan, rows = worklist_vs_scan(research)
    print(f"\nDue-work list for {len(people):,} young people ({rows:,} rows due or overdue)")
    print(f"  plain SQL scan of the same tables: {scan:6.3f}s")
    print(f"  research worklist:                 {ours_list:6.3f}s  ratio {ours_list / scan:.1f}x")


if __name__ == "__main__":
    main()
