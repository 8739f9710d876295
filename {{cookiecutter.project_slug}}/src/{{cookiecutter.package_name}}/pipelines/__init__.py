"""Orchestrators over the same steps: the local runner{% if cookiecutter.orchestrators != "tekton" %}, Kubeflow Pipelines{% endif %}."""
