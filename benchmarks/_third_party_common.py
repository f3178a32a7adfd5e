"""What the third-party runners (``_third_party_mace.py``, ``_third_party_chgnet.py``) share."""

from __future__ import annotations

#: The last 10 % of the training frames (a contiguous block) validate the library's training.
VAL_FRACTION = 0.1


def parse_variant(variant) -> tuple[str, str] | None:
    """None for ``'original'``, else the ``(basis, sharing)`` of a TAAF variant."""
    if variant == "original":
        return None
    if (isinstance(variant, tuple) and len(variant) == 2
            and variant[0] in ("bspline", "chebyshev1")):
        return variant
    raise ValueError(f"variant must be 'original' or ('bspline' | 'chebyshev1', sharing), "
                     f"got {variant!r}.")
