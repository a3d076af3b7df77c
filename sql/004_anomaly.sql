-- Anomalies a person accepted to let a month through the month-over-month gate (issue 13).
-- One row per measure beyond the tolerance, with the reason given on the command line or in the Airflow param.

CREATE TABLE IF NOT EXISTS anomaly_acceptances (
    period           TEXT NOT NULL,
    run_id           TEXT NOT NULL,
    measure          TEXT NOT NULL,
    previous_period  TEXT NOT NULL,
    previous_value   DOUBLE PRECISION NOT NULL,
    current_value    DOUBLE PRECISION NOT NULL,
    tolerance        DOUBLE PRECISION NOT NULL,
    reason           TEXT NOT NULL,
    accepted_at      TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS anomaly_acceptances_by_period ON anomaly_acceptances (period);
