"""Who this project is: the names baked in from the template's answers, in one place."""

SLUG = "{{ cookiecutter.project_slug }}"  # the repository, the CLI command, Kubernetes names
PACKAGE = __package__ or SLUG.replace("-", "_")
IMAGE = "{{ cookiecutter.image }}"  # the one image every orchestrator runs
ENV_PREFIX = PACKAGE.upper()  # of the environment variables this project reads
