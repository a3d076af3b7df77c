"""Which households changed status since the previous decided month, counted by cause.

The cause is read from what changed beside the status, in this order: the address is new or gone; a member's data
went into or out of quarantine (REVIEW); the income threshold of the policy changed; the member count changed;
otherwise the members' average income crossed the threshold in the new 12-month window.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from pipeline.decide.rules import ELIGIBLE, REVIEW

NONE = "—"


def _cause(before: pd.Series, now: pd.Series) -> str:
    if pd.isna(before["status"]):
        return "new address with a household"
    if pd.isna(now["status"]):
        return "no household at the address any more"
    if now["status"] == REVIEW:
        return f"member data quarantined ({now['review_reasons']})" if isinstance(now["review_reasons"], str) else (
            "member data quarantined")
    if before["status"] == REVIEW:
        return "member data no longer quarantined"
    if Decimal(str(before["threshold_eur"])) != Decimal(str(now["threshold_eur"])):
        return f"income threshold changed {Decimal(str(before['threshold_eur'])):.2f} → " \
               f"{Decimal(str(now['threshold_eur'])):.2f} EUR"
    if int(before["members"]) != int(now["members"]):
        return "member count changed"
    if now["status"] == ELIGIBLE:
        return "average income fell to or under the threshold"
    return "average income rose over the threshold"


def status_changes(before: pd.DataFrame, now: pd.DataFrame) -> tuple[list[dict[str, object]], int]:
    """Rows `from`, `to`, `cause`, `households` (most households first), and the count of unchanged households.

    `before` and `now` hold `aris_code`, `members`, `threshold_eur`, `status` (and `review_reasons` for now)."""
    columns = ["members", "threshold_eur", "status"]
    left = before.set_index("aris_code")[columns]
    right = now.set_index("aris_code")[[*columns, "review_reasons"]]
    joined = left.add_suffix("_before").join(right.add_suffix("_now"), how="outer")
    changed = joined.loc[joined["status_before"].fillna("") != joined["status_now"].fillna("")]
    counts: dict[tuple[str, str, str], int] = {}
    for _, row in changed.iterrows():
        was = pd.Series({c: row[f"{c}_before"] for c in columns})
        is_ = pd.Series({**{c: row[f"{c}_now"] for c in columns}, "review_reasons": row["review_reasons_now"]})
        key = (was["status"] if isinstance(was["status"], str) else NONE,
               is_["status"] if isinstance(is_["status"], str) else NONE, _cause(was, is_))
        counts[key] = counts.get(key, 0) + 1
    rows = [{"from": f, "to": t, "cause": c, "households": n}
            for (f, t, c), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return rows, len(joined) - len(changed)
