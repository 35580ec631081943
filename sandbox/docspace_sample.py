"""Sample DocSpace portal content: people who are also in the Asana/Trello samples, and room templates
per project type, so the demo and manual runs can exercise templates and members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.asana_sample import PROJECT_TYPES, USERS

if TYPE_CHECKING:
    from sandbox.docspace import DocSpaceEmulator

# "Research" deliberately has no template: a rule naming one shows how a missing template is reported
TEMPLATE_FOLDERS = {
    "Marketing": ["Briefs", "Assets", "Press"],
    "Engineering": ["Specs", "Decisions"],
    "Design": ["Moodboards", "Reviews"],
}


def template_title(project_type: str) -> str:
    return f"{project_type} room"


def populate_docspace(emulator: DocSpaceEmulator) -> dict[str, int]:
    """Add the sample people (all but the last, who has no DocSpace account) and templates; title → id."""
    for name, email in USERS[:-1]:
        emulator.add_user(email, name)
    return {
        template_title(kind): emulator.add_template(
            template_title(kind), folders=folders, files={folders[0]: ["README.docx"]}
        ).id
        for kind, folders in TEMPLATE_FOLDERS.items()
        if kind in PROJECT_TYPES
    }


def template_rules() -> list[dict[str, str]]:
    """Rules that map the sample's "Project type" values to the sample templates."""
    return [
        {"custom_field": "Project type", "equals": kind, "template": template_title(kind)}
        for kind in TEMPLATE_FOLDERS
    ]
