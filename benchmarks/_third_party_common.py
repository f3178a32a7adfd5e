"""What the third-party runners (``_third_party_mace.py``, ``_third_party_chgnet.py``) share."""

from __future__ import annotations

#: The last 10 % of the training frames (a contiguous block) validate the library's training.
VAL_FRACTION = 0.1


def parse_variant(variant) -> tuple[str, str] | tuple[str, str, str] | None:
    """None for ``'original'``, else the ``(basis, sharing)`` of a TAAF variant, or
    ``(basis, sharing, lr_factor)`` (MACE: the TAAFs' learning-rate factor, e.g. '0.1')."""
    if variant == "original":
        return None
    if (isinstance(variant, tuple) and len(variant) in (2, 3)
            and variant[0] in ("bspline", "chebyshev1")):
        return variant
    raise ValueError(f"variant must be 'original' or ('bspline' | 'chebyshev1', sharing[, "
                     f"lr_factor]), got {variant!r}.")
