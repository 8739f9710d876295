"""Watching the model in service: drift, live performance and fairness, and the retrain loop.

`reference` profiles the training data when a release is packaged; `stats`
holds the drift statistics; `inference_log` and `feedback` read what the model
saw and what really happened; `monitor` checks the policy's monitoring gates;
`report` writes monitoring.json and the HTML report; `guard` keeps training off
data this model's own predictions produced.
"""
