"""The sidebar's global filters: kept in session state across pages, mirrored in the URL.

The URL carries ``from`` and ``to`` (ISO dates) and repeated ``domain``,
``vendor``, ``tier`` and ``version`` keys, so a link reproduces the view. The
URL is read once, when a session starts; after that the widgets are the source
of truth and every rerun writes them back to the URL (Streamlit clears the
query string on a page switch, and this puts the filters back).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

import streamlit as st

from kpi_app import data
from kpi_core.grouping import Filters

#: URL key -> (session-state key of its widget, sidebar label, Filters field).
LISTS: dict[str, tuple[str, str, str]] = {
    "domain": ("filter_domain", "Domain", "domains"),
    "vendor": ("filter_vendor", "Vendor", "vendors"),
    "tier": ("filter_tier", "Tier", "tiers"),
    "version": ("filter_version", "Dataset version", "dataset_versions"),
}
_OPTION = {"domain": "domain", "vendor": "vendor", "tier": "tier", "version": "dataset_version"}
DATES = "filter_dates"
URL_KEYS = ("from", "to", *LISTS)
_STATE = "kpi_filters"
_READY = "_kpi_filters_from_url"
_WRITTEN = "_kpi_filters_in_url"
_IGNORED = "_kpi_filters_ignored"


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _clamp(day: date | None, low: date, high: date) -> date | None:
    return None if day is None else min(max(day, low), high)


def _seed_from_url(options: Mapping[str, list]) -> None:
    """Put the URL's filters into the widgets' state (once per session); what the
    data cannot honour is left out and kept for :func:`url_notice`."""
    first, last = options["dates"]
    params = st.query_params
    ignored = [
        f"{key}={params.get(key)} (not a date: write YYYY-MM-DD)"
        for key in ("from", "to")
        if params.get(key) and _parse_date(params.get(key)) is None
    ]
    notes = []  # what the view changed, then what it left out
    start = _parse_date(params.get("from"))
    end = _parse_date(params.get("to"))
    if start is not None and end is not None and end < start:
        notes.append(f"from={start} comes after to={end}: the view runs from {end} to {start}.")
        start, end = end, start
    if first is not None and last is not None:
        # A range wider than the data loses nothing; one outside it shows other days.
        if start is not None and start > last or end is not None and end < first:
            notes.append(
                f"dates {start or first} to {end or last} hold no data (it runs from {first} "
                f"to {last}): the view shows all of it."
            )
            start = end = None
        start = _clamp(start, first, last) or first
        end = _clamp(end, first, last) or last
        st.session_state[DATES] = (start, max(start, end))
    for url_key, (state_key, _, _) in LISTS.items():
        allowed = options[_OPTION[url_key]]
        asked = params.get_all(url_key)
        st.session_state[state_key] = [v for v in asked if v in allowed]
        ignored += [f"{url_key}={v} (not in this data)" for v in asked if v not in allowed]
    if ignored:
        notes.append(
            f"{'; '.join(ignored)}: left out, so this view is not narrowed by "
            f"{'it' if len(ignored) == 1 else 'them'}."
        )
    st.session_state[_IGNORED] = notes


def url_notice() -> None:
    """A warning naming the parts of the link the data could not honour, on the
    page the link opened (left out, or changed: the view is not the one asked for)."""
    notes = st.session_state.pop(_IGNORED, None)
    if notes:
        st.warning("The link's " + " The link's ".join(notes), icon=":material/link_off:")


def _sanitise(options: Mapping[str, list]) -> None:
    """Drop selections the data no longer offers (e.g. after the data changed)."""
    for url_key, (state_key, _, _) in LISTS.items():
        allowed = options[_OPTION[url_key]]
        chosen = st.session_state.get(state_key, [])
        if any(v not in allowed for v in chosen):
            st.session_state[state_key] = [v for v in chosen if v in allowed]
    first, last = options["dates"]
    dates = st.session_state.get(DATES)
    if first is not None and last is not None and not dates:
        st.session_state[DATES] = (first, last)
    elif first is not None and last is not None:
        clamped = tuple(_clamp(d, first, last) for d in dates)
        if clamped != tuple(dates):
            st.session_state[DATES] = clamped


def _clear() -> None:
    for state_key, _, _ in LISTS.values():
        st.session_state[state_key] = []
    st.session_state.pop(DATES, None)
    st.session_state[_READY] = False  # re-seed the dates from the (now empty) URL
    for key in URL_KEYS:
        if key in st.query_params:
            del st.query_params[key]


def _current(options: Mapping[str, list]) -> Filters:
    first, last = options["dates"]
    dates = tuple(st.session_state.get(DATES) or ())
    start = dates[0] if len(dates) > 0 else None
    end = dates[1] if len(dates) > 1 else None
    return Filters(
        date_from=start if start is not None and first is not None and start > first else None,
        date_to=end if end is not None and last is not None and end < last else None,
        **{
            field: tuple(st.session_state.get(state_key) or ())
            for state_key, _, field in LISTS.values()
        },
    )


def url_params(filters: Filters) -> dict[str, str | list[str]]:
    """The URL query parameters of ``filters`` (keys absent where nothing is filtered)."""
    params: dict[str, str | list[str]] = {}
    if filters.date_from is not None:
        params["from"] = filters.date_from.isoformat()
    if filters.date_to is not None:
        params["to"] = filters.date_to.isoformat()
    for url_key, (_, _, field) in LISTS.items():
        values = list(getattr(filters, field))
        if values:
            params[url_key] = values
    return params


def _url_filters() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in URL_KEYS if k in st.query_params}


def _write_url(filters: Filters) -> None:
    wanted = url_params(filters)
    st.session_state[_WRITTEN] = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    for key in URL_KEYS:
        if key in wanted:
            value = wanted[key]
            if st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
                st.query_params[key] = value
        elif key in st.query_params:
            del st.query_params[key]


def sidebar(source: data.Source) -> Filters:
    """Draw the global filters in the sidebar and return them (also in :func:`current`)."""
    options = data.options(source)
    in_url = _url_filters()
    if not st.session_state.get(_READY) or (in_url and in_url != st.session_state.get(_WRITTEN)):
        # A new session, or a link that carries filters (a page switch without
        # them clears the query string, which keeps the session's filters).
        _seed_from_url(options)
        st.session_state[_READY] = True
    _sanitise(options)
    first, last = options["dates"]
    with st.sidebar:
        st.subheader("Filters")
        if first is not None and last is not None:
            st.date_input(
                "Dates",
                key=DATES,
                min_value=first,
                max_value=last,
                format="YYYY-MM-DD",
                help="Keeps the ISO weeks (Monday to Sunday, UTC) that overlap the range.",
            )
        for url_key, (state_key, label, _) in LISTS.items():
            st.multiselect(
                label,
                options[_OPTION[url_key]],
                key=state_key,
                placeholder="All",
            )
        st.button(
            "Clear filters", on_click=_clear, type="tertiary", icon=":material/filter_alt_off:"
        )
    filters = _current(options)
    st.session_state[_STATE] = filters
    _write_url(filters)
    return filters


def current() -> Filters:
    """The filters the sidebar last drew (none before it has run)."""
    return st.session_state.get(_STATE, Filters())


def link_params(**extra: str | list[str]) -> dict[str, str | list[str]]:
    """Query parameters for a link to another page: the current filters plus ``extra``."""
    return {**url_params(current()), **extra}


def _applied(
    filters: Filters, applies: Collection[str] | None
) -> tuple[list[tuple[str, str, list[str]]], list[str]]:
    """The filters set that a page's data honours, as (URL key, label, values) with the
    dates first, and the labels of those set that it does not (see :func:`describe`)."""
    parts, ignored = [], []
    if filters.date_from or filters.date_to:
        dates = [
            filters.date_from.isoformat() if filters.date_from else "start",
            filters.date_to.isoformat() if filters.date_to else "as-of",
        ]
        if applies is None or "dates" in applies:
            parts.append(("dates", "dates", dates))
        else:
            ignored.append("date")
    for url_key, (_, label, field) in LISTS.items():
        values = getattr(filters, field)
        if values and (applies is None or url_key in applies):
            parts.append((url_key, label.lower(), list(values)))
        elif values:
            ignored.append(label.lower())
    return parts, ignored


def describe(filters: Filters, applies: Collection[str] | None = None) -> str:
    """The filters in words, for captions ("all data" when none).

    ``applies`` names the filters a page's data can honour (``dates``, or a list
    filter's URL key: ``domain``, ``vendor``, ``tier``, ``version``);
    filters set but not among them are named as not applying, so a caption never
    claims a filter the page ignores.
    """
    parts, ignored = _applied(filters, applies)
    text = "; ".join(
        " – ".join(values) if key == "dates" else f"{label}: {', '.join(values)}"
        for key, label, values in parts
    )
    text = text or "all data"
    if ignored:
        names = " and ".join([", ".join(ignored[:-1]), ignored[-1]] if ignored[:-1] else ignored)
        many = len(ignored) > 1
        text += f" (the {names} filter{'s do' if many else ' does'} not apply here)"
    return text


def file_part(filters: Filters, applies: Collection[str] | None = None) -> str:
    """The filters a page honours, for a downloaded file's name ("" when none): an
    export of medicine alone must not be named like the whole data's.
    ``domain-medicine_2026-01-05-to-as-of``."""
    parts, _ = _applied(filters, applies)
    return "_".join(
        "-to-".join(values) if key == "dates" else f"{key}-{'-'.join(values)}"
        for key, _, values in parts
    )


# ------------------------------------------------------------ page-specific choices


def page_choice(state_key: str, url_key: str, options: list, default):
    """Seed a page widget (``state_key``) from the URL's ``url_key`` when the page opens.

    Returns the value the widget will show. A value the options do not hold
    falls back to ``default``.
    """
    if state_key not in st.session_state or st.session_state[state_key] not in options:
        wanted = st.query_params.get(url_key)
        st.session_state[state_key] = wanted if wanted in options else default
        if wanted is not None and wanted not in options:
            # A toast: a warning here would sit among the page's controls, and push them.
            st.toast(
                f"The link's {url_key}={wanted} is not one this page offers: it shows "
                f"{default} instead.",
                icon=":material/link_off:",
                duration="long",
            )
    return st.session_state[state_key]


def remember_choice(state_key: str, url_key: str) -> None:
    """Mirror a page widget's value in the URL, so a link reproduces the view."""
    value = st.session_state.get(state_key)
    if value is not None and st.query_params.get(url_key) != str(value):
        st.query_params[url_key] = str(value)
