"""Monthly exchange prices (CONTRACTS §7). A missing or ambiguous price for P stops the run: support must never
be switched on or off by a gap in the data."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.csvio import read_rows
from pipeline.errors import SourceError
from pipeline.period import try_parse_month
from pipeline.quality.reasons import Reason
from pipeline.sources.base import StageContext, StageResult
from pipeline.sources.common import Quarantine, write_frame

SOURCE = "prices"
HEADER = ("month", "commodity", "price_eur_mwh", "source")
EXCHANGE_COMMODITIES = ("ELECTRICITY", "GAS", "WOODCHIP")  # the price series of §7 (not the connection lists)

SCHEMA = pa.schema(
    [
        ("month", pa.string()),
        ("commodity", pa.string()),
        ("price_eur_mwh", pa.float64()),
        ("price_text", pa.string()),
        ("source", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
    ]
)


def stage(files: list[Path], ctx: StageContext) -> StageResult:
    quarantine = Quarantine(SOURCE)
    rows: list[dict[str, object]] = []
    per_file: dict[str, int] = {}
    for path in files:
        label = ctx.label(path)
        count = 0
        for line, row in read_rows(path, HEADER):
            count += 1
            price = parse_price(row["price_eur_mwh"])
            problem = None
            if try_parse_month(row["month"]) is None:
                problem = (Reason.BAD_PERIOD, "month is not a real YYYY-MM")
            elif row["commodity"] not in EXCHANGE_COMMODITIES:
                problem = (Reason.UNKNOWN_ENUM, f"commodity is not one of {'|'.join(EXCHANGE_COMMODITIES)}")
            elif price is None:
                problem = (Reason.BAD_AMOUNT, "price_eur_mwh is not a decimal number with at most 2 decimals")
            if problem:
                quarantine.add(file=label, record=count, line=line, reason=problem[0], detail=problem[1])
                continue
            rows.append({"month": row["month"], "commodity": row["commodity"], "price_eur_mwh": float(price),
                         "price_text": str(price), "source": row["source"], "file": label, "line": line})
        per_file[label] = count
    frame = pd.DataFrame(rows, columns=SCHEMA.names)
    frame = _one_price_per_month(frame)
    require_period_prices(frame, ctx.period, files)
    part = ctx.part_dir(SOURCE) / "part-0000.parquet"
    write_frame(frame, part, SCHEMA)
    return StageResult(parts=[part], quarantine=quarantine, records_per_file=per_file)


_PRICE = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,2})?")


def parse_price(text: str) -> Decimal | None:
    """A price in the decimal form of CONTRACTS §7 (`.` point, at most 2 decimals; a monthly average may be
    negative), else None. `Decimal()` alone would also take `1e3`, `1_000`, ` 12`, `+5`, `NaN` and other scripts'
    digits, and read them as numbers nobody wrote."""
    return Decimal(text) if _PRICE.fullmatch(text) else None


def _one_price_per_month(frame: pd.DataFrame) -> pd.DataFrame:
    """Identical repeats are harmless; two different prices for one month and commodity are a conflict."""
    unique = frame.drop_duplicates(subset=["month", "commodity", "price_text"])
    clash = unique.loc[unique.duplicated(subset=["month", "commodity"], keep=False)]
    if not clash.empty:
        first = clash.iloc[0]
        raise SourceError(
            f"conflicting prices for {first['commodity']} {first['month']}", file=first["file"], line=int(first["line"])
        )
    return unique.sort_values(["month", "commodity"], kind="stable").reset_index(drop=True)


def require_period_prices(frame: pd.DataFrame, period: str, files: list[Path]) -> None:
    """The one missing-price check (§7): P needs every series, or the run stops before anything is decided."""
    present = set(frame.loc[frame["month"] == period, "commodity"])
    missing = [commodity for commodity in EXCHANGE_COMMODITIES if commodity not in present]
    if missing:
        names = ", ".join(path.name for path in files) or "prices/"
        raise SourceError(f"missing price for {period}: {', '.join(missing)} (run stopped; support is never "
                          f"switched by a gap)", file=names)
