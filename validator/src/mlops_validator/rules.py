"""Every rule, in one place: the checks to run and the rule ids they report."""

from . import governance, hardening, kserve, kubernetes, references, security, suppressions, syntax, tekton

RULES = (
    syntax.python_compiles,
    kubernetes.kubernetes_types,
    kubernetes.kubernetes_names,
    tekton.tekton_references,
    security.security,
    kserve.kserve,
    hardening.hardening,
    governance.governance_policy,
    references.references,
)

# rule id -> what it catches; validator/RULES.md explains each one.
RULE_IDS = {
    **syntax.RULE_IDS,
    **kubernetes.RULE_IDS,
    **tekton.RULE_IDS,
    **security.RULE_IDS,
    **kserve.RULE_IDS,
    **hardening.RULE_IDS,
    **governance.RULE_IDS,
    **references.RULE_IDS,
    **suppressions.RULE_IDS,
}
