"""TAAFs inside third-party force fields: MACE trained from scratch, CHGNet fine-tuned.

Each integration is an optional extra (``pip install taafs-sk[mace]``, ``taafs-sk[chgnet]``);
importing this package loads neither library: they are imported when one of its functions is
called, and a missing one gives an ImportError naming the extra to install.
"""

__all__: list[str] = []
