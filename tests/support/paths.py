"""Where the tests find the repository, their data and the reference material."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
# Reference material beside the repository; absent from a user's clone.
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"
XSD_DIR = REFERENCE / "qbxml" / "xsd-13.0"
