"""The template's command, `cookiecutter-mlops-reference`, driven through a terminal (tmux) as a user would.

Bakes here install nothing; each is one cookiecutter run with its hooks.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE

COMMAND = [sys.executable, "-m", "cookiecutter_mlops_reference"]
PRESETS = TEMPLATE / "reference-docs" / "presets"


class Terminal:
    """One tmux server of its own, running one command in a terminal whose screen a test reads."""

    def __init__(self, folder: Path):
        self.socket = folder / "tmux.sock"
        self.folder = folder

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True)
        assert result.returncode == 0, f"tmux {args[0]} failed: {result.stderr}"
        return result.stdout

    def start(self, *command: str) -> None:
        env = f"HOME={shlex.quote(str(self.folder))} PATH={shlex.quote(os.environ['PATH'])}"
        line = (
            f"cd {shlex.quote(str(self.folder))} && env {env} {shlex.join(command)}; echo EXIT=$?; sleep 600"
        )
        self.tmux("new-session", "-d", "-x", "200", "-y", "50", line)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-")

    def wait_for(self, pattern: str) -> str:
        """The screen once `pattern` shows on it (a stuck command fails the test, it does not hang it)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            screen = self.screen().rstrip()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.2)
        pytest.fail(f"never saw {pattern!r}; the screen:\n{self.screen()}")

    def type(self, text: str) -> None:
        if text:
            self.tmux("send-keys", "-l", text)
        self.tmux("send-keys", "Enter")

    def exit_code(self) -> int:
        return int(re.search(r"^EXIT=(\d+)$", self.wait_for(r"(?m)^EXIT=\d+$"), re.M).group(1))

    def close(self) -> None:
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it)")
    term = Terminal(tmp_path)
    yield term
    term.close()


