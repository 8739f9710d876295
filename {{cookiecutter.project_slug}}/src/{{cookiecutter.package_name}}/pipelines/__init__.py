"""Orchestrators over the same steps: local runner, Kubeflow Pipelines."""
