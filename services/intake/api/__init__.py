"""Intake's HTTP API: filings in, records and signed standing out."""

from fastapi import APIRouter, Depends

from . import designations, filings, public, records, registrations
from .common import refuse_nul_in_url

router = APIRouter(prefix="/v1", dependencies=[Depends(refuse_nul_in_url)])
router.include_router(registrations.router)
router.include_router(filings.router)
router.include_router(designations.router)
router.include_router(records.router)
router.include_router(public.router)

__all__ = ["router"]
