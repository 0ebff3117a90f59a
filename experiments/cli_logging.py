"""Console logging for the command-line entry points."""

import logging as logging_std

from absl import logging


class _QuietLibraries(logging_std.Filter):
  """Drops INFO chatter from orbax/jax so the console shows the run's progress."""

  def filter(self, record):
    noisy = "/orbax/" in record.pathname or "/jax/_src/" in record.pathname
    return record.levelno >= logging_std.WARNING or not noisy


def quiet_library_logs() -> None:
  logging.get_absl_handler().addFilter(_QuietLibraries())
