"""The governance report as one self-contained HTML page: no script, no network.

Every piece of text goes through html.escape; charts are inline SVG.
"""

from html import escape

CHART_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")
# The browser itself refuses anything but the page's own inline style and SVG.
CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 60rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
.pass { color: #0a6b2d; font-weight: bold; }
.fail { color: #b00020; font-weight: bold; }
figure { display: inline-block; margin: .5rem 1rem .5rem 0; }
figcaption { font-size: .9rem; }
"""


def _number(value: object) -> str:
    return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _status(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def bar_chart(title: str, values: dict[str, float | None]) -> str:
    """A horizontal bar chart of values in [0, 1], one bar per group, as inline SVG."""
    label_width, bar_width, row = 110, 220, 22
    height = row * len(values) + 8
    parts = [
        f'<svg role="img" width="{label_width + bar_width + 60}" height="{height}" '
        f'viewBox="0 0 {label_width + bar_width + 60} {height}"><title>{escape(title)}</title>'
    ]
    for index, (group, value) in enumerate(values.items()):
        y = 4 + index * row
        width = 0 if value is None else max(0.0, min(float(value), 1.0)) * bar_width
        parts += [
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(group)}</text>",
            f'<rect x="{label_width}" y="{y + 2}" width="{width:.1f}" height="{row - 6}" fill="#3f6fb5"/>',
            f'<text x="{label_width + width + 4:.1f}" y="{y + 14}" font-size="12">'
            f"{escape(_number(value))}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def side_by_side(summary: dict) -> str:
    """Candidate and champion on the same held-out rows, metric by metric."""
    champion = summary.get("champion")
    if not champion:
        return "<h2>Candidate and champion</h2><p>No champion yet: nothing to compare with.</p>"
    overall = champion["metrics"]
    rows = [(name, "", value, overall.get(name)) for name, value in summary.get("metrics", {}).items()]
    for attribute, result in summary.get("fairness", {}).items():
        theirs = champion.get("fairness", {}).get(attribute, {}).get("disparities", {})
        rows += [(name, attribute, value, theirs.get(name)) for name, value in result["disparities"].items()]
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(attribute)}</td><td>{escape(_number(mine))}</td>"
        f"<td>{escape(_number(theirs))}</td></tr>"
        for name, attribute, mine, theirs in rows
    )
    return (
        "<h2>Candidate and champion</h2>"
        f"<p>Champion: release <code>{escape(str(champion['version']))}</code>, scored on the candidate's"
        " held-out rows.</p><table><thead><tr><th>metric</th><th>attribute</th>"
        f"<th>candidate</th><th>champion</th></tr></thead><tbody>{body}</tbody></table>"
    )


def render(summary: dict) -> str:
    """The page: verdict, every gate with its value and limit, and charts per group."""
    verdict = summary["verdict"]
    title = f"Governance report: {summary.get('project', '')}".strip()
    rows = "".join(
        "<tr>"
        f"<td>{'warning' if gate.get('warning') else _status(gate['passed'])}</td>"
        f"<td>{escape(gate['gate'])}</td>"
        f"<td>{escape(str(gate.get('attribute') or ''))}</td><td>{escape(gate['metric'])}</td>"
        f"<td>{escape(_number(gate['value']))}</td>"
        f"<td>{escape(gate['bound'])} {escape(_number(gate['limit']))}</td>"
        f"<td>{escape(str(gate.get('source') or ''))}</td>"
        f"<td>{escape(str(gate.get('detail') or ''))}</td>"
        "</tr>"
        for gate in summary["gates"]
    )
    sections = []
    for attribute, result in summary.get("fairness", {}).items():
        groups = result["by_group"]
        charts = "".join(
            f"<figure>{bar_chart(f'{metric} by {attribute}', {g: r[metric] for g, r in groups.items()})}"
            f"<figcaption>{escape(metric.replace('_', ' '))}</figcaption></figure>"
            for metric in CHART_METRICS
        )
        counts = ", ".join(
            f"{escape(g)}: {escape(_number(r['count']))}" for g, r in result["by_group"].items()
        )
        sections.append(f"<h3>By {escape(attribute)}</h3><p>Test rows per group: {counts}</p>{charts}")
    performance = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(_number(value))}</td></tr>"
        for name, value in summary.get("metrics", {}).items()
    )
    explained = ""
    if importance := summary.get("feature_importance"):
        drops = {name: row["mean"] for name, row in importance["features"].items()}
        chart = bar_chart(f"drop in {importance['metric']} when each input is shuffled", drops)
        explained = (
            f"<h2>Explainability</h2><p>{escape(importance['method'])}: drop in "
            f"{escape(importance['metric'])} when each input is shuffled "
            f"({importance['repeats']} repeats).</p>"
            f"<figure>{chart}<figcaption>feature importance</figcaption></figure>"
        )
    if flips := summary.get("robustness"):
        explained += (
            "<h2>Robustness</h2><table><tbody>"
            + "".join(
                f"<tr><td>{escape(key.replace('_', ' '))}</td><td>{escape(_number(flips[key]))}</td></tr>"
                for key in ("noise_scale", "noise_flip_rate", "unseen_category_flip_rate")
            )
            + "</tbody></table>"
        )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">{CSP}'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Verdict: {_status(verdict == 'pass')} under policy version "
        f"{escape(str(summary['policy_version']))} (profile {escape(str(summary.get('profile', '')))}). "
        f"Model sha256: <code>{escape(str(summary.get('model_sha256', '')))}</code></p>"
        "<h2>Gates</h2><table><thead><tr><th>result</th><th>gate</th><th>attribute</th>"
        "<th>metric</th><th>value</th><th>limit</th><th>limit from</th><th>detail</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<h2>Performance</h2><table><tbody>{performance}</tbody></table>"
        f"{explained}{side_by_side(summary)}"
        f"<h2>Metrics by group</h2>{''.join(sections)}"
        "</body></html>\n"
    )
