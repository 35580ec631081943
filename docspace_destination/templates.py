"""Room templates chosen by explicit rules: first match wins, no match → a plain room.

A rule names a template by title or id and matches a project/board by exactly one of:
an Asana custom field value, the Asana team name, a Trello label name, or a regular
expression on the project/board name. A rule whose template does not exist is an
error for the projects it matches — never a fallback to another template.

    [[destination.docspace.room_templates]]
    custom_field = "Project type"
    equals = "Marketing"
    template = "Marketing launch"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pm_runtime.errors import ConfigurationError

KEY = "destination.docspace.room_templates"
MATCHERS = ("custom_field", "team", "label", "name_regex")


@dataclass(frozen=True)
class TemplateRule:
    template: str  # a title, or an id given as digits
    custom_field: str | None = None
    equals: str | None = None
    team: str | None = None
    label: str | None = None
    name_regex: str | None = None

    def describe(self) -> str:
        if self.custom_field:
            return f"{self.custom_field} = {self.equals}"
        if self.team:
            return f"team = {self.team}"
        if self.label:
            return f"label = {self.label}"
        return f"name ~ /{self.name_regex}/"

    def matches(self, attributes: dict[str, Any]) -> bool:
        if self.custom_field:
            fields = {
                str(k).casefold(): v for k, v in (attributes.get("custom_fields") or {}).items()
            }
            value = fields.get(self.custom_field.casefold())
            return (
                value is not None
                and str(value).strip().casefold() == str(self.equals).strip().casefold()
            )
        if self.team:
            return str(attributes.get("team") or "").casefold() == self.team.casefold()
        if self.label:
            return any(
                str(label).casefold() == self.label.casefold()
                for label in attributes.get("labels") or []
            )
        return re.search(self.name_regex or "", str(attributes.get("name") or "")) is not None


def parse_rules(raw: Any) -> list[TemplateRule]:
    """Rules from config (a list of tables, or JSON text from an environment variable)."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ConfigurationError(
                f"{KEY} must be a list of rules (JSON in an environment variable)"
            ) from None
    if not isinstance(raw, list):
        raise ConfigurationError(f"{KEY} must be a list of rules, got {type(raw).__name__}")
    rules = []
    for i, item in enumerate(raw):
        where = f"{KEY}[{i}]"
        if not isinstance(item, dict):
            raise ConfigurationError(f"{where} must be a table with a matcher and a template")
        unknown = set(item) - {"template", "equals", *MATCHERS}
        if unknown:
            raise ConfigurationError(f"{where} has unknown key(s): {', '.join(sorted(unknown))}")
        if item.get("template") in (None, ""):
            raise ConfigurationError(f"{where} needs `template` (a template title or id)")
        given = [m for m in MATCHERS if item.get(m) not in (None, "")]
        if len(given) != 1:
            raise ConfigurationError(
                f"{where} needs exactly one of {', '.join(MATCHERS)}; got {given or 'none'}"
            )
        if given == ["custom_field"] and item.get("equals") in (None, ""):
            raise ConfigurationError(f'{where} matches a custom field: add `equals = "<value>"`')
        if given == ["name_regex"]:
            try:
                re.compile(str(item["name_regex"]))
            except re.error as exc:
                raise ConfigurationError(
                    f"{where}.name_regex is not a valid regular expression: {exc}"
                ) from None
        rules.append(
            TemplateRule(
                template=str(item["template"]),
                **{m: str(item[m]) for m in MATCHERS if item.get(m) not in (None, "")},
                equals=None if item.get("equals") is None else str(item["equals"]),
            )
        )
    return rules


def choose_rule(rules: list[TemplateRule], attributes: dict[str, Any]) -> TemplateRule | None:
    return next((r for r in rules if r.matches(attributes)), None)


def resolve_template(rule: TemplateRule, available: dict[int, str]) -> tuple[int | None, str]:
    """(template id, title) for a rule, or (None, reason) when it names no single existing template."""
    if rule.template.isdigit():
        tid = int(rule.template)
        if tid in available:
            return tid, available[tid]
        return None, f"room template id {tid} does not exist (rule {rule.describe()})"
    found = [tid for tid, title in available.items() if title == rule.template]
    if len(found) == 1:
        return found[0], rule.template
    if not found:
        return None, f"room template {rule.template!r} does not exist (rule {rule.describe()})"
    return (
        None,
        f"{len(found)} room templates are titled {rule.template!r}; name it by id (rule {rule.describe()})",
    )
