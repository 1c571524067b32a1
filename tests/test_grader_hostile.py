"""A grader that cannot be fooled (issue 14): hostile submissions get what their honest part earns,
and nothing they start or write outlives the grading.

The submissions are in ``tests/hostile_submissions.py``; each carries a unique token in the
command line of every process it starts, so a scan of ``/proc`` finds any survivor.  The
grader's temporary folders go to a folder of the test (``tempfile.tempdir``), which must be
empty afterwards.
"""
import os
import pickle
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from hostile_submissions import HOSTILE, write_hostile
from paddle_course.grading import grade, sandbox
from paddle_course.grading.registry import load_assignment, reference_solution

SEED = 2024
# over ~10 s each: timeouts (each costs the limit and a fresh child) and a walk of the file system
SLOW = {"sleeps_in_gradient", "exec_teachers_copy"}


@pytest.fixture
def grader_tmp(tmp_path, monkeypatch):
    """The grader's temporary folders, all in one place that the test checks is left empty."""
    folder = tmp_path / "grader_tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def processes_with(token):
    """PIDs of the processes whose command line holds ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry))
    return found


def survivors_after(token, wait=0.5):
    time.sleep(wait)  # a detached child would show up by now
    found = processes_with(token)
    for pid in found:  # never leave them running, whatever the test says
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return found


def _summary(report):
    lines = [f"score {report.score}; import error: {report.import_error}"]
    lines += [f"{r.name}: {r.status} {r.message[:200]}" for r in report.checks]
    return "\n".join(lines)


def _grade_hostile(name, folder, **kwargs):
    token = f"hostile{uuid.uuid4().hex[:12]}"
    path = write_hostile(name, folder, token)
    report = grade("hw02", path, seed=SEED, timeout=HOSTILE[name].timeout, **kwargs)
    return report, token


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
                                  for name in HOSTILE])
def test_hostile_submission_earns_only_its_honest_part_and_leaves_nothing(name, tmp_path, grader_tmp):
    report, token = _grade_hostile(name, tmp_path)
    assert report.score == HOSTILE[name].score, f"{HOSTILE[name].why}\n{_summary(report)}"
    assert not survivors_after(token), "a process the submission started outlived the grading"
    assert list(grader_tmp.iterdir()) == []


def test_forged_results_written_into_the_pipes_are_not_a_verdict(tmp_path, grader_tmp):
    report, _ = _grade_hostile("forged_result_lines", tmp_path)
    assert report.score == 0
    assert "exited" in report.import_error or "connection" in report.import_error


def test_a_detached_process_cannot_rewrite_the_next_submission(tmp_path, grader_tmp):
    report, token = _grade_hostile("setsid_survivors", tmp_path)
    assert report.full_marks
    next_report = grade("hw02", reference_solution(load_assignment("hw02")[0]), seed=SEED)
    assert next_report.full_marks
    assert not survivors_after(token)


def test_the_memory_limit_cannot_be_raised(tmp_path, grader_tmp):
    report, _ = _grade_hostile("raises_memory_limit", tmp_path)
    assert "MemoryError" in report.import_error


def test_the_grader_survives_a_submission_that_kills_its_parent(tmp_path, grader_tmp):
    report, _ = _grade_hostile("kills_its_parent", tmp_path)
    assert report.full_marks  # the grader went on and graded every check


def test_a_flood_of_output_is_cut_short(tmp_path, grader_tmp):
    report, _ = _grade_hostile("floods_output", tmp_path)
    assert report.full_marks
    assert len(report.to_json()) < 30_000


def test_the_package_solutions_and_network_are_out_of_reach(tmp_path, grader_tmp):
    if sandbox.containment().tool != "bwrap":
        pytest.skip("the full sandbox needs bubblewrap")
    report, token = _grade_hostile("reads_the_grader", tmp_path)
    line = next(line for line in report.import_output.splitlines() if token in line)
    assert " read 0 of " in line
    assert "paddle_course not importable" in line and "no network" in line


def _forced(tool):
    """The containment ``tool`` as if nothing stronger were here, and without a cgroup."""
    executable = shutil.which({"bwrap": "bwrap", "unshare": "unshare"}.get(tool, "")) if tool != "none" else None
    return sandbox.Containment(tool, executable, None, ["forced by the test"])


@pytest.mark.parametrize("tool", ["bwrap", "unshare", "none"])
def test_without_a_cgroup_or_bwrap_nothing_survives_either(tool, tmp_path, grader_tmp, monkeypatch):
    """The PID namespace (bwrap, unshare) or the subreaper (none) alone must catch detached processes;
    what is weaker than the full sandbox is said in the report."""
    if tool == "bwrap" and sandbox.containment().tool != "bwrap":
        pytest.skip("bwrap cannot make namespaces here")
    if tool == "unshare" and not (shutil.which("unshare")
                                  and sandbox._run_probe(["unshare", *sandbox._unshare_args(), "true"])[0]):
        pytest.skip("unshare cannot make namespaces here")
    forced = _forced(tool)
    monkeypatch.setattr(sandbox, "containment", lambda: forced)
    report, token = _grade_hostile("setsid_survivors", tmp_path)
    assert report.full_marks
    assert report.warnings == ["forced by the test"]
    assert not survivors_after(token), "a detached process outlived the grading"
    assert list(grader_tmp.iterdir()) == []


def test_a_fork_bomb_stays_in_its_process_limit_and_dies_with_the_grading(tmp_path, grader_tmp):
    if sandbox.containment().cgroup is None and os.geteuid() == 0:
        pytest.skip("no process limit here: root is exempt from RLIMIT_NPROC, and no cgroup can be made")
    token = f"bomb{uuid.uuid4().hex[:12]}"
    source = reference_solution(load_assignment("hw01")[0]).read_text(encoding="utf-8") + f'''
import os, sys, time
_started = 0
for _ in range(500):
    try:
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{token}"])
    except OSError:
        break
    _started += 1
print("started", _started)
'''
    path = tmp_path / "bomb.py"
    path.write_text(source, encoding="utf-8")
    report = grade("hw01", path, seed=SEED)
    assert report.full_marks
    started = int(report.import_output.split()[1])
    assert started < sandbox.Limits().processes
    assert not survivors_after(token)


@pytest.mark.slow
@pytest.mark.parametrize("call, names", [
    ('open, ({marker!r}, "w")', ("builtins.open", "io.open")),
    ('os.system, ("touch " + {marker!r},)', ("posix.system",)),
], ids=["open", "os.system"])
def test_a_crafted_checkpoint_is_refused_before_anything_in_it_runs(tmp_path, grader_tmp, call, names):
    """hw05: the learner's finetune leaves a pickle with a ``__reduce__`` in best_model/ and epoch_2/; the
    grader reads the checkpoint back, so it must refuse it without running it."""
    marker = tmp_path / "PWNED"
    source = reference_solution(load_assignment("hw05")[0]).read_text(encoding="utf-8") + f'''

class _Payload:
    def __reduce__(self):
        return ({call.format(marker=str(marker))})


_honest_finetune = finetune


def finetune(train_path, dev_path, out_dir, *args, **kwargs):
    import pickle
    result = _honest_finetune(train_path, dev_path, out_dir, *args, **kwargs)
    for folder in ("best_model", "epoch_2"):
        with open(os.path.join(str(out_dir), folder, "model.pdparams"), "wb") as file:
            pickle.dump({{"fc.weight": _Payload()}}, file)
    return result
'''
    path = tmp_path / "crafted_checkpoint.py"
    path.write_text(source, encoding="utf-8")
    report = grade("hw05", path, seed=SEED)
    result = report.result("finetune_returns_the_best_epoch")
    assert result.status == "FAIL" and "not a plain weights file" in result.message
    assert any(name in result.message for name in names) and "nothing in it was run" in result.message
    assert report.score == 9
    assert not marker.exists()
    assert list(grader_tmp.iterdir()) == []


def test_the_restricted_unpickler_refuses_code_that_plain_pickle_would_run(tmp_path):
    """The same attack without the sandbox: what hw05's check relies on."""
    from paddle_course.common.safe_weights import UnsafeWeightsError, load_pickled_state

    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with pytest.raises(UnsafeWeightsError, match="refusing"):
        load_pickled_state(pickle.dumps({"w": Payload()}))
    assert not marker.exists()
