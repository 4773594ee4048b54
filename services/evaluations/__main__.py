"""`python -m services.evaluations` runs the evaluations service (settings from the environment)."""

from services.plumbing.service import run_service

from .app import create_app
from .settings import EvaluationsSettings

settings = EvaluationsSettings.from_env()
run_service(create_app(settings), settings)
