"""`python -m registry_labclient`: run a demonstration lab that answers every request with fixed scores.

A real lab replaces `demo_evaluator` with its own harness; the Kafka plumbing stays the same.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from registry_contracts.events.evaluations import EvaluationRequested

from .client import Evaluation, Evaluator, LabClient


def demo_evaluator(position: float) -> Evaluator:
    """Scores every suite at `position` of its scale (0 = score_min, 1 = score_max)."""

    async def evaluate(request: EvaluationRequested) -> Evaluation:
        scores = {s.suite_id: s.score_min + position * (s.score_max - s.score_min) for s in request.suites}
        logging.info("answering %s (%s, %s v%d)", request.request_id, request.domain, request.registry_id,
                     request.version)  # fmt: skip
        return Evaluation(suite_scores=scores, notes="demonstration scores, not a real evaluation")

    return evaluate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lab-id", required=True)
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument("--security-protocol", default=os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"))
    parser.add_argument("--username", default=os.environ.get("LAB_KAFKA_USERNAME"))
    parser.add_argument("--position", type=float, default=0.0, help="demo score position on each scale, 0..1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def serve() -> None:
        async with LabClient(
            lab_id=args.lab_id,
            bootstrap_servers=args.bootstrap_servers,
            username=args.username,
            password=os.environ.get("LAB_KAFKA_PASSWORD"),  # never on the command line
            security_protocol=args.security_protocol,
        ) as lab:
            await lab.run(demo_evaluator(args.position))

    asyncio.run(serve())


if __name__ == "__main__":
    main()
