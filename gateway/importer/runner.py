"""Driving an import job through the platform's APIs, batch by batch.

Per batch: which source keys the site already has (skipped: a re-run or a resume imports
nothing twice), 入库 of the rest in one resources transaction (machine review included), then
one content transaction that places, reviews or migration-approves, publishes and records them.
An item whose relation names an item not imported yet waits until the end of the bundle.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from gateway.importer.bundle import ITEMS_FILE, Line, Rejected, read_bundle
from gateway.importer.mapping import metadata
from services.content.service.imports import paths_of
from services.content.vocab import ImportFailure

CONTENT = "/api/content/v1"
BATCH = 100


class ImportError_(RuntimeError):
    """The platform refused a whole request (not one item): the job stops, resumable."""


@dataclass
class Progress:
    done: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass
class Outcome:
    job_id: int
    total: int
    imported: int
    skipped: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    job: dict[str, Any] = field(default_factory=dict)


def scan(folder: Path) -> tuple[int, dict[str, list[str]]]:
    """The number of items, and the `interpreted_by` relations turned round: interpretation →
    the policies it interprets (the interpretation carries the relation, and waits for them)."""
    total = 0
    inverse: dict[str, list[str]] = {}
    with (folder / ITEMS_FILE).open("rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            total += 1
            if b'"interpreted_by"' not in raw:
                continue
            try:
                data = json.loads(raw)
                for rel in data.get("relations") or []:
                    if rel.get("kind") == "interpreted_by" and isinstance(rel.get("source_key"), str):
                        inverse.setdefault(rel["source_key"], []).append(str(data["source_key"]))
            except (ValueError, AttributeError, KeyError, TypeError):
                continue  # the line is reported when it is read
    return total, inverse


def _check(resp: httpx.Response, *ok: int) -> Any:
    if resp.status_code not in ok:
        raise ImportError_(f"{resp.request.method} {resp.request.url.path} → {resp.status_code}: {resp.text[:500]}")
    return resp.json()


def _chunks(lines: Iterator[Line | Rejected], size: int) -> Iterator[list[Line | Rejected]]:
    chunk: list[Line | Rejected] = []
    for line in lines:
        chunk.append(line)
        if sum(isinstance(x, Line) for x in chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Importer:
    def __init__(
        self,
        client: httpx.AsyncClient,
        site: str,
        *,
        batch: int = BATCH,
        approval: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        self.client = client
        self.site = site
        self.batch = batch
        self.approval = approval
        self.on_progress = on_progress or (lambda _p: None)
        self.on_start = on_start or (lambda _n: None)
        self.progress = Progress()
        self.keys: dict[str, int] = {}  # source key → resource id, of this site's imported items
        self.site_name = site
        self.columns: dict[str, Any] = {}
        self.job_id = 0
        self.inverse: dict[str, list[str]] = {}

    async def _post(self, url: str, body: Any, *ok: int) -> Any:
        return _check(await self.client.post(url, json=body), *(ok or (200,)))

    async def _prepare(self, folder: Path, total: int) -> None:
        site = _check(await self.client.get(f"{CONTENT}/sites/{self.site}"), 200)
        self.site_name = site.get("name") or self.site
        listed = _check(await self.client.get(f"{CONTENT}/sites/{self.site}/columns"), 200)
        self.columns = paths_of(SimpleNamespace(**c) for c in listed["items"])
        job = await self._post(f"{CONTENT}/sites/{self.site}/imports", {"label": str(folder.resolve()), "total": total}, 201)
        self.job_id = int(job["id"])
        if self.approval and not job.get("approved_by"):
            await self._post(f"{CONTENT}/imports/{self.job_id}/migration-approval", {"note": self.approval})

    async def run(self, folder: Path) -> Outcome:
        total, self.inverse = scan(folder)
        self.on_start(total)
        await self._prepare(folder, total)
        deferred: list[Line] = []
        for chunk in _chunks(read_bundle(folder), self.batch):
            deferred.extend(await self._batch(folder, chunk, defer=True))
        while deferred:
            waiting = len(deferred)
            deferred = await self._batch(folder, list(deferred), defer=True)
            if len(deferred) == waiting:  # nothing moved: the relations name items that are not there
                await self._batch(folder, list(deferred), defer=False)
                break
        job = await self._post(f"{CONTENT}/imports/{self.job_id}/finish", {})
        report = _check(await self.client.get(f"{CONTENT}/imports/{self.job_id}/report"), 200)
        return Outcome(
            job_id=self.job_id,
            total=total,
            imported=self.progress.imported,
            skipped=self.progress.skipped,
            failures=report["failures"],
            job=job,
        )

    async def _batch(self, folder: Path, chunk: list[Line | Rejected], *, defer: bool) -> list[Line]:
        failures: list[dict[str, Any]] = []

        def fail(number: int, key: str | None, reason: ImportFailure, message: str) -> None:
            failures.append({"line": number, "source_key": key, "reason": reason, "message": message[:2000]})

        lines: list[Line] = []
        for entry in chunk:
            if isinstance(entry, Rejected):
                fail(entry.number, entry.source_key, entry.reason, entry.message)
            else:
                lines.append(entry)
        await self._learn(lines)
        todo: list[Line] = []
        waiting: list[Line] = []
        for line in lines:
            item = line.item
            if item.source_key in self.keys:
                self.progress.skipped += 1
                continue
            if item.column.strip("/") not in self.columns:
                fail(line.number, item.source_key, ImportFailure.UNKNOWN_COLUMN, f"站点 {self.site} 没有栏目 {item.column}")
                continue
            targets = self._targets(line)
            absent = [t for t in targets if t not in self.keys]
            if absent:
                if defer:
                    waiting.append(line)
                else:
                    fail(line.number, item.source_key, ImportFailure.UNKNOWN_RELATION, f"关联的条目未导入：{', '.join(absent)}")
                continue
            todo.append(line)
        if todo:
            await self._store_and_place(folder, todo, fail)
        if failures:
            await self._post(f"{CONTENT}/imports/{self.job_id}/failures", {"items": failures})
        self.progress.failed += len(failures)
        self.progress.done += len(chunk) - len(waiting)
        self.on_progress(self.progress)
        return waiting

    async def _learn(self, lines: list[Line]) -> None:
        """Which of these keys (and of the items they relate to) the site already has."""
        wanted = {line.item.source_key for line in lines} | {
            r.source_key for line in lines for r in line.item.relations
        }
        wanted -= set(self.keys)
        if wanted:
            found = await self._post(f"{CONTENT}/imports/{self.job_id}/known", {"source_keys": sorted(wanted)})
            self.keys.update({k["source_key"]: int(k["resource_id"]) for k in found["items"]})

    def _targets(self, line: Line) -> list[str]:
        """The source keys of the policies this item interprets."""
        own = [r.source_key for r in line.item.relations if r.kind == "interprets"]
        return list(dict.fromkeys([*own, *self.inverse.get(line.item.source_key, [])]))

    async def _store_and_place(self, folder: Path, lines: list[Line], fail: Callable[..., None]) -> None:
        by_key = {line.item.source_key: line for line in lines}
        items: list[dict[str, Any]] = []
        for line in lines:
            body = {
                "metadata": metadata(
                    line.item, self.site, self.site_name, sorted({self.keys[k] for k in self._targets(line)})
                ),
                "body_html": line.item.body_html,
                "scope": "public",
            }
            if line.item.attachments:
                draft = await self._draft_with_files(folder, line, body, fail)
                if draft is not None:
                    items.append({"key": line.item.source_key, "resource_id": draft})
            else:
                items.append({"key": line.item.source_key, "create": body})
        if not items:
            return
        stored = await self._post(f"/sites/{self.site}/api/resources/v1/resources/batch-store", {"items": items})
        placements = []
        for result in stored["results"]:
            line = by_key[result["key"]]
            if not result["ok"]:
                fail(line.number, line.item.source_key, result["reason"], result["message"])
                continue
            placements.append(
                {
                    "line": line.number,
                    "source_key": line.item.source_key,
                    "column": line.item.column,
                    "resource_id": result["resource_id"],
                    "resource_version": result["version"],
                    "published_at": line.item.published_at.isoformat(),
                    "original_url": line.item.original_url,
                    "archived": line.item.archived,
                    "archived_at": line.item.archived_at.isoformat() if line.item.archived_at else None,
                }
            )
        if not placements:
            return
        placed = await self._post(f"{CONTENT}/imports/{self.job_id}/items", {"items": placements})
        for result, placement in zip(placed["results"], placements, strict=True):
            if result["ok"] and not result["skipped"]:
                self.progress.imported += 1
                self.keys[placement["source_key"]] = int(placement["resource_id"])
            elif result["skipped"]:
                self.progress.skipped += 1
            else:
                self.progress.failed += 1

    async def _draft_with_files(
        self, folder: Path, line: Line, body: dict[str, Any], fail: Callable[..., None]
    ) -> int | None:
        """A draft with its attachments uploaded; the batch then stores it like the others."""
        base = f"/sites/{self.site}/api/resources/v1/resources"
        made = await self.client.post(base, json=body)
        if made.status_code != 201:
            fail(line.number, line.item.source_key, ImportFailure.REJECTED, made.text[:500])
            return None
        rid = int(made.json()["id"])
        for att in line.item.attachments:
            path = folder / att.path
            media = mimetypes.guess_type(att.filename)[0] or "application/octet-stream"
            with path.open("rb") as fh:
                up = await self.client.post(f"{base}/{rid}/attachments", files={"file": (att.filename, fh, media)})
            if up.status_code != 201:
                fail(line.number, line.item.source_key, ImportFailure.REJECTED, f"附件 {att.path}: {up.text[:300]}")
                return None
        return rid
