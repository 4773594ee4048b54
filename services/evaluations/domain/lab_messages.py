"""What a lab is told about a request: a redacted projection, never the developer's confidential fields.

The lab needs the model's public identity, the domain, the suites with their scales and the deadline. It
never sees compute, parameters, training data, affiliations, thresholds (so scores cannot be tuned to
them) or other labs' assignments.
"""

from __future__ import annotations

from registry_contracts.events.evaluations import EvaluationRequested, RequestedSuite

from .catalogue import LabInput
from .requests import EvaluationRequest

# The only payload fields a lab ever receives; a test pins this set so a new field is a conscious choice.
LAB_VISIBLE_FIELDS = frozenset(
    {"request_id", "registry_id", "version", "model_name", "developer_legal_name", "domain", "suite_ids",
     "deadline", "access_instructions", "suites"}
)  # fmt: skip


def access_instructions(request: EvaluationRequest) -> str:
    """One paragraph telling the lab what the developer must provide and how access is arranged."""
    inputs: list[LabInput] = []
    for suite in request.suites:
        inputs += [i for i in suite.required_inputs if i not in inputs]
    needs = "; ".join(f"{i.value}: {i.description}" for i in inputs)
    return (
        f"The developer must provide, for {request.registry_id} version {request.model_version} exactly: {needs}. "
        "The agency's evaluation desk arranges access with the developer and sends credentials out of band; "
        "they never travel on Kafka. Report refused or withheld access as a result with access_refused=true."
    )


def lab_request_message(request: EvaluationRequest) -> EvaluationRequested:
    """The EvaluationRequested event for the request's assigned lab (its own topic only)."""
    return EvaluationRequested(
        request_id=request.request_id,
        registry_id=request.registry_id,
        version=request.model_version,
        model_name=request.model_name or request.registry_id,
        developer_legal_name=request.developer,
        domain=request.domain,
        suite_ids=list(request.suite_ids),
        deadline=request.deadline,
        access_instructions=access_instructions(request),
        suites=[
            RequestedSuite(
                suite_id=s.id,
                version=s.version,
                name=s.name,
                score_description=s.score_description,
                score_min=s.score_min,
                score_max=s.score_max,
                required_inputs=[i.value for i in s.required_inputs],
            )
            for s in request.suites
        ],
    )
