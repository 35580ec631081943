"""What the command line prints about a run: pure functions of typed results, returning text.

Kept apart from `pipelines.command` (flags and exit codes) so each printout can be tested
on a made-up plan or result, and so the sandbox demo prints the very same text (the commands
to look further that only the demo prints are its own: `sandbox.demo.format_next_steps`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the destination is imported when a run needs it: `--help` stays quick
    from docspace_destination.plan import Plan

# the order a plan is listed in: what is made first, what stays as it is last
PLAN_ORDER = (
    "create",
    "create from template",
    "adopt",
    "move",
    "rename",
    "unarchive",
    "archive",
    "orphan",
    "restore",
    "blocked",
    "skip",
    "noop",
)
LISTED = 10  # actions listed per kind without -v


def format_plan(the_plan: Plan, verbose: int) -> str:
    """The plan's counts per kind of change, and (the first few, or with -v all) actions of each."""
    counts = the_plan.counts()
    changes = the_plan.changes  # all of them, or (a big run) the first LISTED of each kind
    lines = [
        "",
        f"Plan for {the_plan.source}: {the_plan.change_count} change(s), {the_plan.writes} DocSpace write(s)",
    ]
    if counts.get("adopt"):
        lines.append(
            "  (folders inside adopted rooms are adopted by title where they exist: "
            "the writes are at most this many)"
        )
    for op in PLAN_ORDER:
        if not counts.get(op):
            continue
        if op == "skip":  # counted in projects; their folders are skipped with them
            shown = [a for a in the_plan.actions if a.op == op and a.kind == "room"]
            total = the_plan.skipped_projects
            note = 'archived before their first sync: no room (archived_projects = "mirror" makes them)'
            lines.append(f"  {op:<20} {total:>6}  {note}")
        else:
            lines.append(f"  {op:<20} {counts[op]:>6}")
            shown = [a for a in changes if a.label == op]
            total = counts[op]
        if op == "noop":
            continue
        limit = None if verbose else LISTED
        lines += [_action_line(a) for a in shown[:limit]]
        if limit and total > limit:
            lines.append(f"      … and {total - limit} more (-v lists all)")
    from docspace_destination.files import plan_lines  # documents: uploads and skipped files

    lines += plan_lines(the_plan, verbose, LISTED)
    return "\n".join(lines)


def _action_line(a: Any) -> str:
    extra = f"  ({a.reason})" if a.reason and a.op != "skip" else ""
    where = f" ← {a.from_key}" if a.op == "move" and a.from_key and a.from_key != a.key else ""
    if a.template:
        where += f" from template {a.template!r}"
    if a.op == "adopt":
        how = "by title" if (a.found or "").startswith("title") else "by its marker tag"
        archived = ", archived" if a.found_in_archive else ""
        where += f" ← existing room {a.docspace_id} ({how}{archived})"
    return f"      {a.kind:<6} {a.title!r}  [{a.key}]{where}{extra}"


def format_summary(result: Any) -> str:
    """A sync's outcome counts, requests, limits reached, failures, then its opt-in steps."""
    from docspace_destination.operations import OUTCOMES

    report = result.report
    counts = report.counts if report else {}
    lines = ["", f"DocSpace sync summary ({result.source}, {result.seconds:.1f}s)"]
    for name in OUTCOMES:
        if counts.get(name) or name in ("created", "failed", "unchanged"):
            lines.append(f"  {name:<11} {counts.get(name, 0):>6}")
    skipped = result.plan.skipped_projects
    if skipped:
        note = "archived before their first sync: no room"
        lines.append(f"  {'skipped':<11} {skipped:>6}  ({note})")
    from docspace_destination.files import skipped_line  # attachments not copied, and why

    lines += [line for line in (skipped_line(result.plan),) if line]
    lines.append(f"  {'requests':<11} {result.reads + result.writes:>6}  ({result.writes} writes)")
    if result.resumed:
        lines.append("  (finished a load left by an interrupted run first)")
    resets_at = report.write_limit_resets_at if report else None
    if resets_at is not None:
        lines.append(
            f"  DocSpace's daily write limit reached; it resets at {resets_at:%Y-%m-%d %H:%M:%S} UTC: "
            "run again after that and it continues where this one stopped"
        )
    elif report and report.budget_exhausted:
        lines.append("  write budget reached: the next run continues where this one stopped")
    for key, title, reason in (report.failures if report else [])[:50]:
        lines.append(f"  FAILED {key} {title!r}: {reason}")
    steps = format_steps(result)
    return "\n".join(lines + ([steps] if steps else []))


def format_steps(result: Any) -> str:
    """Counts of the opt-in write-back and members steps, their failures and unknown people."""
    lines: list[str] = []
    for step in (getattr(result, "writeback", None), getattr(result, "members", None)):
        if step is None:
            continue
        counts = {k: v for k, v in step.counts.items() if k != "unknown people"}
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"
        lines.append(f"  {step.step:<11} {text}")
        lines += [f"  FAILED {step.step} {key}: {reason}" for key, reason in step.failures[:50]]
        if step.unknown_people:
            lines.append(
                f"  people with no DocSpace account ({len(step.unknown_people)}, not invited):"
            )
            lines += [f"    {who}" for who in step.unknown_people[:50]]
    return "\n".join(lines)
