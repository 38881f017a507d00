"""The Slurm executor's settings: which sbatch options a request gets, and which definitions are refused."""

from __future__ import annotations

import pytest

from evaluator.slurm.client import JobInfo, base_state, parse_scontrol
from evaluator.slurm.settings import SlurmSettings
from lib.core.config import DefinitionError
from lib.core.records import Status
from lib.core.request import Request

CLUSTER = {
    "partition": "gpu",
    "account": "evals",
    "qos": "normal",
    "gres": "gpu:1",
    "cpus_per_task": 8,
    "mem": "64G",
    "time": "04:00:00",
    "resources": [
        {"max_params_b": 15, "gres": "gpu:1"},
        {"precisions": ["float32"], "max_params_b": 40, "gres": "gpu:4", "mem": "256G"},
        {"max_params_b": 40, "gres": "gpu:2", "mem": "128G"},
        {"gres": "gpu:8", "mem": "512G", "time": "1-00:00:00"},
    ],
    "sbatch_args": ["--constraint=a100"],
    "setup": ["module load cuda/12.1", "source /opt/evals/venv/bin/activate"],
}


def request(params: float | None, precision: str = "bfloat16") -> Request:
    return Request(
        path="org/m.json",
        model="org/m",
        revision="main",
        precision=precision,
        weight_type="Original",
        status=Status.RUNNING,
        params=params,
    )


@pytest.mark.parametrize(
    ("params", "precision", "gres", "mem", "time"),
    [
        (7.2, "bfloat16", "gpu:1", "64G", "04:00:00"),
        (32, "bfloat16", "gpu:2", "128G", "04:00:00"),
        (32, "float32", "gpu:4", "256G", "04:00:00"),
        (70, "bfloat16", "gpu:8", "512G", "1-00:00:00"),
        (None, "bfloat16", "gpu:8", "512G", "1-00:00:00"),  # unknown size: only the unconditional rule
    ],
)
def test_a_bigger_model_asks_for_more_gpus(params, precision, gres, mem, time):
    options = SlurmSettings.from_mapping(CLUSTER).job_options(request(params, precision), timeout_s=3600)
    assert f"--gres={gres}" in options and f"--mem={mem}" in options and f"--time={time}" in options
    assert {"--partition=gpu", "--account=evals", "--qos=normal", "--cpus-per-task=8", "--no-requeue"} <= set(
        options
    )
    assert options[-1] == "--constraint=a100"


def test_without_a_time_the_limit_follows_the_jobs_timeout():
    options = SlurmSettings.from_mapping({}).job_options(request(7), timeout_s=3600)
    assert "--time=70" in options  # the job's own timeout fires 10 minutes before Slurm's
    assert not any(o.startswith(("--gres", "--partition", "--mem")) for o in options)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"partiton": "gpu"}, r"unknown field 'partiton' \(did you mean 'partition'\?\)"),
        ({"time": 14400}, r"time: input should be a valid string"),
        ({"time": "four hours"}, r"time: string should match pattern"),
        ({"mem": "lots"}, r"mem: string should match pattern"),
        ({"max_jobs": 0}, r"max_jobs: input should be greater than or equal to 1"),
        ({"max_jobs": True}, r"max_jobs: input should be a valid integer"),
        ({"cpus_per_task": "8"}, r"cpus_per_task: input should be a valid integer"),
        ({"sbatch_args": ["constraint=a100"]}, r"sbatch_args\[0\]: string should match pattern"),
        ({"setup": [["module", "load"]]}, r"setup\[0\]: input should be a valid string"),
        ({"resources": [{"max_params": 7, "gres": "gpu:1"}]}, r"resources\[0\]: unknown field 'max_params'"),
        ({"resources": {"gres": "gpu:1"}}, r"resources: input should be a valid list"),
        ({"job_name": "bad name; rm -rf /"}, r"job_name: string should match pattern"),
        ({"partition": "gpu\n#SBATCH --qos=high"}, r"partition: string should match pattern"),
    ],
)
def test_wrong_settings_are_refused_with_the_field_named(change, message):
    with pytest.raises(DefinitionError, match=message):
        SlurmSettings.from_mapping({**CLUSTER, **change})


def test_slurm_output_is_read_as_states_and_reasons():
    assert base_state("CANCELLED by 0") == "CANCELLED"
    assert base_state("OUT_OF_ME+") == "OUT_OF_MEMORY"
    fields = parse_scontrol(
        "JobId=7 JobName=x JobState=TIMEOUT Reason=TimeLimit ReqNodeList=(null) NodeList=n1"
    )
    assert (fields["JobState"], fields["Reason"], fields["NodeList"]) == ("TIMEOUT", "TimeLimit", "n1")
    info = JobInfo("7", "TIMEOUT", "TimeLimit", "0:15", "n1", time_limit="01:00:00")
    assert info.describe == "TIMEOUT (time limit 01:00:00) on n1 exit code 0:15"
    assert not info.live and JobInfo("8", "PENDING").live
