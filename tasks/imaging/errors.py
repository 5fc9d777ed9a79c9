"""Imaging errors: one class per cause, every message names the offending file (never a patient)."""

from __future__ import annotations

from pathlib import Path

from golive.tasks.foundation.errors import ConnectorError, StepFailed, UserInputError


class ImagingError(UserInputError):
    """A DICOM input cannot be used as given. `path` is the file (or folder) at fault."""

    reason = "unusable"

    def __init__(self, path: Path | str | None, detail: str) -> None:
        self.path = Path(path) if path is not None else None
        self.detail = detail
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{detail}")


class NotDicom(ImagingError):
    """The file is not a DICOM Part 10 file (no preamble/DICM prefix and no parsable header)."""

    reason = "not-dicom"


class TruncatedFile(ImagingError):
    """The file ends before its header or pixel data does."""

    reason = "truncated"


class DamagedFile(ImagingError):
    """The file parses as DICOM but an element's value is unreadable (bad length, VR or number)."""

    reason = "damaged"


class MissingPixelData(ImagingError):
    """The instance has no PixelData element (a report, a presentation state, a stripped file)."""

    reason = "missing-pixel-data"


class UnsupportedTransferSyntax(ImagingError):
    """Compressed pixel data for which no decoder is installed."""

    reason = "unsupported-transfer-syntax"


class WrongModality(ImagingError):
    """The instance is not a CT image (e.g. a panoramic DX, an SR, a SEG)."""

    reason = "wrong-modality"


class UnsupportedInstance(ImagingError):
    """A DICOM image this reader does not handle (multi-frame, colour, odd bit depth)."""

    reason = "unsupported-instance"


class MixedSeries(ImagingError):
    """The folder holds more than one series (or frames of reference) and none was chosen."""

    reason = "mixed-series"


class InconsistentGeometry(ImagingError):
    """Slices disagree on rows, columns, pixel spacing or orientation."""

    reason = "inconsistent-geometry"


class DuplicateSlices(ImagingError):
    """Two instances sit at the same position along the slice normal."""

    reason = "duplicate-slice"


class MissingSlices(ImagingError):
    """A gap in the stack: one or more slices between two files are absent."""

    reason = "missing-slices"


class UnevenSpacing(ImagingError):
    """Slice positions are not evenly spaced (beyond tolerance) without a whole missing slice."""

    reason = "uneven-spacing"


class ObliqueStack(ImagingError):
    """Oblique orientation or a tilted (sheared) stack. Refused, not resampled: say so to the sender."""

    reason = "oblique-stack"


class EmptySeries(ImagingError):
    """No usable CT instance was found."""

    reason = "empty"


class DicomNetworkError(ConnectorError):
    """A DICOM peer refused the association or a DIMSE request failed."""


class TransferCheckFailed(StepFailed):
    """A sent series did not arrive whole, unchanged, on time or with the right association."""


class ModelBundleError(UserInputError):
    """A MONAI bundle folder is missing files or its configuration cannot be parsed."""


class NotDentalCBCT(ImagingError):
    """The series is not a dental CBCT (field of view or anatomy): refused before anything is written."""

    reason = "not-dental-cbct"

    def __init__(self, path: Path | str | None, detail: str) -> None:
        super().__init__(path, f"not a dental CBCT: {detail}")
