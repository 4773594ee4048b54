"""`python -m services.enforcement` runs the enforcement service (settings from the environment)."""

from services.plumbing.service import run_service

from .app import create_app
from .settings import EnforcementSettings

settings = EnforcementSettings.from_env()
run_service(create_app(settings), settings)
