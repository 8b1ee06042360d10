"""``preavis check purpose|terms FILE``: the campaign agent's rules, run before publishing.

The file is parsed by the models the workers use and checked by
:func:`notifications.preview.problems` (the agent's own
:func:`~notifications.requirements.check_change`), with this machine's
``PREAVIS_MIN_NOTICE_DAYS``. Each problem is printed with its field. A
preview of the notice (``notice.LANG.eml``) and of the objection page
(``objection.LANG.html``) is written for every language the audience needs,
into ``--out DIR`` or a new folder named on the output, so that the operator
reads what people will receive before anyone receives it.
``preavis publish`` refuses what :func:`check_document` refuses.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from notifications.campaign import Change
from notifications.errors import InvalidEvent
from notifications.i18n import SUPPORTED_LANGUAGES
from notifications.languages import required_languages
from notifications.preview import Preview, Problem, problems, render_previews
from notifications.render import NoticeRenderer
from notifications.web_pages import WebPages
from streams.publish import parse_document
from streams.settings import Settings

__all__ = ["CheckReport", "check_document", "write_previews"]


@dataclass
class CheckReport:
    """What ``preavis check`` found in one file, and where its previews are."""

    path: Path
    change: Change | None = None
    problems: list[Problem] = field(default_factory=list)
    #: the file does not parse: nothing else could be checked
    invalid: InvalidEvent | None = None
    languages: tuple[str, ...] = ()
    previews: list[Preview] = field(default_factory=list)
    folder: Path | None = None

    @property
    def ok(self) -> bool:
        return self.invalid is None and not self.problems

    def lines(self) -> list[str]:
        """The report as printed: the verdict, each problem with its field, the previews."""
        if self.invalid is not None:
            return [
                f"{self.path}: {self.invalid}",
                f"{self.path}: REFUSED: the file does not parse",
            ]
        assert self.change is not None
        out = [f"{self.path}: {self.change.campaign_id}"]
        out.append("  languages the audience needs: " + ", ".join(self.languages))
        out += [f"  {problem}" for problem in self.problems]
        for preview in self.previews:
            if preview.error is not None:
                out.append(f"  no preview in {preview.wanted}: {preview.error}")
            elif preview.language != preview.wanted:
                why = (
                    "the operator did not write every text in it"
                    if preview.wanted in SUPPORTED_LANGUAGES
                    else "preavis has no catalog for it yet"
                )
                out.append(f"  {preview.wanted}: {why}; its readers get {preview.language}")
        if self.folder is not None:
            written = sorted(path.name for path in self.folder.iterdir())
            out.append(f"  previews in {self.folder}: {', '.join(written) or 'none'}")
        verdict = (
            "OK: the campaign agent accepts it"
            if self.ok
            else f"REFUSED: {len(self.problems)} problem(s); the campaign agent would reject it"
        )
        out.append(f"{self.path}: {verdict}")
        return out


def check_document(settings: Settings, kind: str, path: Path) -> CheckReport:
    """Parse and check ``path`` as the campaign agent would (no preview written)."""
    report = CheckReport(path)
    parsed = parse_document(kind, path)
    if isinstance(parsed, InvalidEvent):
        report.invalid = parsed
        return report
    report.change = parsed
    report.problems = problems(parsed, min_notice_days=settings.min_notice_days)
    report.languages = required_languages(parsed.audience.resolved_countries)
    return report


def write_previews(settings: Settings, report: CheckReport, out: Path | None) -> None:
    """Write the previews of ``report``'s change into ``out`` (default: a new folder here)."""
    change = report.change
    if change is None:
        return
    if out is None:
        slug = change.campaign_id.replace(":", "-")
        folder = Path(tempfile.mkdtemp(prefix=f"preavis-preview-{slug}-", dir="."))
    else:
        folder = out
        folder.mkdir(parents=True, exist_ok=True)
    report.folder = folder
    report.previews = render_previews(
        change,
        report.languages,
        renderer=NoticeRenderer(),
        pages=WebPages(),
        mail_from=settings.mail_from,
        public_url=settings.public_url,
    )
    for preview in report.previews:
        if preview.eml is not None:
            (folder / f"notice.{preview.language}.eml").write_bytes(preview.eml)
        if preview.objection_page is not None:
            page = folder / f"objection.{preview.language}.html"
            page.write_text(preview.objection_page, encoding="utf-8")
