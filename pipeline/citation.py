"""CITATION.cff: how to cite a release (Citation File Format 1.2.0), naming the release's
version and date and, as references, every source it was built from with its licence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

CITATION_FILE = "CITATION.cff"
TITLE = "City diplomacy: city networks, memberships, agreements and commitments"
# SPDX ids of the licences the sources table names; others are quoted in the abstract only.
SPDX = {"CC BY 4.0": "CC-BY-4.0", "CC0 1.0": "CC0-1.0", "ODbL 1.0": "ODbL-1.0"}


def citation(info: Mapping[str, str], sources: Sequence[Mapping[str, Any]]) -> str:
    """The CFF document for one release."""
    licences = sorted({str(s["licence"]) for s in sources})
    publishers = sorted({str(s["publisher"]) for s in sources})
    document: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite this release and its sources "
        "(ATTRIBUTION gives each source's required wording).",
        "type": "dataset",
        "title": TITLE,
        "version": info["version"],
        "date-released": info["created_at"][:10],
        "authors": [{"name": "The citydiplomacy project contributors"}],
        "abstract": (
            f"Release {info['version']} (schema {info['schema_version']}) of an open dataset "
            "of city diplomacy, built from: "
            + "; ".join(publishers)
            + ". Licences: "
            + ", ".join(licences)
            + "."
        ),
        "keywords": ["city diplomacy", "city networks", "twinning", "climate commitments"],
        "references": [
            {
                "type": "data",
                "title": f"{s['publisher']}: {s['file_name']}",
                "authors": [{"name": str(s["publisher"])}],
                **({"url": s["origin"]} if str(s["origin"]).startswith("http") else {}),
                **({"license": SPDX[s["licence"]]} if s["licence"] in SPDX else {}),
            }
            for s in sources
        ],
    }
    spdx = sorted({SPDX[text] for text in licences if text in SPDX})
    if spdx and len(spdx) == len(licences):
        document["license"] = spdx if len(spdx) > 1 else spdx[0]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
