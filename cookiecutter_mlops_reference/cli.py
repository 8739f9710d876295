"""`cookiecutter-mlops-reference`: bake the template, checking each answer as it is given.

A front door over cookiecutter's API. It asks the template's questions in the
template's order, checks each answer with the rules the pre-generation hook
uses (the template's `cookiecutter_mlops_reference/answers.py`, loaded from the
checkout being baked) and asks again on a bad one. Values derived from earlier
answers (slug, package, namespace, image) are shown, and asked for only when
they break a rule. The bake itself is cookiecutter's, with every answer given,
so the hooks run as for plain `cookiecutter`, and the post-generation hook
prints the next steps.
"""

import importlib.util
import logging
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import yaml
from cookiecutter.config import get_user_config
from cookiecutter.environment import StrictEnvironment
from cookiecutter.exceptions import CookiecutterException, FailedHookException, UnknownRepoType
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import render_variable
from cookiecutter.repository import determine_repo_dir
from jinja2 import TemplateError

from . import PUBLISHED

CHECKOUT = Path(__file__).resolve().parents[1]  # the template, when this runs from a clone of it
PRESETS = Path("reference-docs", "presets")
POLICY = Path("{{cookiecutter.project_slug}}", "governance", "policy.yaml")
JINJA = ("{" + "{", "{" + "%")


class Refused(Exception):
    """Input the user can fix: shown as 'error: <message>' lines, exit 1."""

    def __init__(self, *lines: str):
        super().__init__(lines[0] if lines else "")
        self.lines = lines


def default_template() -> str:
    """This checkout when the command runs from one, else the published template."""
    return str(CHECKOUT) if (CHECKOUT / "cookiecutter.json").is_file() else PUBLISHED


def split_arguments(arguments: tuple[str, ...]) -> tuple[str | None, dict[str, str]]:
    """The template location and the key=value overrides, in any order, as cookiecutter takes them."""
    template, overrides = None, {}
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if sep and key.isidentifier() and not Path(argument).exists():
            overrides[key] = value
        elif template is None:
            template = argument
        else:
            raise Refused(
                f"{argument!r}: one template location only ({template!r} given first); "
                "overrides are key=value"
            )
    return template, overrides


