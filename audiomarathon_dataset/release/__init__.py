"""Importer for the official AudioMarathon release."""

from .importer import REPORT_NAME, ImportFailed, import_release

__all__ = ["REPORT_NAME", "ImportFailed", "import_release"]
