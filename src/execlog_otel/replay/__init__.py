"""Download Code: one self-contained Python file per execution that replays it offline."""

from execlog_otel.replay.bundle import replay_filename, replay_zip
from execlog_otel.replay.generate import EXIT_CANNOT_REPLAY, EXIT_DIFFERENT, EXIT_MATCH, replay_file

__all__ = ["EXIT_CANNOT_REPLAY", "EXIT_DIFFERENT", "EXIT_MATCH", "replay_file", "replay_filename", "replay_zip"]
