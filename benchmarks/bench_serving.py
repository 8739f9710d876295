"""Serving: cold start, latency (p50/p99) and throughput of `serve` for 1 and 1,000 rows a request.

Bakes the default project, runs its pipeline once, then starts `<cli> serve`
as a user does (a separate process, `--port 0`) and times:
- cold start: from process start to the first 200 on /v2/health/ready (median of 3);
- per request size, REQUESTS sequential v2 infer calls over one keep-alive
  connection: p50 and p99 latency, and rows per second.
The inference log is on (as in service): its writes are part of every request.
Usage: python benchmarks/bench_serving.py [REQUESTS]
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
STARTS = 3


def start(project: Path, env: dict) -> tuple[subprocess.Popen, str, float]:
    """`serve --port 0`; returns the process, its host:port and seconds until ready."""
    package = project.name.replace("-", "_")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", package, "serve", "--port", "0"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    address = None
    while address is None:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("serve exited before it was ready")
        if "http://" in line:
            address = line.split("http://", 1)[1].split("/", 1)[0]
    while True:
        try:
            connection = http.client.HTTPConnection(address, timeout=10)
            connection.request("GET", "/v2/health/ready")
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.01)
    return process, address, time.perf_counter() - started


def request_body(project: Path, rows: int) -> bytes:
    releases = project / "artifacts/releases"
    version = json.loads((releases / "champion.json").read_text())["version"]
    signature = json.loads((releases / version / "signature.json").read_text())
    header, *lines = (project / "artifacts/data/raw.csv").read_text().splitlines()
    columns = header.split(",")
    table = [dict(zip(columns, line.split(","), strict=True)) for line in lines[:rows]]
    inputs = []
    for spec in signature["inputs"]:
        values = [row[spec["name"]] for row in table]
        if spec["datatype"] != "BYTES":
            values = [float(v) for v in values]
        inputs.append({"name": spec["name"], "shape": [rows], "datatype": spec["datatype"], "data": values})
    return json.dumps({"inputs": inputs}).encode()


def latencies(address: str, body: bytes, model: str) -> list[float]:
    connection = http.client.HTTPConnection(address, timeout=60)
    headers = {"Content-Type": "application/json"}
    times = []
    for _ in range(REQUESTS + 5):
        started = time.perf_counter()
        connection.request("POST", f"/v2/models/{model}/infer", body, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append(time.perf_counter() - started)
    return times[5:]  # the first few warm caches


def main() -> list[tuple[str, str]]:
    scratch = Path(tempfile.mkdtemp())
    rows_out = []
    try:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch)))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENLINEAGE", "MLFLOW_"))}
        env["PYTHONPATH"] = str(project / "src")
        package = project.name.replace("-", "_")
        subprocess.run(
            [sys.executable, "-m", package, "run"], cwd=project, env=env, check=True, capture_output=True
        )
        colds = []
        for _ in range(STARTS):
            process, address, seconds = start(project, env)
            colds.append(seconds)
            process.terminate()
            process.wait()
        rows_out.append(
            (f"serve cold start to ready, median of {STARTS}", f"{statistics.median(colds):.2f} s")
        )
        process, address, _ = start(project, env)
        try:
            for rows in (1, 1000):
                times = sorted(latencies(address, request_body(project, rows), project.name))
                p50 = times[len(times) // 2] * 1000
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
                throughput = rows * len(times) / sum(times)
                rows_out.append(
                    (
                        f"serve {rows:,} row(s)/request, {REQUESTS} requests",
                        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {throughput:,.0f} rows/s",
                    )
                )
        finally:
            process.terminate()
            process.wait()
    finally:
        shutil.rmtree(scratch)
    return rows_out


if __name__ == "__main__":
    for name, value in main():
        print(f"{name:<45} {value}")
