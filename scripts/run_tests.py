"""Run the checks and the whole suite on SQLite, then on PostgreSQL; fail if anything fails.

PostgreSQL is used when DATABASE_URL names it, or when a server answers on 127.0.0.1:5432
(then postgres://postgres@127.0.0.1:5432/mstoutcomes; the test database is test_mstoutcomes).
Extra arguments are passed to pytest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCAL_PG = "postgres://postgres@127.0.0.1:5432/mstoutcomes"


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def _run(label: str, command: list[str], env: dict[str, str]) -> int:
    print(f"\n=== {label}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, cwd=ROOT, env=env)
    print(f"=== {label}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def main(argv: list[str]) -> int:
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    configured = os.environ.get("DATABASE_URL", "")
    results: dict[str, int] = {}

    results["ruff"] = _run("ruff", [str(BIN / "ruff"), "check", "."], base_env)
    results["ruff format"] = _run(
        "ruff format", [str(BIN / "ruff"), "format", "--check", "."], base_env
    )
    results["mypy"] = _run("mypy", [str(BIN / "mypy")], base_env)
    # The floors of docs/architecture.md: no app imports one above it ([tool.importlinter]).
    results["import-linter"] = _run("import-linter", [str(BIN / "lint-imports")], base_env)

    reports = ROOT / "var" / "test-reports"
    reports.mkdir(parents=True, exist_ok=True)
    for stale in reports.glob("*.xml"):
        stale.unlink()

    def pytest(name: str) -> list[str]:
        return [str(BIN / "python"), "-m", "pytest", f"--junitxml={reports / name}.xml", *argv]

    results["pytest on SQLite"] = _run("pytest on SQLite", pytest("sqlite"), base_env)

    if configured.startswith(("postgres://", "postgresql://")):
        pg_url = configured
    elif _postgres_answers():
        pg_url = LOCAL_PG
    else:
        pg_url = ""
        print("\n=== PostgreSQL: none configured and none answers on 127.0.0.1:5432; skipped")
    if pg_url:
        results["pytest on PostgreSQL"] = _run(
            "pytest on PostgreSQL", pytest("postgresql"), {**base_env, "DATABASE_URL": pg_url}
        )

    print("\n=== Summary")
    for label, code in results.items():
        # pytest exits 5 when it collected no tests: that is a failure here.
        print(f"  {label:<22} {'ok' if code == 0 else f'FAILED (exit {code})'}")
    passed, failed, skipped = _totals(reports, ["sqlite", "postgresql"] if pg_url else ["sqlite"])
    # One plain closing line over both databases, for people and for CI.
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    ok = all(code == 0 for code in results.values()) and passed > 0 and failed == 0
    return 0 if ok else 1


def _totals(reports: Path, names: list[str]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for name in names:
        path = reports / f"{name}.xml"
        if not path.exists():
            failed += 1  # the run did not finish
            continue
        for suite in ET.parse(path).getroot().iter("testsuite"):
            total, skip = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            passed += total - skip - bad
            failed += bad
            skipped += skip
    return passed, failed, skipped


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
