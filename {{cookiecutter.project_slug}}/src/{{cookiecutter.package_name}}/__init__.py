"""{{ cookiecutter.project_name | escaped }}: ML steps, pipelines, lineage and governance.

Kept import-free so `checks` (the repository validator) loads with only the
standard library and PyYAML, as the cookiecutter hook needs.
"""

__version__ = "0.1.0"
