"""governance/policy.yaml is well formed (the same shape the policy loader expects).

Only the sections this validator knows are checked strictly; other top-level
sections (such as `gates`) need only be a mapping or a list.
"""

from ..checks.findings import Finding
from ..checks.loader import Tree, line_of, value_line

RULE_IDS = {
    "GOV-POLICY": "governance/policy.yaml is malformed (version, profile, data schema)",
}

POLICY = "governance/policy.yaml"
PROFILES = ("standard", "strict", "minimal")
DTYPES = ("int", "float", "str")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _columns(columns, add) -> None:
    if not isinstance(columns, dict) or not columns:
        add(line_of(columns), "data.columns must map each column name to its rule")
        return
    for name, rule in columns.items():
        where = f"column {name!r}"
        if not isinstance(rule, dict):
            add(line_of(columns, name), f"{where}: needs a mapping with a dtype")
            continue
        dtype = rule.get("dtype")
        if dtype not in DTYPES:
            add(value_line(rule, "dtype"), f"{where}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        for bound in ("min", "max"):
            if bound in rule and rule[bound] is not None and not _number(rule[bound]):
                add(line_of(rule, bound), f"{where}: {bound} must be a number")
        if _number(rule.get("min")) and _number(rule.get("max")) and rule["min"] > rule["max"]:
            add(line_of(rule, "min"), f"{where}: min {rule['min']} is above max {rule['max']}")
        allowed = rule.get("allowed")
        if "allowed" in rule and allowed is not None and (not isinstance(allowed, list) or not allowed):
            add(line_of(rule, "allowed"), f"{where}: allowed must be a non-empty list")
        if "nullable" in rule and not isinstance(rule["nullable"], bool):
            add(line_of(rule, "nullable"), f"{where}: nullable must be true or false")


def governance_policy(tree: Tree):
    """GOV-POLICY: the governance policy has a version, a known profile and a typed data schema."""
    documents = [document for document in tree.documents if document.path == POLICY]
    if not documents:
        return []
    findings: list[Finding] = []

    def add(line: int, message: str) -> None:
        findings.append(Finding(POLICY, line or 1, "GOV-POLICY", message))

    policy = documents[0].data
    if len(documents) > 1:
        add(1, "the policy must be a single YAML document")
    if not isinstance(policy, dict):
        add(line_of(policy), "the policy must be a mapping with version, profile and data")
        return findings
    version = policy.get("version")
    if not isinstance(version, str) or not version:
        where = line_of(policy, "version") if "version" in policy else line_of(policy)
        add(where, 'version must be a non-empty string (quote it: version: "1.0.0")')
    profile = policy.get("profile")
    if profile not in PROFILES:
        where = value_line(policy, "profile") if "profile" in policy else line_of(policy)
        add(where, f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    data = policy.get("data")
    if not isinstance(data, dict):
        add(
            line_of(policy, "data") if "data" in policy else line_of(policy),
            "data must be a mapping with columns",
        )
    else:
        min_rows = data.get("min_rows", 1)
        if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 1:
            add(line_of(data, "min_rows"), "data.min_rows must be a whole number of 1 or more")
        if "columns" in data:
            _columns(data.get("columns"), add)
        else:
            add(line_of(data), "data needs columns")
    for key, value in policy.items():
        if key not in ("version", "profile", "data") and not isinstance(value, (dict, list)):
            add(line_of(policy, key), f"section {key!r} must be a mapping or a list")
    return findings
