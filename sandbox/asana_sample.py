"""A seeded, deterministic Asana workspace with every shape the source must handle.

One workspace, four teams, users with emails, a "Project type" enum on projects,
custom fields of every type on tasks, sections, subtasks three deep, a task in two
projects, an archived and a completed project, tasks without assignee, and
`sandbox.names.HOSTILE_NAMES` mixed in (including exact duplicate sibling names).
:func:`populate_asana` returns an :class:`AsanaSample` so tests can compute exact counts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.asana import AsanaEmulator
from sandbox.attachment_sample import add_asana_attachments
from sandbox.names import HOSTILE_NAMES

PROJECT_TYPES = ["Marketing", "Engineering", "Design", "Research"]
PROJECT_NAMES = [
    "Website relaunch",
    "Mobile app v2",
    "Brand refresh",
    "Customer interviews",
    "Data platform",
    "Onboarding flow",
    "Q3 campaign",
    "Security audit",
]
TASK_VERBS = ["Draft", "Review", "Ship", "Plan", "Test", "Design", "Write", "Fix", "Measure"]
TASK_NOUNS = ["landing page", "API spec", "copy deck", "survey", "release notes", "roadmap", "logo"]
SECTION_NAMES = ["To do", "In progress", "Done"]
USERS = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Katherine Johnson", "katherine@example.com"),
    ("Linus Torvalds", "linus@example.com"),
    ("Margaret Hamilton", "margaret@example.com"),
]


@dataclass
class AsanaSample:
    """What was generated: gids by kind, for exact expected counts."""

    workspace: str = ""
    teams: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)  # name -> gid
    projects: list[str] = field(default_factory=list)
    archived_projects: list[str] = field(default_factory=list)
    completed_projects: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)  # project -> sections
    tasks: dict[str, list[str]] = field(default_factory=dict)  # project -> top-level tasks
    subtasks: list[str] = field(default_factory=list)  # every subtask, any depth
    deepest_subtask: str = ""
    shared_task: str = ""  # a task that is in two projects
    hostile_tasks: list[str] = field(default_factory=list)
    attachments: dict[str, list[str]] = field(
        default_factory=dict
    )  # role -> gids (attachment_sample)

    @property
    def all_tasks(self) -> list[str]:
        """Distinct task gids (top-level and subtasks)."""
        seen = dict.fromkeys(g for gids in self.tasks.values() for g in gids)
        seen.update(dict.fromkeys(self.subtasks))
        return list(seen)

    @property
    def membership_count(self) -> int:
        return sum(len(gids) for gids in self.tasks.values())


def populate_asana(
    emulator: AsanaEmulator,
    projects: int = 3,
    tasks_per_project: int = 8,
    seed: int = 0,
    attachments: bool = False,
    oversize: bool = False,
) -> AsanaSample:
    """The sample; `attachments` adds sandbox.attachment_sample's files to the first project's
    first tasks (`oversize`: one over the default 100 MB limit as well)."""
    rng = random.Random(seed)
    em = emulator
    out = AsanaSample()
    with em.lock:
        ws = out.workspace = em.add_workspace("Acme Corp")
        out.teams = [em.add_team(t, ws) for t in PROJECT_TYPES]
        out.users = [em.add_user(n, e, ws) for n, e in USERS]
        out.tags = [em.add_tag(t, ws) for t in ("urgent", "blocked", "customer")]
        cf = out.custom_fields
        cf["Project type"] = em.add_custom_field("Project type", ws, "enum", PROJECT_TYPES)
        cf["Estimate"] = em.add_custom_field("Estimate", ws, "number")
        cf["Ticket"] = em.add_custom_field("Ticket", ws, "text")
        cf["Priority"] = em.add_custom_field("Priority", ws, "enum", ["Low", "Medium", "High"])
        cf["Platforms"] = em.add_custom_field(
            "Platforms", ws, "multi_enum", ["Web", "iOS", "Android"]
        )
        cf["Review date"] = em.add_custom_field("Review date", ws, "date")
        cf["Reviewers"] = em.add_custom_field("Reviewers", ws, "people")
        priorities = [em.enum_option(cf["Priority"], o) for o in ("Low", "Medium", "High")]
        platforms = [em.enum_option(cf["Platforms"], o) for o in ("Web", "iOS", "Android")]

        hostile = iter(HOSTILE_NAMES * (1 + projects * tasks_per_project // len(HOSTILE_NAMES)))
        for i in range(projects):
            kind = PROJECT_TYPES[i % len(PROJECT_TYPES)]
            name = PROJECT_NAMES[i % len(PROJECT_NAMES)]
            if i >= len(PROJECT_NAMES):
                name = f"{name} {i // len(PROJECT_NAMES) + 1}"
            if i == 2:
                name = HOSTILE_NAMES[0]  # slashes and quotes in a project name
            owner = out.users[i % len(out.users)]
            members = sorted({owner, out.users[(i + 1) % len(out.users)]})
            archived = projects > 1 and i == projects - 1
            completed = projects > 2 and i == projects - 2
            p = em.add_project(
                name,
                ws,
                team=out.teams[i % len(out.teams)],
                archived=archived,
                completed=completed,
                owner=owner,
                members=members,
                custom_fields={cf["Project type"]: em.enum_option(cf["Project type"], kind)},
            )
            out.projects.append(p)
            if archived:
                out.archived_projects.append(p)
            if completed:
                out.completed_projects.append(p)
            out.sections[p] = [em.add_section(s, p) for s in SECTION_NAMES]
            out.tasks[p] = []
            for j in range(tasks_per_project):
                if j % 4 == 3:
                    task_name = next(hostile)
                else:
                    task_name = f"{rng.choice(TASK_VERBS)} {rng.choice(TASK_NOUNS)} #{j + 1}"
                values = {}
                if j % 3 == 0:
                    values = {
                        cf["Estimate"]: round(rng.uniform(0.5, 13), 2),
                        cf["Ticket"]: f"ACME-{rng.randint(100, 999)}",
                        cf["Priority"]: rng.choice(priorities),
                        cf["Platforms"]: rng.sample(platforms, 2),
                        cf["Review date"]: f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                        cf["Reviewers"]: rng.sample(out.users, 2),
                    }
                elif j % 3 == 1:
                    values = {cf["Priority"]: None, cf["Ticket"]: None, cf["Reviewers"]: []}
                t = em.add_task(
                    task_name,
                    [(p, out.sections[p][j % len(SECTION_NAMES)])],
                    assignee=None if j % 3 == 2 else rng.choice(out.users),
                    custom_fields=values,
                    completed=j % 5 == 4,
                )
                out.tasks[p].append(t)
                if j % 4 == 3:
                    out.hostile_tasks.append(t)
            _subtasks(em, out, p)
        # exact duplicate sibling names in the first project
        first = out.projects[0]
        for _ in range(2):
            out.tasks[first].append(em.add_task("Design", [(first, out.sections[first][0])]))
        if projects > 1:
            shared = out.tasks[out.projects[1]][0]
            em.add_task_to_project(shared, first, out.sections[first][1])
            out.tasks[first].append(shared)
            out.shared_task = shared
        if attachments:
            out.attachments = add_asana_attachments(em, out.tasks[out.projects[0]], oversize)
    return out


def _subtasks(em: AsanaEmulator, out: AsanaSample, project: str) -> None:
    """A chain three deep under the first task, and two siblings under the second."""
    tasks = out.tasks[project]
    if not tasks:
        return
    parent = tasks[0]
    for depth in range(1, 4):
        parent = em.add_task(f"Step {depth}: check details", parent=parent)
        out.subtasks.append(parent)
    out.deepest_subtask = parent
    if len(tasks) > 1:
        for name in ("Proofread", "Proofread"):
            out.subtasks.append(em.add_task(name, parent=tasks[1], assignee=None))
