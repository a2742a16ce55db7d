"""A static mirror of an old government site (as `wget --mirror` leaves it) and a mapping file
become an import bundle in `jiyue import`'s JSON Lines format (docs/import-mirror.md).

Pure library: reads files, writes files, no HTTP and no database.
"""

from services.content.service.mirror.convert import ITEMS, REPORT, convert_mirror
from services.content.service.mirror.mapping import Mapping, load_mapping
from services.content.service.mirror.report import Outcome, Report, SkipReason

__all__ = ["ITEMS", "REPORT", "Mapping", "Outcome", "Report", "SkipReason", "convert_mirror", "load_mapping"]
