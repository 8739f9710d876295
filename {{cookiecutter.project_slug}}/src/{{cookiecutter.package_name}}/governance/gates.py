"""Gates: compare measured values with the policy's limits, one result per limit."""

from ..governance.policy import Bound, Policy
from ..supply_chain.licences import not_allowed


def _check(gate: str, metric: str, value: float | None, bound: Bound, **extra: object) -> list[dict]:
    """One result for each side (min, max) of `bound`; a value that is missing fails."""
    results = []
    for side, limit in (("min", bound.min), ("max", bound.max)):
        if limit is None:
            continue
        passed = value is not None and (value >= limit if side == "min" else value <= limit)
        results.append(
            {"gate": gate, "metric": metric, "value": value, "limit": limit, "bound": side, "passed": passed}
            | extra
        )
    return results


def performance_gates(metrics: dict, policy: Policy) -> list[dict]:
    """Evaluate's metrics against the profile's performance limits, as policy.yaml changes them."""
    results = []
    for metric, limit in policy.performance_limits().items():
        value = metrics.get(metric)
        results += _check(
            "performance", metric, None if value is None else float(value), limit.bound, source=limit.source
        )
    return results


def fairness_gates(fairness: dict[str, dict], policy: Policy) -> list[dict]:
    """Every sensitive attribute's disparities against its limits (profile, policy.yaml, per attribute)."""
    results = []
    for attribute, assessment in fairness.items():
        for metric, limit in policy.fairness_limits(attribute).items():
            value = assessment["disparities"][metric]
            results += _check(
                "fairness", metric, value, limit.bound, attribute=attribute, source=limit.source
            )
    return results


def robustness_gates(rates: dict, policy: Policy) -> list[dict]:
    """The perturbation test's flip rates against policy.robustness.gates."""
    results = []
    for metric, bound in policy.robustness.gates.items():
        results += _check("robustness", metric, rates.get(metric), bound)
    return results


def data_gate(validation: dict) -> list[dict]:
    """The data passed validate-data's schema (1) or not (0)."""
    valid = 1.0 if validation.get("valid") is True else 0.0
    return _check("data", "schema_valid", valid, Bound(min=1))


def model_card_gate(policy: Policy, data_source: str = "sample") -> list[dict]:
    """No required model card field is empty, and none still holds the template's text.

    The template's text describes the embedded sample, so it is allowed while
    data.source is "sample"; on your own data it fails (warns under minimal).
    """
    missing = policy.model_card.missing(policy.required_card_fields())
    extra = {"detail": "empty: " + ", ".join(missing)} if missing else {}
    results = _check("model_card", "missing_required_fields", float(len(missing)), Bound(max=0), **extra)
    if data_source == "sample":
        return results
    stale = policy.model_card.template_text()
    detail = (
        {"detail": f"still the template's text in policy.yaml model_card: {', '.join(stale)}"}
        if stale
        else {}
    )
    placeholder = _check("model_card", "template_text_fields", float(len(stale)), Bound(max=0), **detail)
    if policy.defaults.template_text == "warn":
        placeholder = [result | {"passed": True, "warning": not result["passed"]} for result in placeholder]
    return results + placeholder


def provenance_gate(statement: dict | None, model_sha256: str, policy: Policy) -> list[dict]:
    """A provenance statement names the model's digest as its subject (when policy requires one),
    and the git commit it was built from (when policy requires that)."""
    if not policy.provenance.required:
        return []
    subjects = (statement or {}).get("subject", [])
    recorded = any(subject.get("digest", {}).get("sha256") == model_sha256 for subject in subjects)
    results = _check("provenance", "model_digest_recorded", 1.0 if recorded else 0.0, Bound(min=1))
    if policy.provenance.source_commit_required:
        dependencies = (statement or {}).get("predicate", {}).get("buildDefinition", {})
        commit = any("gitCommit" in d.get("digest", {}) for d in dependencies.get("resolvedDependencies", []))
        extra = {} if commit else {"detail": "not a git work tree, or no commit yet: commit, then run again"}
        results += _check(
            "provenance", "source_commit_recorded", 1.0 if commit else 0.0, Bound(min=1), **extra
        )
    return results


def licence_gate(sbom: dict, policy: Policy) -> list[dict]:
    """Every distribution in the environment's SBOM has a licence the policy allows."""
    if policy.licences is None:
        return []
    rules = policy.licences
    found = not_allowed(sbom, rules.allowed, tuple(rules.exceptions), rules.allow_unknown)
    extra = {"detail": "not allowed: " + ", ".join(str(f) for f in found)} if found else {}
    return _check("licence", "distributions_not_allowed", float(len(found)), Bound(max=0), **extra)


def regression_gates(
    metrics: dict, fairness: dict[str, dict], champion: dict | None, policy: Policy
) -> list[dict]:
    """The candidate against the champion on the same held-out rows (policy.regression).

    `champion` is {"version", "metrics", "fairness"} measured on the candidate's
    test split, or None when nothing is released yet: that passes, and says so.
    """
    if champion is None:
        return [
            {
                "gate": "regression",
                "metric": "champion",
                "value": None,
                "limit": None,
                "bound": "none",
                "passed": True,
                "detail": "no champion yet: nothing to compare with",
            }
        ]
    version = champion["version"]
    results = []
    for metric, drop in policy.regression.max_drop.items():
        before = champion["metrics"].get(metric)
        after = metrics.get(metric)
        if before is None:
            continue
        limit = round(float(before) - drop, 6)
        results += _check(
            "regression",
            metric,
            None if after is None else float(after),
            Bound(min=limit),
            champion_version=version,
            champion_value=before,
            detail=f"champion {version} = {before:g}, largest allowed drop {drop:g}",
        )
    for attribute, assessment in fairness.items():
        theirs = champion["fairness"].get(attribute, {}).get("disparities", {})
        for metric, widening in policy.regression.max_fairness_widening.items():
            before, after = theirs.get(metric), assessment["disparities"].get(metric)
            if before is None:
                continue
            ratio = metric == "disparate_impact_ratio"  # larger is fairer
            limit = round(before - widening if ratio else before + widening, 6)
            bound = Bound(min=limit) if ratio else Bound(max=limit)
            results += _check(
                "regression",
                metric,
                after,
                bound,
                attribute=attribute,
                champion_version=version,
                champion_value=before,
                detail=f"champion {version} = {before:g}, largest allowed widening {widening:g}",
            )
    return results


def verdict(results: list[dict]) -> str:
    return "pass" if all(result["passed"] for result in results) else "fail"


def describe(result: dict, outcome: str = "failed") -> str:
    """One line a person can act on: gate, attribute, metric, value and limit."""
    where = f" for {result['attribute']}" if result.get("attribute") else ""
    value = "missing" if result["value"] is None else f"{result['value']:g}"
    word = "below the min" if result["bound"] == "min" else "above the max"
    detail = f" ({result['detail']})" if result.get("detail") else ""
    limit = "n/a" if result["limit"] is None else f"{result['limit']:g}"
    return f"{result['gate']} gate {outcome}{where}: {result['metric']} = {value} is {word} {limit}{detail}"
