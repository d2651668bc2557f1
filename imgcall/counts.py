"""`RunCounts`: the running totals of a run's records, for the command line's summary.

`imgcall.records.SaveReport` keeps every record; ``imgcall extract`` and ``imgcall ls``
only count them as they stream past (`imgcall._exitcodes.Tally`), so a run of any size
takes constant memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._slotted import Slotted

if TYPE_CHECKING:
    from .records import ItemRecord

__all__ = ["RunCounts"]


class RunCounts(Slotted):
    """Running totals of a run's records, for a summary without keeping every record.

    `SaveReport` keeps the records themselves; ``imgcall extract`` and ``imgcall ls``
    count them as they stream past, so a run of any size takes constant memory.
    ``records`` counts every record, inputs that could not be read included; ``items``
    the items found (records with an ``index``); ``existing`` the images whose
    identical file was there before the run; ``problems`` the records with an error
    (failed items, unreadable inputs, manifest failures); ``converted`` the images
    re-encoded, ``provenance_lost`` those of them whose original carried C2PA;
    ``manifest_failed`` that the manifest could not be written; ``duplicates`` the
    images identical to one an earlier item of the run saved under the same name.
    """

    __slots__ = (
        "converted",
        "duplicates",
        "existing",
        "found",
        "items",
        "manifest_failed",
        "overwritten",
        "problems",
        "provenance_lost",
        "records",
        "saved",
        "skipped",
    )
    __match_args__ = (
        "records",
        "items",
        "saved",
        "overwritten",
        "existing",
        "skipped",
        "found",
        "problems",
        "converted",
        "provenance_lost",
        "manifest_failed",
        "duplicates",
    )

    def __init__(
        self,
        records: int = 0,
        items: int = 0,
        saved: int = 0,
        overwritten: int = 0,
        existing: int = 0,
        skipped: int = 0,
        found: int = 0,
        problems: int = 0,
        converted: int = 0,
        provenance_lost: int = 0,
        manifest_failed: bool = False,
        duplicates: int = 0,
    ) -> None:
        self.records = records
        self.items = items
        self.saved = saved
        self.overwritten = overwritten
        self.existing = existing
        self.skipped = skipped
        self.found = found
        self.problems = problems
        self.converted = converted
        self.provenance_lost = provenance_lost
        self.manifest_failed = manifest_failed
        self.duplicates = duplicates

    @property
    def placed(self) -> int:
        """Images now held by a file in the output folder (saved, present, duplicate or
        skipped): a run with none writes nothing, not even its manifest."""
        return self.saved + self.overwritten + self.existing + self.duplicates + self.skipped

    def add(self, record: ItemRecord) -> None:
        """Count one record."""
        self.records += 1
        if record.index is not None:
            self.items += 1
        if record.error is not None:
            self.problems += 1
        if record.converted_from is not None:
            self.converted += 1
            if record.note is not None:
                self.provenance_lost += 1
        if record.manifest_failed:
            self.manifest_failed = True
        outcome = record.outcome
        if outcome == "saved":
            self.saved += 1
        elif outcome == "overwritten":
            self.overwritten += 1
        elif outcome == "exists" and record.duplicate_of is not None:
            self.duplicates += 1
        elif outcome == "exists":
            self.existing += 1
        elif outcome == "skipped":
            self.skipped += 1
        elif outcome == "found":
            self.found += 1
