"""The demo copies documents (issue 20 §8): its printed DocSpace tree shows every copied
attachment under its task's folder with its size, byte-identical to the sample's, and the
attachments left behind with their reason.

The demo's own run (`sandbox.demo.run_in_sandbox`, what `make demo` runs) in-process, so the
emulators can be read once it has printed; `tests/test_next_steps.py` runs it as a user would.
"""

from __future__ import annotations

import hashlib
import re

from pipelines.flags import build_parser
from sandbox.attachment_files import content_sha256
from sandbox.demo import embedded_sandbox, run_in_sandbox
from sandbox.docspace_file import size_text
from tests.demo_clone import ROOT

LIMIT = 100 * 1024 * 1024  # attachment_max_mb's default: the demo keeps it


def _files_below(docspace, roots) -> list:
    """Every file in these rooms (or templates) and their folders, at any depth."""
    out, stack = [], [r.id for r in roots]
    while stack:
        folder = stack.pop()
        stack += [f.id for f in docspace.folders(folder)]
        out += docspace.files(folder)
    return out


def test_the_demo_tree_shows_each_copied_file_identical_to_the_samples(workspace, capsys):
    with embedded_sandbox() as sb:
        code = run_in_sandbox(sb, "asana", build_parser("asana").parse_args(["--sandbox"]))
        out = capsys.readouterr().out
        assert code == 0, out
        docspace, asana = sb.docspace.emulator, sb.asana.emulator
        # the room templates' own files are copied with their rooms: not attachments
        templates = {f.title for f in _files_below(docspace, docspace.templates())}
        copied: dict[str, tuple[str, int]] = {}  # sha256 -> (title, size) of each copied file
        for f in _files_below(docspace, docspace.rooms("any")):
            if f.title not in templates:
                sha = hashlib.sha256(docspace.file_content(f)).hexdigest()
                assert sha not in copied, f"{f.title} copied twice"
                copied[sha] = (f.title, f.size)
        sample = {
            content_sha256(s.seed, s.size): s for s in asana.files.files.values() if s.size <= LIMIT
        }

    # the sample's shapes: small files, a same-named pair, one needing three 10 MiB chunks
    assert len(sample) == 6 and max(s.size for s in sample.values()) > 20 * 1024 * 1024
    assert set(copied) == set(sample)  # each once, its SHA-256 the sample attachment's
    assert sorted(title for title, _ in copied.values()) == [
        "Brief.docx",
        "Budget.xlsx",
        "Logo.png",
        "Minutes (2).pdf",
        "Minutes.pdf",
        "Recording.mp4",
    ]
    tree = out[out.index("DocSpace tree for asana") :]
    for title, size in copied.values():
        assert f"📄 {title}  ({size_text(size)})" in tree
    assert "🔗 Design doc  (not copied: external link)" in tree
    assert "🚫 Archive.zip  (not copied: 120.0 MB > limit of 100 MB)" in tree
    assert "not copied       3  (attachments: 2 external link, 1 too large" in out
    # README's excerpt of this tree ("Documents") is what the demo prints
    for line in _readme_excerpt():
        assert line in tree.splitlines(), line


def _readme_excerpt() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Documents") :]
    section = section[: section.index("\n## ", 5)]
    (block,) = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    return [line for line in block.splitlines() if line.strip()]
