"""Checklists, custom fields and attachments of the Trello emulator (a mixin on TrelloState)."""

from __future__ import annotations

from typing import Any

from sandbox.trello_state import TrelloState, iso


class TrelloExtras(TrelloState):
    # -- checklists and custom fields --------------------------------------------------

    def add_checklist(
        self, card_id: str, name: str, items: list[str] | tuple[str, ...] = ()
    ) -> str:
        with self.lock:
            card = self.cards[card_id]
            self.tick()
            clid = self.new_id()
            check_items = []
            for i, item in enumerate(items):
                self.tick()
                check_items.append(
                    {
                        "id": self.new_id(),
                        "idChecklist": clid,
                        "name": item,
                        "state": "complete" if i % 2 else "incomplete",
                        "pos": 16384.0 * (i + 1),
                        "due": None,
                        "idMember": None,
                    }
                )
            self.checklists[clid] = {
                "id": clid,
                "name": name,
                "idBoard": card["idBoard"],
                "idCard": card_id,
                "pos": 16384.0 * (len(card["idChecklists"]) + 1),
                "checkItems": check_items,
            }
            card["idChecklists"].append(clid)
            self.index[card["idBoard"]]["checklists"].append(clid)
            self.add_action(
                card["idBoard"],
                "addChecklistToCard",
                {"card": self._card_ref(card_id), "checklist": {"id": clid, "name": name}},
            )
            return clid

    def add_custom_field(
        self,
        board_id: str,
        name: str,
        field_type: str = "list",
        options: list[str] | tuple[str, ...] = (),
    ) -> str:
        with self.lock:
            self.tick()
            fid = self.new_id()
            opts = []
            for i, text in enumerate(options):
                self.tick()
                opts.append(
                    {
                        "id": self.new_id(),
                        "idCustomField": fid,
                        "value": {"text": text},
                        "color": "none",
                        "pos": 16384.0 * (i + 1),
                    }
                )
            self.custom_fields[fid] = {
                "id": fid,
                "idModel": board_id,
                "modelType": "board",
                "fieldGroup": f"{fid}group",
                "display": {"cardFront": True},
                "name": name,
                "pos": 16384.0 * (len(self.index[board_id]["fields"]) + 1),
                "type": field_type,
                "options": opts,
            }
            self.index[board_id]["fields"].append(fid)
            self.add_action(
                board_id, "createCustomField", {"customField": {"id": fid, "name": name}}
            )
            return fid

    def set_custom_field_value(
        self, card_id: str, field_id: str, value: str | float | bool
    ) -> None:
        """A list field takes an option text; text/number/checkbox/date fields take the value."""
        with self.lock:
            field = self.custom_fields[field_id]
            self.tick()
            item: dict[str, Any] = {
                "id": self.new_id(),
                "idCustomField": field_id,
                "idModel": card_id,
                "modelType": "card",
            }
            if field["type"] == "list":
                item["idValue"] = next(
                    o["id"] for o in field["options"] if o["value"]["text"] == value
                )
            elif field["type"] == "checkbox":
                item["value"] = {"checked": "true" if value else "false"}
            else:
                item["value"] = {field["type"]: str(value)}
            self.custom_field_items.setdefault(card_id, {})[field_id] = item
            self._update_card(
                card_id,
                {"customField": field_id},
                {"customField": {"id": field_id, "name": field["name"]}},
            )

    def add_attachment(self, card_id: str, url: str, name: str | None) -> dict[str, Any]:
        with self.lock:
            card = self.cards[card_id]
            self.tick()
            att = {
                "id": self.new_id(),
                "bytes": None,
                "date": iso(self._now),
                "edgeColor": None,
                "idMember": self.me,
                "isUpload": False,
                "mimeType": "",
                "name": name or url,
                "previews": [],
                "url": url,
                "pos": 16384.0 * (len(self._attachments.get(card_id, [])) + 1),
            }
            self._attachments.setdefault(card_id, []).append(att)
            self.add_action(
                card["idBoard"],
                "addAttachmentToCard",
                {
                    "card": self._card_ref(card_id),
                    "attachment": {"id": att["id"], "name": att["name"], "url": url},
                },
            )
            return att

    def delete_attachment(self, card_id: str, attachment_id: str) -> bool:
        with self.lock:
            kept = [a for a in self._attachments.get(card_id, []) if a["id"] != attachment_id]
            if len(kept) == len(self._attachments.get(card_id, [])):
                return False
            self._attachments[card_id] = kept
            card = self.cards[card_id]
            self.add_action(
                card["idBoard"],
                "deleteAttachmentFromCard",
                {"card": self._card_ref(card_id), "attachment": {"id": attachment_id}},
            )
            return True

    def attachments(self, card_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(a) for a in self._attachments.get(card_id, [])]