def template_module(repo_dir: Path, name: str) -> ModuleType:
    """One module of the template's own package, from the checkout being baked (its rules, its version)."""
    path = repo_dir / "cookiecutter_mlops_reference" / f"{name}.py"
    if not path.is_file():
        raise Refused(
            f"{repo_dir}: not a cookiecutter-mlops-reference template (no {path.relative_to(repo_dir)})"
        )
    spec = importlib.util.spec_from_file_location(f"_template_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def preset_names(repo_dir: Path) -> list[str]:
    return sorted(path.stem for path in (repo_dir / PRESETS).glob("*.yaml"))


def preset_summary(path: Path) -> str:
    """The first sentence of a preset file's leading comment."""
    comment = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# ").strip())
    text = " ".join(comment)
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def load_preset(repo_dir: Path, name: str) -> dict[str, Any]:
    path = repo_dir / PRESETS / f"{name}.yaml"
    if not path.is_file():
        raise Refused(f"--preset {name!r}: no such preset (presets: {', '.join(preset_names(repo_dir))})")
    return dict(yaml.safe_load(path.read_text()).get("default_context") or {})


def check_given(
    source: str, given: Mapping[str, Any], template: Mapping[str, Any], rules: ModuleType, text: bool
) -> list[str]:
    """Problems with values given up front (preset, key=value): unknown options, bad choices and,
    when `text`, broken rules (with --no-input those are reported with the derived values, at once)."""
    found = []
    options = [key for key in template if not key.startswith("_")]
    for key, value in given.items():
        if key not in options:
            found.append(f"{source}: unknown option {key!r} (options: {', '.join(options)})")
            continue
        choices = template[key] if isinstance(template[key], list) else None
        line = rules.problem(key, str(value), choices) if choices or text else None
        if line:
            found.append(f"{source}: {line}")
    return found


def prompt_text(key: str, prompts: Mapping[str, Any]) -> str:
    text = prompts.get(key, key)
    return text.get("__prompt__", key) if isinstance(text, dict) else text


def choice_labels(key: str, choices: list[str], prompts: Mapping[str, Any]) -> list[str]:
    wording = prompts.get(key, {})
    return [
        f"{choice}: {wording[choice]}" if isinstance(wording, dict) and choice in wording else choice
        for choice in choices
    ]


SHORT = {
    "demographic_parity_difference": "parity gap",
    "equalized_odds_difference": "equalized odds gap",
    "equal_opportunity_difference": "opportunity gap",
    "disparate_impact_ratio": "disparate impact",
    "smallest_group_size": "smallest group",
}


def _limits(gates: Mapping[str, Any]) -> str:
    parts = []
    for metric, limit in (gates or {}).items():
        if "min" in limit:
            parts.append(f"{SHORT.get(metric, metric)} >= {limit['min']}")
        if "max" in limit:
            parts.append(f"{SHORT.get(metric, metric)} <= {limit['max']}")
    return ", ".join(parts)


def profile_details(
    repo_dir: Path, env: Any, values: Mapping[str, Any], profiles: list[str]
) -> dict[str, list[str]]:
    """What each governance profile sets, read from the policy file the template renders for it."""
    path = repo_dir / POLICY
    if not path.is_file():
        return {}
    details = {}
    try:
        source = env.from_string(path.read_text())
        for profile in profiles:
            policy = yaml.safe_load(source.render(cookiecutter={**values, "governance_profile": profile}))
            details[profile] = [
                f"performance: {_limits(policy.get('performance'))}",
                f"fairness, per sensitive attribute: {_limits(policy.get('fairness', {}).get('gates'))}",
                f"model card: {len(policy.get('model_card', {}).get('required', []))} required fields"
                + (", provenance required" if policy.get("provenance", {}).get("required") else ""),
            ]
    except (TemplateError, yaml.YAMLError, AttributeError, TypeError):
        return {}  # a policy this code cannot summarise: the prompt still works, without the numbers
    return details


class Asker:
    """Asks the template's questions one by one, checking each answer as it is given."""

    def __init__(self, repo_dir: Path, context: dict, rules: ModuleType, no_input: bool, given: set[str]):
        self.repo_dir, self.rules, self.no_input = repo_dir, rules, no_input
        self.given = given  # keys answered up front: their text is taken as typed, never rendered
        self.template = context["cookiecutter"]
        self.prompts = self.template.get("__prompts__", {})
        self.env = StrictEnvironment(context=context, keep_trailing_newline=True)
        self.keys = [key for key in self.template if not key.startswith("_")]

    def ask_all(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        found, refused = [], []
        for number, key in enumerate(self.keys, start=1):
            raw = self.template[key]
            label = f"[{number}/{len(self.keys)}] {prompt_text(key, self.prompts)}"
            if isinstance(raw, list):
                values[key] = raw[0] if self.no_input else self.choose(key, raw, label, values)
            elif isinstance(raw, str):
                derived = key not in self.given and any(mark in raw for mark in JINJA)
                value = render_variable(self.env, raw, values) if derived else raw
                line = self.rules.problem(key, value)
                if self.no_input:
                    # one bad slug, not also the namespace made from it
                    if line and not (derived and any(bad in value for bad in refused)):
                        found.append(line)
                        refused += [value] if value else []
                elif derived and not line:
                    click.echo(f"{label}: {value}  (from the answers above)")
                else:
                    if line:
                        click.echo(f"error: {line}", err=True)
                    value = self.ask(key, label, value)
                values[key] = value
            else:
                values[key] = raw  # no such question in this template yet: passed through as is
        if found:
            raise Refused(*found)
        return values

    def ask(self, key: str, label: str, default: str) -> str:
        while True:
            value = click.prompt(label, default=default or None, show_default=bool(default))
            line = self.rules.problem(key, value)
            if not line:
                return value
            click.echo(f"error: {line}", err=True)

    def choose(self, key: str, choices: list[str], label: str, values: Mapping[str, Any]) -> str:
        click.echo(label)
        details = {}
        if key == "governance_profile":
            filled = {
                k: values.get(k, v[0] if isinstance(v, list) else v)
                for k, v in self.template.items()
                if not k.startswith("_")
            }
            details = profile_details(self.repo_dir, self.env, filled, choices)
        for number, text in enumerate(choice_labels(key, choices, self.prompts), start=1):
            click.echo(f"    {number} - {text}")
            for line in details.get(choices[number - 1], []):
                click.echo(f"          {line}")
        numbers = ", ".join(str(n) for n in range(1, len(choices) + 1))
        while True:
            answer = click.prompt(f"    Choose from {numbers}", default="1").strip()
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return choices[int(answer) - 1]
            if answer in choices:
                return answer
            click.echo(
                f"error: {key} = {answer!r}: choose a number from {numbers} or one of {', '.join(choices)}",
                err=True,
            )


@contextmanager
def template_imports(repo_dir: Path) -> Iterator[None]:
    """The template's Jinja extensions (local_extensions.py) importable while rendering."""
    saved = list(sys.path)
    sys.path.append(str(repo_dir))
    try:
        yield
    finally:
        sys.path[:] = saved


@contextmanager
def nothing_left_on_failure(output_dir: Path) -> Iterator[None]:
    """An output folder this bake made goes again on failure (cookiecutter removes only the project)."""
    existed = output_dir.exists()
    try:
        yield
    except BaseException:
        if not existed and output_dir.is_dir() and not any(output_dir.iterdir()):
            shutil.rmtree(output_dir)
        raise


def quiet_cookiecutter() -> None:
    """cookiecutter logs a traceback for a failed hook; the hook has already said what was wrong."""
    log = logging.getLogger("cookiecutter")
    log.addHandler(logging.NullHandler())
    log.propagate = False


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("arguments", nargs=-1, metavar="[TEMPLATE] [KEY=VALUE]...")
@click.option(
    "--preset", metavar="NAME", help="Start from a preset in reference-docs/presets/ (see --list-presets)."
)
@click.option("--list-presets", is_flag=True, help="List the presets, one line each, and exit.")
@click.option("--no-input", is_flag=True, help="Ask nothing: defaults, preset, config file and overrides.")
@click.option(
    "--config-file", type=click.Path(exists=True, dir_okay=False), help="cookiecutter user config file."
)
@click.option("--replay", is_flag=True, help="Bake again with the answers cookiecutter saved last time.")
@click.option(
    "--replay-file", type=click.Path(exists=True, dir_okay=False), help="Bake with the answers in this file."
)
@click.option(
    "-o",
    "--output-dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the project folder is made.",
)
@click.option("-c", "--checkout", help="Branch, tag or commit of a git template.")
@click.option("--directory", help="Folder of the template inside a repository.")
def main(
    arguments,
    preset,
    list_presets,
    no_input,
    config_file,
    replay,
    replay_file,
    output_dir,
    checkout,
    directory,
):
    """Make a new MLOps project from the cookiecutter-mlops-reference template.

    TEMPLATE is a local folder or a git location such as gh:OWNER/REPO (default:
    the checkout this command runs from, else the published template). Each
    KEY=VALUE sets an answer, as for cookiecutter.
    """
    quiet_cookiecutter()
    try:
        run(
            arguments,
            preset,
            list_presets,
            no_input,
            config_file,
            replay,
            replay_file,
            Path(output_dir),
            checkout,
            directory,
        )
    except Refused as refused:
        for line in refused.lines:
            click.echo(f"error: {line}", err=True)
        sys.exit(1)
    except FailedHookException:
        sys.exit(1)  # the hook printed its own lines; cookiecutter removed the project
    except UnknownRepoType:
        click.echo(
            "error: cookiecutter cannot tell what kind of repository the template is "
            "(give a folder, gh:OWNER/REPO or git+URL)",
            err=True,
        )
        sys.exit(1)
    except CookiecutterException as exc:
        click.echo(f"error: {' '.join(str(exc).split()) or type(exc).__name__}", err=True)
        sys.exit(1)


def run(
    arguments,
    preset,
    list_presets,
    no_input,
    config_file,
    replay,
    replay_file,
    output_dir: Path,
    checkout,
    directory,
) -> None:
    template, overrides = split_arguments(arguments)
    template = template or default_template()
    if (replay or replay_file) and (overrides or no_input or preset):
        raise Refused(
            "--replay and --replay-file take the saved answers: no --no-input, --preset or key=value"
        )
    config = get_user_config(config_file=config_file)
    repo_dir, cleanup = determine_repo_dir(
        template=template,
        abbreviations=config["abbreviations"],
        clone_to_dir=config["cookiecutters_dir"],
        checkout=checkout,
        no_input=no_input or bool(replay or replay_file),
        password=os.environ.get("COOKIECUTTER_REPO_PASSWORD"),
        directory=directory,
    )
    repo_dir = Path(repo_dir)
    try:
        if list_presets:
            for name in preset_names(repo_dir):
                click.echo(f"{name:<20} {preset_summary(repo_dir / PRESETS / f'{name}.yaml')}")
            return
        rules = template_module(repo_dir, "answers")
        with nothing_left_on_failure(output_dir):
            if replay or replay_file:
                cookiecutter(
                    str(repo_dir),
                    replay=replay_file or True,
                    output_dir=str(output_dir),
                    config_file=config_file,
                )
                return
            answers = ask(repo_dir, rules, config, preset, overrides, no_input)
            target = output_dir / answers["project_slug"]
            if target.exists():
                raise Refused(f"{target} already exists: choose another project_slug or --output-dir")
            # the checkout found above (a git template is not cloned twice), every answer given
            cookiecutter(
                str(repo_dir),
                no_input=True,
                extra_context=answers,
                output_dir=str(output_dir),
                config_file=config_file,
            )
    finally:
        if cleanup:
            shutil.rmtree(repo_dir, ignore_errors=True)


def ask(
    repo_dir: Path,
    rules: ModuleType,
    config: dict,
    preset: str | None,
    overrides: dict[str, str],
    no_input: bool,
) -> dict[str, Any]:
    """Every answer: cookiecutter.json, then the user config, the preset, key=value, then the prompts."""
    import json

    template = json.loads((repo_dir / "cookiecutter.json").read_text())
    given = load_preset(repo_dir, preset) if preset else {}
    text = not no_input
    found = check_given(f"--preset {preset}", given, template, rules, text) if preset else []
    found += check_given("override", overrides, template, rules, text)
    defaults = {key: value for key, value in config["default_context"].items() if key in template}
    found += check_given("--config-file", defaults, template, rules, text)
    if found:
        raise Refused(*found)
    with template_imports(repo_dir):
        context = generate_context(
            context_file=str(repo_dir / "cookiecutter.json"),
            default_context={**defaults, **{key: str(value) for key, value in given.items()}},
            extra_context=overrides,
        )
        given_keys = set(defaults) | set(given) | set(overrides)
        return Asker(repo_dir, context, rules, no_input, given_keys).ask_all()
