"""CBCT and intraoral imaging: DICOM ingest, phantoms, segmentation, measurements, DICOM outputs, network checks.

Axis order and coordinate conventions are stated once, in `golive.tasks.imaging.volume`.
"""
