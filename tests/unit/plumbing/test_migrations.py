from __future__ import annotations

from pathlib import Path

import pytest

from services.plumbing.db import migration_files

pytestmark = pytest.mark.unit
SERVICES = Path(__file__).resolve().parents[3] / "services"


@pytest.mark.parametrize("service", ["plumbing", "intake", "verification", "evaluations", "enforcement"])
def test_every_service_has_gapless_numbered_migrations(service: str) -> None:
    files = migration_files(SERVICES / service / "migrations")
    assert files and files[0][0] == 1


def test_a_gap_in_the_numbers_is_refused(tmp_path: Path) -> None:
    (tmp_path / "001_a.sql").write_text("")
    (tmp_path / "003_c.sql").write_text("")
    with pytest.raises(ValueError, match="without gaps"):
        migration_files(tmp_path)


def test_a_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1-init.sql").write_text("")
    with pytest.raises(ValueError, match="NNN_lower_snake"):
        migration_files(tmp_path)
