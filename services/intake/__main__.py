"""`python -m services.intake` runs the intake service (settings from the environment)."""

from services.plumbing.service import run_service

from .app import create_app
from .settings import IntakeSettings

settings = IntakeSettings.from_env()
run_service(create_app(settings), settings)
