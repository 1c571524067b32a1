"""The README's first block is what a fresh machine runs, and .ci/run runs exactly that."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _first_bash_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^```bash\n(.*?)^```$", text, flags=re.S | re.M)
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_readme_starts_with_two_commands_setup_and_tour_then_tests():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("```bash") < 40  # right under the title
    setup, tests = _first_bash_block()
    assert "pip install" in setup and setup.rstrip().endswith("paddle-course tour")
    assert "pytest" in tests


def test_ci_script_reads_the_same_two_commands():
    awk = re.search(r"awk '([^']*)' README.md", (ROOT / ".ci" / "run").read_text()).group(1)
    out = subprocess.run(["awk", awk, str(ROOT / "README.md")], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == _first_bash_block()
