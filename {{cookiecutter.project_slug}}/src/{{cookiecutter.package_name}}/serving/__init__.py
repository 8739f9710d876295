"""Serving: the released model behind the Open Inference Protocol v2 (REST), locally and on KServe.

One small server (`server.py`, standard library only) runs both on a laptop
(`serve`) and as the KServe InferenceService's predictor container, so a
client written for one works unchanged against the other. `protocol.py`
turns v2 requests into rows and predictions into v2 responses,
`inference_log.py` keeps every row predicted, and `cut_out.py` is the
emergency switch.
"""

from ..project import SLUG

# The name clients use in /v2/models/<name>/infer, here and on the cluster.
MODEL_NAME = SLUG
