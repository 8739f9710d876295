"""monitoring.json, the run history and a self-contained HTML report (inline SVG, no scripts or links)."""

import json
from html import escape
from pathlib import Path

from ..files import atomic_path, write_json
from ..governance import gates as gate_text

REPORT_JSON = "monitoring.json"
REPORT_HTML = "monitoring.html"
HISTORY = "history.jsonl"
CHARTED = 6  # columns charted: the failing ones first, then by PSI
STYLE = """\
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
tr.bad td{background:#fde8e8}.verdict{font-size:1.4rem}
figure{display:inline-block;margin:.5rem 1rem .5rem 0}figcaption{font-size:.9rem}
rect.ref{fill:#9bb7d4}rect.cur{fill:#d98c5f}text{font-size:9px}
circle.ok{fill:#3a7d44}circle.bad{fill:#c0392b}
"""


def history_entry(report: dict) -> dict:
    """The figures the trend chart needs from one run."""
    drift = [c["psi"] for c in report["columns"].values() if c.get("psi") is not None]
    return {
        "time": report["time"],
        "verdict": report["verdict"],
        "rows": report["rows"],
        "max_psi": max(drift) if drift else None,
        "failed": sorted({g["gate"] for g in report["gates"] if not g["passed"]}),
        "performance": report.get("performance", {}),
    }


def read_history(folder: Path) -> list[dict]:
    path = Path(folder) / HISTORY
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a killed run
    return entries


def write(report: dict, folder: Path) -> tuple[Path, Path]:
    """Write monitoring.json and monitoring.html into `folder`; append the run to the history."""
    folder = Path(folder)
    history = [*read_history(folder), history_entry(report)]
    with atomic_path(folder / HISTORY) as tmp:
        tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in history), encoding="utf-8")
    json_path = write_json(folder / REPORT_JSON, report)
    html_path = folder / REPORT_HTML
    with atomic_path(html_path) as tmp:
        tmp.write_text(render(report, history), encoding="utf-8")
    return json_path, html_path


def _bars(column: str, shown: dict) -> str:
    """Reference and current share per bin, side by side."""
    bins, ref, cur = shown["bins"], shown["reference"], shown["current"]
    width, height, pad = max(320, 46 * len(bins)), 150, 22
    top = max([*ref, *cur, 0.01])
    step = (width - 2 * pad) / max(len(bins), 1)
    parts = []
    for i, (label, r, c) in enumerate(zip(bins, ref, cur, strict=False)):
        x = pad + i * step
        for offset, value, css in ((0.1, r, "ref"), (0.5, c, "cur")):
            h = (height - 2 * pad) * value / top
            parts.append(
                f'<rect class="{css}" x="{x + offset * step:.1f}" y="{height - pad - h:.1f}" '
                f'width="{0.38 * step:.1f}" height="{h:.1f}">'
                f"<title>{escape(str(label))}: {value:.3f}</title></rect>"
            )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle">'
            f"{escape(str(label)[:12])}</text>"
        )
    title = f"{column}: PSI {shown.get('psi')}, {shown.get('test')} p = {shown.get('p_value')}"
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        + "".join(parts)
        + "</svg></figure>"
    )


def _trend(history: list[dict]) -> str:
    points = [(i, e["max_psi"]) for i, e in enumerate(history) if e.get("max_psi") is not None]
    if len(points) < 2:
        return "<p>The trend appears after the second monitoring run.</p>"
    width, height, pad = 480, 140, 24
    top = max(max(v for _, v in points), 0.25)
    last = max(len(history) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{pad + (width - 2 * pad) * i / last:.1f},{height - pad - (height - 2 * pad) * v / top:.1f}"

    dots = "".join(
        f'<circle class="{"bad" if history[i]["verdict"] == "fail" else "ok"}" cx="{xy(i, v).split(",")[0]}" '
        f'cy="{xy(i, v).split(",")[1]}" r="4"><title>{escape(history[i]["time"])}: max PSI {v:g}, '
        f"{escape(history[i]['verdict'])}</title></circle>"
        for i, v in points
    )
    line = " ".join(xy(i, v) for i, v in points)
    return (
        f'<svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f'<polyline points="{line}" fill="none" stroke="#555"/>{dots}</svg>'
        f"<p>Largest PSI of any column, per monitoring run ({len(history)} runs; red: failed).</p>"
    )


def render(report: dict, history: list[dict]) -> str:
    """The HTML report: verdict, gate table, charts of the shifted columns, trend."""
    failing = {g["attribute"] for g in report["gates"] if not g["passed"] and g.get("attribute")}
    ranked = sorted(
        report["columns"].items(), key=lambda item: (item[0] not in failing, -(item[1].get("psi") or 0))
    )
    rows = "".join(
        f'<tr class="{"ok" if g["passed"] else "bad"}"><td>{escape(g["gate"])}</td>'
        f"<td>{escape(str(g.get('attribute') or ''))}</td><td>{escape(g['metric'])}</td>"
        f"<td>{escape(str(g['value']))}</td><td>{escape(g['bound'])} {g['limit']:g}</td>"
        f"<td>{escape(str(g.get('detail') or ''))}</td><td>{'pass' if g['passed'] else 'FAIL'}</td></tr>"
        for g in report["gates"]
    )
    failed = "".join(f"<li>{escape(gate_text.describe(g))}</li>" for g in report["gates"] if not g["passed"])
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.get("notes", []))
    charts = "".join(_bars(name, shown) for name, shown in ranked[:CHARTED])
    inputs = escape(f"{report['source']['kind']} {report['source']['path']}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monitoring: {escape(report["verdict"])}</title>
<style>
{STYLE}</style></head><body>
<h1>Monitoring report</h1>
<p class="verdict">Verdict: <strong>{escape(report["verdict"])}</strong></p>
<p>{report["rows"]} rows from {inputs} ({report["labelled_rows"]} labelled), model
{escape(", ".join(report["model_versions"]) or "unknown")}, reference {escape(report["reference"])},
policy {escape(str(report["policy_version"]))}, at {escape(report["time"])}.</p>
{f"<h2>Failed gates</h2><ul>{failed}</ul>" if failed else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Shifted distributions</h2>
<p>Blue: training reference; orange: this window.</p>
{charts}
<h2>Gates</h2>
<table><tr><th>gate</th><th>column or attribute</th><th>statistic</th><th>value</th><th>limit</th>
<th>detail</th><th>result</th></tr>{rows}</table>
<h2>Trend</h2>
{_trend(history)}
</body></html>
"""
