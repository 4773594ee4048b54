"""Reference client for accredited evaluation labs of the frontier AI model registry.

    async with LabClient(lab_id="acme-evals", bootstrap_servers="kafka.registry.example:9093",
                         username="lab-acme-evals", password=..., security_protocol="SASL_SSL") as lab:
        await lab.run(evaluate)   # evaluate(request) -> Evaluation(suite_scores={...})

`HttpLabClient` does the same over HTTPS for labs that cannot run a Kafka client.
"""

from .client import Evaluation, LabClient, result_for
from .http import HttpLabClient, HttpLabError

__all__ = ["Evaluation", "HttpLabClient", "HttpLabError", "LabClient", "result_for"]
