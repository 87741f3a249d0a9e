"""The retail pipeline (sql/retail) as an Airflow DAG, for teams that orchestrate with Airflow.

deltagres speaks the PostgreSQL protocol, so Airflow's Postgres connection and the common SQL
operator run the same scripts `deltagres pipeline run` does: one task per stage, the same
dependencies, retries and timeouts, and `{{ ds }}` as the run date. Create a connection
`deltagres` (type Postgres, host and port of `deltagres serve`, any user) and set the Airflow
variable `retail_input_dir` to the folder `deltagres gen retail --out` wrote.

Airflow renders `{{ ... }}` templates, while the scripts use `${name}` parameters; the helper below
substitutes those before handing the SQL to the operator.
"""
from datetime import datetime, timedelta
from pathlib import Path

from airflow import DAG
from airflow.models import Variable
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "retail"


def stage(name: str) -> str:
    """The script of a stage with its ${...} parameters turned into Airflow templates."""
    text = (SQL_DIR / name).read_text()
    return (
        text.replace("${run_date}", "{{ ds }}")
        .replace("${input_dir}", "{{ var.value.retail_input_dir }}")
        .replace("${vacuum_retain_hours}", "168")
    )


def alert_on_failure(context):
    """The seed's Slack/e-mail alert: replace the print with your notifier."""
    ti = context["task_instance"]
    print(f"retail pipeline failed: {ti.task_id} on {context['ds']}: {context.get('exception')}")


default_args = {
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": alert_on_failure,
}

with DAG(
    dag_id="retail_deltagres",
    start_date=datetime(2024, 1, 1),
    schedule="@daily",
    catchup=False,
    default_args=default_args,
    max_active_runs=2,  # runs for different days may overlap: each stage writes only its day
    tags=["deltagres", "retail"],
) as dag:

    def sql_task(task_id: str, script: str) -> SQLExecuteQueryOperator:
        return SQLExecuteQueryOperator(
            task_id=task_id,
            conn_id="deltagres",
            sql=stage(script),
            split_statements=True,
            autocommit=True,  # every statement is its own Delta commit anyway
        )

    setup = sql_task("setup", "01_setup.sql")
    load_raw = sql_task("load_raw", "02_load_raw.sql")
    merge_updates = sql_task("merge_updates", "05_merge_updates.sql")
    skew_join = sql_task("skew_join", "03_skew_join.sql")
    enrich = sql_task("enrich", "04_enrich.sql")
    optimize = sql_task("optimize", "06_optimize.sql")
    report = sql_task("report", "07_report.sql")

    setup >> load_raw >> merge_updates >> [skew_join, enrich, report]
    [skew_join, enrich] >> optimize
