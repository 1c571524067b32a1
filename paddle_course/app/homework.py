"""The Homework tab (hw01-hw05): pick an assignment, download its starter, upload your file, see the grade.

Grading calls :func:`paddle_course.grading.check_homework`, the function behind
``paddle-course homework check``, so a file uploaded here runs contained exactly as it does
from the command line, and gets the same checks, points and messages.
"""
import html
import shutil

from paddle_course.common.webui import UploadProblem, check_upload_size, problem, uploaded_path

MAX_SUBMISSION_MB = 1


def assignments():
    """``{"hw01 — title (n checks, p points)": Assignment}`` in order."""
    from paddle_course.grading.registry import all_assignments

    return {f"{a.id} — {a.title} ({len(specs)} checks, {sum(s.points for s in specs)} points)": a
            for a, specs in all_assignments()}


def statement(assignment):
    """The assignment's README.md (its statement), as shipped."""
    from paddle_course.grading.registry import assignment_folder

    return (assignment_folder(assignment) / "README.md").read_text(encoding="utf-8")


def starter_copy(assignment, folder):
    """The starter file copied to ``folder/<id>_solution.py`` (what the learner downloads and fills in)."""
    from paddle_course.grading.registry import assignment_folder

    target = folder / f"{assignment.id}_{assignment.solution_file}"
    shutil.copyfile(assignment_folder(assignment) / "starter.py", target)
    return target


def grade_upload(assignment, upload):
    """Grade an uploaded file with the CLI's function; the report as a dict (see ``GradeReport.to_dict``)."""
    from paddle_course import grading

    path = uploaded_path(upload)
    if path is None:
        raise UploadProblem(f"no file yet: upload your {assignment.solution_file} (download the starter above)")
    check_upload_size(path, MAX_SUBMISSION_MB)
    if path.suffix != ".py":
        raise UploadProblem(f"{path.name} is not a .py file: upload the Python file you filled in")
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UploadProblem(f"{path.name} is not UTF-8 text: save it as UTF-8 and upload it again") from None
    return grading.check_homework(assignment.id, str(path)).to_dict()


def report_markdown(report):
    """The report as the page shows it: the score, then one block per check (PASS/FAIL, expected, received, hint)."""
    lines = [f"## score: {report['score']}/{report['max_score']}" + (" — full marks" if report["full_marks"] else ""),
             f"{report['assignment']} {report['title']}; seed {report['seed']} (the command line repeats these "
             f"inputs with `--seed {report['seed']}`), time limit {report['timeout']:g} s per check"
             + (f"; your file ran in {report['sandbox']}" if report.get("sandbox") else "")]
    lines += [f"> warning: {html.escape(w)}" for w in report.get("warnings") or []]
    if report.get("import_output"):
        lines += ["Your file printed while being imported:", _code(report["import_output"])]
    if report.get("import_error"):
        lines += [f"**PROBLEM:** {html.escape(report['import_error'])}"]
    for check in report["checks"]:  # no emoji: a browser without an emoji font shows empty boxes
        lines.append(f"**[{check['status']}] {check['earned']}/{check['points']} {check['name']}**: "
                     f"{html.escape(check['tests'])}")
        if check["status"] == "PASS":
            continue
        for label in ("message", "expected", "received", "hint"):
            if check.get(label):
                lines.append(f"- {'problem' if label == 'message' else label}: {_inline(check[label])}")
        if check.get("output"):
            lines += ["- printed:", _code(check["output"])]
    return "\n\n".join(lines)


def _inline(text):
    text = str(text)
    return _code(text) if "\n" in text else f"`{text}`" if "`" not in text else html.escape(text)


def _code(text):
    return "```\n" + str(text).replace("```", "'''") + "\n```"


def homework_tab(gr, folder):
    """The tab's components and events, inside the caller's ``gr.Blocks``; starters are copied into ``folder``."""
    choices = assignments()
    first = next(iter(choices))
    gr.Markdown("### Homework (hw01-hw05)\n1. Pick an assignment and read its statement. 2. Download the starter "
                "and fill in the TODOs. 3. Upload your file and press **Check**: the autograder runs your code "
                "contained, as `paddle-course homework check` does, and explains every check.")
    with gr.Row():
        with gr.Column(scale=2):
            pick = gr.Dropdown(list(choices), value=first, label="Assignment", elem_id="homework-pick")
            download = gr.DownloadButton("Download the starter", value=str(starter_copy(choices[first], folder)),
                                         elem_id="homework-download")
            upload = gr.File(label="Your solution (.py)", file_types=[".py"], type="filepath",
                             elem_id="homework-upload")
            check = gr.Button("Check", variant="primary", elem_id="homework-check")
        with gr.Column(scale=3):
            with gr.Accordion("Statement", open=True):
                text = gr.Markdown(statement(choices[first]), max_height=420, elem_id="homework-statement")
    report = gr.Markdown(elem_id="homework-report")

    def on_pick(label):
        if label not in choices:
            return gr.update(), problem("choose an assignment from the list"), ""
        return str(starter_copy(choices[label], folder)), statement(choices[label]), ""

    def on_check(label, upload_value):
        if label not in choices:
            return problem("choose an assignment from the list")
        try:
            return report_markdown(grade_upload(choices[label], upload_value))
        except UploadProblem as exc:
            return problem(str(exc))

    pick.change(on_pick, pick, [download, text, report], api_name="homework_starter")
    check.click(on_check, [pick, upload], report, api_name="homework_check")
