"""Input pipelines. Every data set is *step-indexed*: ``dataset.batch(step)``
returns this host's share of the global batch for that step, a pure function
of (seed, step, host). Resuming at step s therefore replays exactly the data an
uninterrupted run would have seen, with no iterator state to checkpoint.
"""

from sigjax.data.base import StepIndexedDataset
from sigjax.data.factory import DATASETS, make_dataset
from sigjax.data.grid import grid_means, ring_means

__all__ = ["DATASETS", "StepIndexedDataset", "make_dataset", "grid_means", "ring_means"]
