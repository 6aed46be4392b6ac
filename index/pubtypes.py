"""PubMed's publication types, and their one spelling.

PubMed has written types in capitals in older records ("JOURNAL ARTICLE" in 2008-era XML) and
in title case since; a search ([pt], --type) and the facet must treat both as one type. The
index keeps types lower case for matching; facets and exports show the spelling below.
"""

from __future__ import annotations

_NAMES = """
Adaptive Clinical Trial|Address|Autobiography|Bibliography|Biography|Case Reports|Classical Article|
Clinical Conference|Clinical Study|Clinical Trial|Clinical Trial Protocol|Clinical Trial, Phase I|
Clinical Trial, Phase II|Clinical Trial, Phase III|Clinical Trial, Phase IV|Clinical Trial, Veterinary|
Comment|Comparative Study|Congress|Consensus Development Conference|Controlled Clinical Trial|
Corrected and Republished Article|Dataset|Duplicate Publication|Editorial|English Abstract|
Equivalence Trial|Evaluation Study|Expression of Concern|Festschrift|Guideline|Historical Article|
Interview|Introductory Journal Article|Journal Article|Lecture|Letter|Meta-Analysis|Multicenter Study|
News|Newspaper Article|Observational Study|Overall|Patient Education Handout|Personal Narrative|
Portrait|Practice Guideline|Pragmatic Clinical Trial|Preprint|Published Erratum|
Randomized Controlled Trial|Randomized Controlled Trial, Veterinary|Research Support, N.I.H., Extramural|
Research Support, N.I.H., Intramural|Research Support, Non-U.S. Gov't|Research Support, U.S. Gov't, Non-P.H.S.|
Research Support, U.S. Gov't, P.H.S.|Retracted Publication|Retraction of Publication|Review|
Scientific Integrity Review|Systematic Review|Technical Report|Twin Study|Validation Study|
Video-Audio Media|Webcast"""

# lower case -> PubMed's current spelling
CANONICAL: dict[str, str] = {
    n.lower(): n for n in _NAMES.replace("\n", "").split("|") if n
}


def is_pubmed_type(name: str) -> bool:
    return " ".join(name.lower().split()) in CANONICAL


def canonical_pubtype(name: str) -> str:
    """PubMed's spelling of a publication type, whatever its case; unknown types as written."""
    folded = " ".join(name.split())
    return CANONICAL.get(folded.lower(), folded)
