"""Make Great Expectations' Data Docs readable on a closed network.

GX 1.24 writes pages that load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs and its logo
from S3. Offline, the site index shows no validations (its table is filled in by bootstrap-table from a
JavaScript array) and result pages lose their pass/fail marks (icon-font glyphs). The package ships only its own
styles, fonts and images, so instead of vendoring five third-party libraries the pages are post-processed: every
CDN `<link>`/`<script>` is dropped, the logo points at the copy GX already puts in `static/images/`, the index's
validation table is written out as plain HTML rows, and a small local stylesheet (`offline/data_docs_offline.css`,
copied to `static/styles/`) gives the layout and draws the marks as Unicode glyphs. Plain links in the text
(GX's documentation) stay: they are links, not assets. Written for the pinned great-expectations==1.24.1.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
from pathlib import Path

STYLESHEET = Path(__file__).resolve().parent / "offline" / "data_docs_offline.css"
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.IGNORECASE)
_REMOTE_LOGO = re.compile(r"src=\"https://great-expectations-web-assets[^\"]*?/([\w.-]+\.png)[^\"]*\"")
_REMOTE_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script>(?:(?!</script>).)*</script>\s*", re.DOTALL)
_TABLE_DATA = re.compile(r"\$\('#([\w-]+)'\)\.bootstrapTable\(.*?columns: (\[.*?\]),\s*data: (\[.*?\]),\s*toolbar",
                         re.DOTALL)


def site_root(page: Path, top: Path) -> Path:
    """The GX site a page belongs to: the nearest folder (up to `top`) that holds GX's `static/`."""
    for folder in (page.parent, *page.parent.parents):
        if (folder / "static").is_dir() or folder == top:
            return folder
    return top


def static_index_table(page: str) -> str:
    """Replace the JavaScript-filled validation table of a GX site index by the same rows as plain HTML."""
    for table_id, columns_text, data_text in _TABLE_DATA.findall(page):
        columns = ast.literal_eval(columns_text)
        rows = ast.literal_eval(data_text)
        linked = any(row.get("_table_row_link_path") for row in rows)
        head = "".join(f"<th>{html.escape(c['title'])}</th>" for c in columns) + ("<th>result page</th>" if linked
                                                                                   else "")
        body = []
        for row in rows:
            cells = "".join(f"<td>{row.get(c['field'], '')}</td>" for c in columns)  # GX's own HTML fragments
            if linked:
                cells += f"<td><a href=\"{html.escape(row.get('_table_row_link_path', ''))}\">open result</a></td>"
            body.append(f"<tr>{cells}</tr>")
        table = (f"<table id=\"{table_id}\" class=\"table\"><thead><tr>{head}</tr></thead>"
                 f"<tbody>{''.join(body)}</tbody></table>")
        page = re.sub(rf"<table\s+id=\"{re.escape(table_id)}\"[^>]*>\s*</table>", lambda _m, t=table: t, page)
    return page


def offline_page(page: str, stylesheet_href: str) -> str:
    page = static_index_table(page)
    page = _REMOTE_LINK.sub("", page)
    page = _REMOTE_SCRIPT.sub("", page)
    page = _INLINE_SCRIPT.sub("", page)  # they all drive jQuery/bootstrap, which is gone
    page = _REMOTE_CSS_URL.sub("none", page)
    page = _REMOTE_LOGO.sub(lambda m: f"src=\"{stylesheet_href.rsplit('styles/', 1)[0]}images/{m.group(1)}\"", page)
    return page.replace("</head>", f"<link rel=\"stylesheet\" href=\"{stylesheet_href}\">\n</head>", 1)


def make_offline(docs: Path) -> int:
    """Rewrite every page under `docs` (one source's sites) to need nothing from the internet; returns the count."""
    for sheet in docs.rglob("static/styles/*.css"):
        text = sheet.read_text(encoding="utf-8")
        if _REMOTE_CSS_URL.search(text):
            sheet.write_text(_REMOTE_CSS_URL.sub("none", text), encoding="utf-8")
    pages = 0
    for path in sorted(docs.rglob("*.html")):
        root = site_root(path, docs)
        target = root / "static" / "styles" / STYLESHEET.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(STYLESHEET, target)
        href = Path(os.path.relpath(target, path.parent)).as_posix()
        text = path.read_text(encoding="utf-8")
        if STYLESHEET.name in text:
            continue  # already rewritten (GX rebuilds only the pages of a new validation)
        path.write_text(offline_page(text, href), encoding="utf-8")
        pages += 1
    return pages
