"""Every rule, in one place: the checks to run and the rule ids they report."""

from ..checks import governance, kubernetes, references, security, syntax, tekton

RULES = (
    syntax.python_compiles,
    kubernetes.kubernetes_types,
    kubernetes.kubernetes_names,
    tekton.tekton_references,
    security.security,
    governance.governance_policy,
    references.references,
)

# rule id -> what it catches; docs/validation-rules.md explains each one.
RULE_IDS = {
    **syntax.RULE_IDS,
    **kubernetes.RULE_IDS,
    **tekton.RULE_IDS,
    **security.RULE_IDS,
    **governance.RULE_IDS,
    **references.RULE_IDS,
}
