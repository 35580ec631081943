"""What an apply may do: its concurrency, its write budget, the rooms it makes (made from the
settings by `settings.load_settings`; the apply never reads configuration)."""

from __future__ import annotations

from dataclasses import dataclass, field

from docspace_destination.limits import MAX_CONCURRENCY
from pm_runtime.errors import UserFacingError


@dataclass
class ApplySettings:
    concurrency: int  # defaults: `config.DocSpaceConfiguration`
    max_writes: int
    room_type: int = 2
    private: bool = False
    room_tags: list[str] = field(default_factory=list)
    adopt_existing: bool = True  # a room without a marker is adopted by its exact title

    def __post_init__(self) -> None:
        problem = self.limits_problem(self.concurrency, self.max_writes)
        if problem:
            raise UserFacingError(problem)

    @staticmethod
    def limits_problem(concurrency: int | None, max_writes: int | None) -> str | None:
        """What is wrong with these limits (None: nothing), worded for settings (the command
        line words its flags itself: `pipelines.flags.limits_flag_problem`)."""
        if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
            return (
                f"concurrency must be between 1 and {MAX_CONCURRENCY} (DocSpace allows 15 concurrent writes), "
                f"got {concurrency}"
            )
        if max_writes is not None and max_writes < 0:
            return f"max_writes must be >= 0, got {max_writes}"
        return None
