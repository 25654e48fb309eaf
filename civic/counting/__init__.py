"""Vote counting for participatory budgeting: Pabulib files, greedy and MES.

Pure Python (numpy optional, for speed): imports neither Flask nor SQLAlchemy.
"""

from civic.counting.api import Outcome, ProjectResult, count
from civic.counting.model import (
    Ballot,
    CountingError,
    Instance,
    PabulibError,
    Profile,
    Project,
    approval_profile,
    make_instance,
)
from civic.counting.pabulib import (
    format_pabulib,
    parse_pabulib,
    read_pabulib,
    write_pabulib,
)

__all__ = [
    "Ballot",
    "CountingError",
    "Instance",
    "Outcome",
    "PabulibError",
    "Profile",
    "Project",
    "ProjectResult",
    "approval_profile",
    "count",
    "format_pabulib",
    "make_instance",
    "parse_pabulib",
    "read_pabulib",
    "write_pabulib",
]
