"""`python -m services.verification` runs the verification service (settings from the environment)."""

from services.plumbing.service import run_service

from .app import create_app
from .settings import VerificationSettings

settings = VerificationSettings.from_env()
run_service(create_app(settings), settings)
