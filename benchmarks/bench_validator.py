"""Validator throughput: Tekton documents checked per second, for growing trees.

For each N, writes N Tekton documents (a third
each Tasks, Pipelines over them, and PipelineRuns; one document per file, like
a real repository) into a scratch tree and times `validate_tree` on it, best of
RUNS. The target is 2,000 documents per second or more, growing linearly.
Usage: python benchmarks/bench_validator.py [N ...]
"""

import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

SIZES = [int(n) for n in sys.argv[1:]] or [10, 100, 1000, 10000]
RUNS = 3

TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: task-{i}
  labels:
    app.kubernetes.io/version: "0.1"
spec:
  description: Step {i} of the benchmark pipeline.
  params:
    - name: message
      type: string
      description: What to write.
    - name: level
      type: string
      default: "info"
  workspaces:
    - name: output
      description: Where to write.
  results:
    - name: digest
      description: A digest of what was written.
  stepTemplate:
    securityContext:
      runAsNonRoot: true
      runAsUser: 65532
      allowPrivilegeEscalation: false
  steps:
    - name: write
      image: registry.example.com/tools:1.2.{i}
      env:
        - name: MESSAGE
          value: $(params.message)
        - name: LEVEL
          value: $(params.level)
        - name: OUTPUT
          value: $(workspaces.output.path)
      script: |
        set -eu
        printf '%s %s' "$LEVEL" "$MESSAGE" > "$OUTPUT/out-{i}.txt"
        sha256sum "$OUTPUT/out-{i}.txt" | cut -c1-64 | tr -d '\\n' > "$(results.digest.path)"
"""

PIPELINE = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: pipeline-{i}
spec:
  params:
    - name: message
      type: string
  workspaces:
    - name: shared
  results:
    - name: digest
      value: $(tasks.second.results.digest)
  tasks:
    - name: first
      taskRef:
        name: task-{i}
      params:
        - name: message
          value: $(params.message)
      workspaces:
        - name: output
          workspace: shared
    - name: second
      runAfter: [first]
      taskRef:
        name: task-{i}
      params:
        - name: message
          value: $(tasks.first.results.digest)
      workspaces:
        - name: output
          workspace: shared
"""

PIPELINERUN = """\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: run-{i}-
spec:
  pipelineRef:
    name: pipeline-{i}
  params:
    - name: message
      value: hello {i}
  workspaces:
    - name: shared
      emptyDir: {{}}
"""


def write_tree(root: Path, documents: int) -> None:
    kinds = [("tasks", TASK), ("pipelines", PIPELINE), ("runs", PIPELINERUN)]
    for n in range(documents):
        folder, text = kinds[n % 3]
        path = root / "tekton" / folder / f"{folder}-{n // 3}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(i=n // 3))


def main() -> list[tuple[str, str]]:
    rows = []
    scratch = Path(tempfile.mkdtemp())
    try:
        checks = importlib.import_module("mlops_validator")
        import yaml

        print(f"PyYAML {yaml.__version__}, libyaml: {getattr(yaml, '__with_libyaml__', False)}")
        print(f"{'documents':>10} {'seconds':>9} {'docs/s':>9} {'findings':>9}")
        for size in SIZES:
            root = scratch / f"tree-{size}"
            write_tree(root, size)
            best = float("inf")
            for _ in range(RUNS):
                started = time.perf_counter()
                findings = checks.validate_tree(root)
                best = min(best, time.perf_counter() - started)
            print(f"{size:>10} {best:>9.3f} {size / best:>9.0f} {len(findings):>9}")
            rows.append((f"validator, {size:,} Tekton documents", f"{size / best:,.0f} docs/s"))
    finally:
        shutil.rmtree(scratch)
    return rows


if __name__ == "__main__":
    main()
