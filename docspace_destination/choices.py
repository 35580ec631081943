"""The values each choice setting takes, written once.

A leaf (it imports only `typing`): `config.DocSpaceConfiguration` types its keys with these
`Literal`s, so dlt rejects anything else with the key's name, and the engine checks and names
the same values through the tuples (`desired.MappingOptions`, `rooms`), without importing the
configuration.
"""

from typing import Literal, get_args

Layout = Literal["flat", "grouped"]
SubtaskMode = Literal["nested", "skip"]
ArchivedProjects = Literal["skip", "mirror"]
AttachmentMode = Literal["off", "copy"]
SyncMembersMode = Literal["off", "add", "mirror"]

LAYOUTS: tuple[str, ...] = get_args(Layout)
SUBTASK_MODES: tuple[str, ...] = get_args(SubtaskMode)
ARCHIVED_PROJECTS: tuple[str, ...] = get_args(ArchivedProjects)
