"""OpenLineage for every step run, whoever orchestrates it.

config: where events go (openlineage.yml and OPENLINEAGE_* variables);
facets: what the events say; runs: the step and pipeline runs themselves.
"""

from .config import destination, make_client, namespace, transport_config
from .facets import DATASET_NAMESPACE, GOVERNANCE_FACET, dataset_name
from .runs import PIPELINE_JOB, Emitter, as_run_id, pipeline_run, step_run

__all__ = [
    "DATASET_NAMESPACE",
    "GOVERNANCE_FACET",
    "PIPELINE_JOB",
    "Emitter",
    "as_run_id",
    "dataset_name",
    "destination",
    "make_client",
    "namespace",
    "pipeline_run",
    "step_run",
    "transport_config",
]