def answers_of(project: Path) -> dict:
    return json.loads((project / ".cookiecutter.json").read_text())


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(cwd)}  # cookiecutter's replay files go to the test's folder
    return subprocess.run([*COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_a_bad_email_is_refused_at_its_prompt_and_the_next_answer_accepted(terminal, tmp_path):
    # given the command asking its questions in a terminal
    terminal.start(*COMMAND, str(TEMPLATE))
    for number in (1, 4, 5):  # project name, description, owner (slug and package are derived, not asked)
        terminal.wait_for(rf"\[{number}/16\][^\n]*\]: *$")
        terminal.type("")
    terminal.wait_for(r"Contact e-mail for the owners \[[^\]]*\]: *$")
    # when the e-mail has no @
    terminal.type("owners.example.com")
    # then it is refused at once, naming the rule, and asked again
    screen = terminal.wait_for(r"error: author_email = 'owners.example.com': must look like name@domain.tld")
    assert "Python version" not in screen, f"the next question came before the e-mail was fixed:\n{screen}"
    assert "Traceback" not in screen, screen
    terminal.wait_for(r"(?s)must look like.*Contact e-mail for the owners \[[^\]]*\]: *$")
    # when a good e-mail follows and every other answer is the default
    terminal.type("owners@example.org")
    for _ in range(400):  # the rest of the questions, each with its default (bounded: never hangs)
        screen = terminal.screen()
        if "EXIT=" in screen:
            break
        if screen.rstrip().endswith(":"):
            terminal.type("")
        time.sleep(0.3)
    # then the project is baked with that e-mail
    assert terminal.exit_code() == 0, terminal.screen()
    assert answers_of(tmp_path / "mlops-demo")["author_email"] == "owners@example.org", "e-mail not kept"


def test_a_derived_slug_that_breaks_a_rule_is_asked_for_and_the_rest_derive_from_the_answer(
    terminal, tmp_path
):
    # given a project name whose slug would be a YAML word
    terminal.start(*COMMAND, str(TEMPLATE))
    terminal.wait_for(r"What is the project called\? \[MLOps Demo\]: *$")
    terminal.type("Null")
    # then the slug is questioned (not shown as derived) with the rule it breaks
    screen = terminal.wait_for(r"Repository and Kubernetes name[^\n]*\[null\]: *$")
    assert "error: project_slug = 'null': must not be a word YAML reads" in screen, screen
    # when a good slug is typed, then the namespace derives from it and is only shown
    terminal.type("credit-risk")
    screen = terminal.wait_for(r"Python package name: credit_risk +\(from the answers above\)")
    assert "Aborted" not in screen, screen


def test_preset_workshop_minimal_bakes_what_the_preset_says(terminal, tmp_path):
    # when the preset is baked without questions
    terminal.start(*COMMAND, str(TEMPLATE), "--preset", "workshop-minimal", "--no-input")
    # then it succeeds and the answers are the preset's
    assert terminal.exit_code() == 0, terminal.screen()
    preset = yaml.safe_load((PRESETS / "workshop-minimal.yaml").read_text())["default_context"]
    (project,) = [path for path in tmp_path.iterdir() if (path / ".cookiecutter.json").is_file()]
    baked = answers_of(project)
    assert {key: baked[key] for key in preset} == preset, f"preset not applied: {baked}"
    assert (
        not (project / ".github").exists()
        and not (project / "src" / baked["package_name"] / "pipelines" / "kfp.py").exists()
    ), "ci=none and orchestrators=tekton still left their files"


def test_a_bad_override_gets_one_line_and_exit_1_with_no_folder(terminal, tmp_path):
    # when an override breaks a rule
    terminal.start(*COMMAND, str(TEMPLATE), "--no-input", "-o", "out", "python_version=3.9")
    # then one error line, exit 1, and no output folder at all
    assert terminal.exit_code() == 1
    screen = terminal.screen()
    errors = [line for line in screen.splitlines() if line.startswith("error: ")]
    assert errors == ["error: python_version = '3.9': must be one of 3.10, 3.11, 3.12, 3.13"], screen
    assert "Traceback" not in screen, screen
    assert not (tmp_path / "out").exists(), "an output folder was left behind"


@pytest.mark.parametrize(
    "options",
    [[], ["orchestrators=kfp", "data_versioning=dvc", "lineage_transport=http"]],
    ids=["defaults", "kfp-dvc-http"],
)
def test_next_steps_name_only_targets_the_baked_makefile_has(terminal, tmp_path, options):
    # when a project is baked through the command
    terminal.start(*COMMAND, str(TEMPLATE), "--no-input", *options)
    assert terminal.exit_code() == 0, terminal.screen()
    screen = terminal.screen()
    # then the next steps start in the project and every make target named exists in its Makefile
    assert "Next steps:" in screen and "\n  cd mlops-demo\n" in screen, screen
    named = set(re.findall(r"^  make ([\w-]+)", screen, re.M))
    makefile = (tmp_path / "mlops-demo" / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):(?!=)", makefile, re.M))
    assert {"install", "run"} <= named, f"install and run are always next: {named}"
    assert named <= targets, f"next steps name targets the Makefile lacks: {sorted(named - targets)}"
    kfp_only = "orchestrators=kfp" in options
    assert ("tekton-install" in named) is not kfp_only, f"tekton-install shown wrongly for {options}: {named}"
    assert ("repro" in named) is ("data_versioning=dvc" in options), named
    assert ("events.jsonl" in screen) is not ("lineage_transport=http" in options), "lineage file line wrong"


def test_plain_cookiecutter_prints_the_same_next_steps(tmp_path):
    # when the default is baked with plain cookiecutter
    env = {**os.environ, "HOME": str(tmp_path), "PWD": str(tmp_path)}
    plain = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 0, plain.stderr
    shutil.rmtree(tmp_path / "mlops-demo")
    ours = subprocess.run(
        [*COMMAND, "--no-input", str(TEMPLATE)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ours.returncode == 0, ours.stderr
    # then both print the same next steps
    assert "Next steps:" in plain.stdout, plain.stdout
    assert plain.stdout == ours.stdout, f"plain:\n{plain.stdout}\nours:\n{ours.stdout}"


def test_list_presets_prints_one_line_per_preset(tmp_path):
    result = run("--list-presets", str(TEMPLATE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(p.stem for p in PRESETS.glob("*.yaml")), lines
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines), f"a preset without its summary: {lines}"


def test_an_unknown_preset_names_the_real_ones(tmp_path):
    result = run("--preset", "nope", "--no-input", str(TEMPLATE), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: --preset 'nope': no such preset (presets: full-reference"), (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == [], "something was written"


def test_no_input_reports_every_bad_answer_at_once_and_a_bad_slug_once(tmp_path):
    # given several bad answers, one of them a name whose slug (and so namespace) is a YAML word
    result = run(
        "--no-input", str(TEMPLATE), "project_name=null", "author_email=x", "python_version=2.7", cwd=tmp_path
    )
    # then each is one line, the slug's failure is not repeated for the namespace made from it
    assert result.returncode == 1
    fields = [line.split()[1] for line in result.stderr.splitlines()]
    assert fields == ["project_slug", "author_email", "python_version"], result.stderr
    assert list(tmp_path.iterdir()) == [], "something was written"


def test_a_failed_bake_prints_our_lines_only_not_cookiecutters_traceback(tmp_path):
    # given saved answers (a replay file) with a bad e-mail: replay asks nothing, so the hook refuses
    good = run("--no-input", "-o", "first", str(TEMPLATE), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    (saved,) = (tmp_path / ".cookiecutter_replay").glob("*.json")
    context = json.loads(saved.read_text())
    context["cookiecutter"]["author_email"] = "nobody"
    replay = tmp_path / "answers.json"
    replay.write_text(json.dumps(context))
    out = tmp_path / "out"
    # when the command bakes it
    result = run("--replay-file", str(replay), "-o", str(out), str(TEMPLATE), cwd=tmp_path)
    # then exit 1, the hook's line and nothing else, and nothing written
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: author_email = 'nobody': must look like name@domain.tld"
    ], result.stderr
    assert not out.exists(), "output folder left behind"


def test_replay_rebakes_the_answers_of_the_last_bake(tmp_path):
    first = run("--no-input", "-o", "first", str(TEMPLATE), "project_name=Replay Me", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run("--replay", "-o", "second", str(TEMPLATE), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert answers_of(tmp_path / "second" / "replay-me") == answers_of(tmp_path / "first" / "replay-me"), (
        "replay gave other answers"
    )


def test_the_hook_and_the_command_follow_one_rules_module(tmp_path):
    # given a template copy whose shared rules module no longer supports Python 3.11 (the default)
    copy = tmp_path / "template"
    shutil.copytree(
        TEMPLATE,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", ".*cache", "__pycache__"),
    )
    rules = copy / "cookiecutter_mlops_reference" / "answers.py"
    text = rules.read_text()
    assert 'SUPPORTED_PYTHON = ("3.10", "3.11", "3.12", "3.13")' in text, "the rule this test changes moved"
    rules.write_text(
        text.replace(
            'SUPPORTED_PYTHON = ("3.10", "3.11", "3.12", "3.13")', 'SUPPORTED_PYTHON = ("3.12", "3.13")'
        )
    )
    expected = "error: python_version = '3.11': must be one of 3.12, 3.13"
    # when plain cookiecutter (the hook) and the command both bake the copy with the defaults
    env = {**os.environ, "HOME": str(tmp_path)}
    plain = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path / "a"), str(copy)],
        env=env,
        capture_output=True,
        text=True,
    )
    ours = run("--no-input", "-o", str(tmp_path / "b"), str(copy), cwd=tmp_path)
    # then both refuse the default with the changed rule
    assert plain.returncode != 0 and expected in plain.stderr.splitlines(), plain.stderr
    assert ours.returncode == 1 and ours.stderr.splitlines() == [expected], ours.stderr
    # and the hook holds no rule of its own
    hook = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text()
    assert "re.compile" not in hook and "SUPPORTED_PYTHON" not in hook, (
        "the hook carries its own copy of a rule"
    )


def test_published_address_is_one_setting_shared_with_the_docs():
    from cookiecutter_mlops_reference import PUBLISHED

    # the command's default, cookiecutter.json's setting (baked projects' pre-commit) and the docs agree
    assert json.loads((TEMPLATE / "cookiecutter.json").read_text())["_template_repo"] == PUBLISHED, (
        "cookiecutter.json's _template_repo differs from the command's published address"
    )
    readme = (TEMPLATE / "README.md").read_text()
    assert f"TEMPLATE_REPO={PUBLISHED}\n" in readme, "no TEMPLATE_REPO setting"
    assert readme.count(PUBLISHED) == 1, "README spells the address out more than once (use $TEMPLATE_REPO)"
    for doc in [TEMPLATE / "README.md", *sorted((TEMPLATE / "reference-docs").glob("*.md"))]:
        addresses = set(
            re.findall(r"https://github\.com/[\w.-]+/cookiecutter-mlops-reference", doc.read_text())
        )
        assert addresses <= {PUBLISHED}, f"{doc.name} names another address: {addresses}"
        assert "gh:ORG" not in doc.read_text(), f"{doc.name}: a second spelling of the address"


def test_a_config_file_gives_the_defaults_and_no_input_takes_them(tmp_path):
    # given a cookiecutter user config with default answers
    config = tmp_path / "config.yaml"
    config.write_text('default_context:\n  project_name: "From Config"\n  ci: "gitlab-ci"\n')
    # when the command bakes with it and asks nothing
    result = run("--config-file", str(config), "--no-input", str(TEMPLATE), cwd=tmp_path)
    # then the project carries the config's answers and what derives from them
    assert result.returncode == 0, result.stderr
    baked = answers_of(tmp_path / "from-config")
    assert (baked["project_name"], baked["ci"], baked["k8s_namespace"]) == (
        "From Config",
        "gitlab-ci",
        "from-config",
    )


def test_the_places_next_steps_name_are_where_the_project_writes(tmp_path):
    # given the default project and the next steps printed for it
    from cookiecutter_mlops_reference.next_steps import next_steps

    result = run("--no-input", str(TEMPLATE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "mlops-demo"
    text = next_steps(answers_of(project), project)
    # then every artifacts/ path it names is one params.yaml or openlineage.yml writes
    configured = (project / "params.yaml").read_text() + (project / "openlineage.yml").read_text()
    named = re.findall(r"artifacts/[\w./-]*[\w/]", text)
    assert len(named) >= 3, text
    for path in named:
        assert path.rstrip("/") in configured, f"next steps name {path}, which the project does not write"
    for name in re.findall(r"\b(\w+\.(?:md|json))\b", text):
        assert name in configured, f"next steps name {name}, which params.yaml does not"
    # and adopting your own data starts with a command the project has, and its walk-through
    assert "init-data PATH --target COL" in text, text
    assert (project / "docs" / "your-data.md").is_file(), (
        "next steps name docs/your-data.md, which is missing"
    )
