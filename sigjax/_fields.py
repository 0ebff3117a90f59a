"""Config section -> frozen dataclass, with unknown fields named (stdlib only)."""

from __future__ import annotations

import dataclasses
from typing import Mapping


def from_fields(cls, fields: Mapping, *, where: str, what: str):
  """``cls(**fields)``; a field ``cls`` lacks raises ValueError listing the valid ones.

  ``where`` prefixes the field in the message (``model``), ``what`` says what
  it should have been (``a field of model 'mlp'``).
  """
  valid = [f.name for f in dataclasses.fields(cls)]
  unknown = sorted(set(fields) - set(valid))
  if unknown:
    raise ValueError(f"config: {where}.{unknown[0]} is not {what}; the valid ones are "
                     f"{', '.join(valid)}.")
  return cls(**fields)
