"""Benchmark the full analysis plan on a synthetic national trial, against R in the same command.

    .venv/bin/python bench/analysis_bench.py [--participants 10000] [--m 20] [--keep DIR]
        [--blas-threads N]

Builds 10,000 participants at 40 sites with 4 follow-up timepoints and ~100,000 offence events,
runs every outcome type with multiple imputation (m = 20) through mstoutcomes.analysis, then
runs bench/analysis_bench.R (the same models with mice, lme4, MASS and survival) on the same
files. Prints both times, their ratio (ours / R) and our peak memory (max RSS). Target: a ratio
of at most 1 and under 2 GB. Without Rscript on PATH it says so and reports our figures only.

Our models work on tall, narrow matrices (10,000 × ~45), where threaded BLAS gains nothing and,
on a machine busy with other work, loses a lot to oversubscription; R's reference BLAS is
single-threaded. ``--blas-threads 1`` sets ``OPENBLAS_NUM_THREADS`` (and the OpenMP/MKL
equivalents) before numpy loads, as a deployment would for analysis workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the analysis plan against R.")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--m", type=int, default=20)
    parser.add_argument("--keep", help="Keep the dataset in this directory.")
    parser.add_argument("--blas-threads", type=int, help="Threads for BLAS (default: its own).")
    args = parser.parse_args()
    if args.blas_threads:
        # Only read when numpy first loads, which is below.
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.blas_threads)

    from mstoutcomes.analysis.contract import load_dataset
    from mstoutcomes.analysis.runner import run_plan
    from mstoutcomes.analysis.synthetic import write_trial_example

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="analysis-bench-"))
    data = write_trial_example(
        root / "data",
        n=args.participants,
        seed=2026,
        m=args.m,
        iterations=10,
        sites=args.sites,
        offence_rate=3.9,
    )
    events = sum(1 for _ in (data / "events.csv").open()) - 1
    print(
        f"Dataset: {args.participants} participants, {args.sites} sites, {events} events, "
        f"m = {args.m}, BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}"
    )

    started = time.perf_counter()
    dataset = load_dataset(data)
    results = run_plan(dataset, progress=lambda message: print(f"  {message}", flush=True))
    ours = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    failed = [n for o in results.outcomes for n in o.notes if "not estimated" in n]
    print(f"mstoutcomes.analysis: {ours:.1f} s, peak memory {peak_mb:.0f} MB {failed or ''}")

    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R: Rscript is not installed here, so there is no ratio; our figures are above.")
    else:
        started = time.perf_counter()
        subprocess.run(
            [rscript, str(HERE / "analysis_bench.R"), str(data), str(args.m)], check=True
        )
        theirs = time.perf_counter() - started
        print(f"R: {theirs:.1f} s")
        print(f"Ratio (ours / R): {ours / theirs:.2f} (target <= 1)")
    print(f"Peak memory under 2 GB: {'yes' if peak_mb < 2048 else 'NO'}")
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
