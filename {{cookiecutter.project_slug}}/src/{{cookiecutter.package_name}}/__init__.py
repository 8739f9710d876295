"""{{ cookiecutter.project_name | escaped }}: ML steps, pipelines, lineage and governance.

Kept import-free: importing a module of the package (the repository validator
imports governance/policy.py to check the policy file) pulls in only what that
module needs.
"""

__version__ = "0.1.0"
