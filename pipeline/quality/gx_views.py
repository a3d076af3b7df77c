"""Data Docs page views that compile GX's Jinja templates once per process instead of once per site.

GX 1.24's SiteBuilder makes a new view object for each section and for the index every time a site is built, and
each `DefaultJinjaView` makes its own Jinja `Environment`, whose template cache dies with it: every source's site
compiled the same ~50 templates again (more CPU than validating a small source). These views are
GX's own page and index views, named in the site's configuration (`site_section_builders.<section>.view`,
`site_index_builder.view`, the documented way to choose a view class); the only difference is that every view
with the same custom folders uses the first one's Environment, so a template compiled for one site serves the
next. The pages are the same: same templates, same filters (the page and index views share every filter method
and differ only in the template they start from), and the filters take everything they render from the page's
own Jinja context. Written for the pinned great-expectations==1.24.1.
"""

from __future__ import annotations

import threading
from typing import Any

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

_ENVIRONMENTS: dict[tuple[Any, Any], Any] = {}  # (custom styles folder, custom views folder) -> jinja2 Environment
_LOCK = threading.Lock()


def _shared_environment(view: DefaultJinjaPageView) -> Any:
    """The process's Environment for this view's custom folders; the view's own one becomes it if it is the first."""
    key = (view.custom_styles_directory, view.custom_views_directory)
    with _LOCK:
        return _ENVIRONMENTS.setdefault(key, view.env)


class SharedPageView(DefaultJinjaPageView):
    """GX's page view (`page.j2`: a suite's or a validation result's page) on the process's shared templates."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env = _shared_environment(self)


class SharedIndexPageView(DefaultJinjaIndexPageView):
    """GX's site index view (`index_page.j2`) on the process's shared templates."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env = _shared_environment(self)


def view_config(view: type) -> dict[str, str]:
    """How a GX site configuration names one of these views."""
    return {"module_name": view.__module__, "class_name": view.__name__}
