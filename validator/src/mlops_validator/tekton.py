"""Tekton semantics the API server's schema cannot see: do the names resolve?

Tasks, Pipelines, PipelineRuns, TaskRuns and Triggers refer to each other and to
their own params, workspaces and results by name. These rules check that every
such name is declared, that the task graph has no cycle, and that whatever runs
a Task or Pipeline supplies its required params and workspaces. A Task or
Pipeline fetched by a resolver (git, hub, bundles, cluster) is not in the
repository, so what it needs is not checked.
"""

from dataclasses import dataclass

from .findings import Finding
from .loader import Tree, line_of, value_line
from .variables import references, references_under

RULE_IDS = {
    "TKN-PARAM-REF": "a `$(params.x)` or `$(tt.params.x)` names a param that is not declared",
    "TKN-WORKSPACE-REF": "a `$(workspaces.x...)` or a workspace binding names an undeclared workspace",
    "TKN-RESULT-REF": "a `$(results.x.path)` or `$(tasks.t.results.r)` names an unknown task or result",
    "TKN-TASKREF": "a taskRef names no Task in the repository and uses no resolver",
    "TKN-PIPELINEREF": "a pipelineRef names no Pipeline in the repository and uses no resolver",
    "TKN-TRIGGER-REF": "a trigger names no TriggerBinding or TriggerTemplate in the repository",
    "TKN-RUNAFTER": "a runAfter names no task of the pipeline (or sits on a finally task)",
    "TKN-CYCLE": "the pipeline's tasks depend on each other in a cycle (runAfter, results, finally)",
    "TKN-PARAM-MISSING": "a required param (no default) is not supplied by whatever runs the Task/Pipeline",
    "TKN-WORKSPACE-MISSING": "a required workspace is not bound by whatever runs the Task/Pipeline",
}

WORKSPACE_ATTRIBUTES = {"path", "bound", "claim", "volume"}
TASK_KINDS = {"Task", "ClusterTask"}
SKIP = ("description",)


def is_tekton(obj: dict) -> bool:
    api = obj.get("apiVersion")
    return isinstance(api, str) and (api.startswith("tekton.dev/") or api.startswith("triggers.tekton.dev/"))


def _named(items) -> dict:
    """{name: item} for a list of mappings with a `name`."""
    if not isinstance(items, list):
        return {}
    return {
        item["name"]: item for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)
    }


def _mapping(node) -> dict:
    return node if isinstance(node, dict) else {}


@dataclass
class Interface:
    """What a Task or Pipeline declares: its params, workspaces and results."""

    params: dict
    workspaces: dict
    results: set

    @classmethod
    def of(cls, spec) -> "Interface":
        spec = _mapping(spec)
        return cls(
            _named(spec.get("params")), _named(spec.get("workspaces")), set(_named(spec.get("results")))
        )

    def required_params(self) -> list[str]:
        return [name for name, param in self.params.items() if "default" not in param]

    def required_workspaces(self) -> list[str]:
        return [name for name, ws in self.workspaces.items() if ws.get("optional") is not True]


class Index:
    """Every Task, Pipeline, TriggerBinding and TriggerTemplate in the repository, by name.

    A name is looked up nearest first: the same file, then the closest folder.
    Where several different specs are equally near (say two versions of one
    Task), the reference resolves but the interface is not checked.
    """

    KINDS = {
        "Task": "tasks",
        "ClusterTask": "tasks",
        "Pipeline": "pipelines",
        "TriggerBinding": "bindings",
        "TriggerTemplate": "templates",
    }

    def __init__(self, tree: Tree):
        self.tables: dict[str, dict[str, list]] = {table: {} for table in self.KINDS.values()}
        for document, obj in tree.objects():
            table = self.KINDS.get(obj.get("kind"))
            name = _mapping(obj.get("metadata")).get("name")
            if table is not None and is_tekton(obj) and isinstance(name, str):
                self.tables[table].setdefault(name, []).append((document.path, _mapping(obj.get("spec"))))

    def find(self, table: str, name: str, near: str):
        """False when `name` is not defined; None when ambiguous; else its spec."""
        candidates = self.tables[table].get(name)
        if not candidates:
            return False
        here = near.split("/")

        def nearness(candidate) -> int:
            there = candidate[0].split("/")
            if there == here:
                return len(here) + 1
            shared = 0
            for mine, theirs in zip(here[:-1], there[:-1], strict=False):
                if mine != theirs:
                    break
                shared += 1
            return shared

        best = max(nearness(c) for c in candidates)
        specs = [spec for path, spec in candidates if nearness((path, spec)) == best]
        return specs[0] if all(spec == specs[0] for spec in specs) else None


class Checker:
    """Collects the findings for one document."""

    def __init__(self, path: str, index: Index):
        self.path = path
        self.index = index
        self.findings: list[Finding] = []
        # A v1alpha1 TriggerTemplate substitutes `$(params.x)` (later `$(tt.params.x)`) itself.
        self.template_params: set = set()

    def add(self, line: int, rule: str, message: str) -> None:
        self.findings.append(Finding(self.path, line or 1, rule, message))

    # -- Tasks ---------------------------------------------------------------

    def task_spec(self, spec, outer_params=(), outer_workspaces=()) -> Interface:
        """Check the references inside a Task spec; `outer_*` are names an enclosing Pipeline propagates."""
        spec = _mapping(spec)
        interface = Interface.of(spec)
        params = set(interface.params) | set(outer_params)
        workspaces = set(interface.workspaces) | set(outer_workspaces)
        # Param defaults are not substituted against the Task's own params (a
        # catalog Task may default to `$(params.IMAGE)` for its pipeline to fill).
        body = {key: value for key, value in spec.items() if key != "params"}
        for ref in references_under(body, SKIP):
            if ref.namespace == "params":
                self._param(ref, params, "Task")
            elif ref.namespace == "workspaces":
                self._workspace(ref, workspaces, "Task")
            elif ref.namespace == "results":
                name = ref.parts[0] if ref.parts else ""
                if name not in interface.results:
                    self.add(ref.line, "TKN-RESULT-REF", f"{ref.text}: the Task declares no result {name!r}")
                elif ref.parts[1:] != ("path",):
                    self.add(ref.line, "TKN-RESULT-REF", f"{ref.text}: a Task result is used as .path")
        return interface

    def _param(self, ref, declared, owner: str) -> None:
        name = ref.parts[0] if ref.parts else ""
        if name not in declared and name not in self.template_params:
            self.add(ref.line, "TKN-PARAM-REF", f"{ref.text}: the {owner} declares no param {name!r}")

    def _workspace(self, ref, declared, owner: str) -> None:
        name = ref.parts[0] if ref.parts else ""
        if name not in declared:
            self.add(ref.line, "TKN-WORKSPACE-REF", f"{ref.text}: the {owner} declares no workspace {name!r}")
        elif len(ref.parts) != 2 or ref.parts[1] not in WORKSPACE_ATTRIBUTES:
            allowed = ", ".join(sorted(WORKSPACE_ATTRIBUTES))
            self.add(ref.line, "TKN-WORKSPACE-REF", f"{ref.text}: a workspace has only {allowed}")

    # -- Pipelines -----------------------------------------------------------

    def pipeline_spec(self, spec, outer_params=()) -> Interface:
        """Check a Pipeline spec: references, task refs, runAfter, cycles, bindings."""
        spec = _mapping(spec)
        interface = Interface.of(spec)
        params = set(interface.params) | set(outer_params)
        workspaces = set(interface.workspaces)
        sections = {
            section: [t for t in spec.get(section) or [] if isinstance(t, dict)]
            for section in ("tasks", "finally")
        }
        tasks = {t.get("name"): t for t in sections["tasks"]}
        finals = {t.get("name"): t for t in sections["finally"]}
        targets = {
            t.get("name"): self._resolve(t, params, workspaces)
            for t in sections["tasks"] + sections["finally"]
        }
        graph: dict[str, set] = {}
        for section, items in sections.items():
            for task in items:
                name = task.get("name")
                deps = graph.setdefault(name, set()) if section == "tasks" else set()
                # The pipeline substitutes only `.bound`; `$(workspaces.x.path)` in a
                # param value reaches the Task, which resolves it against its own.
                task_workspaces = workspaces | set(_named(task.get("workspaces")))
                if targets.get(name) is not None:
                    task_workspaces |= set(targets[name].workspaces)
                for ref in references_under(task, SKIP + ("taskSpec", "pipelineSpec")):
                    if ref.namespace == "params":
                        self._param(ref, params, "Pipeline")
                    elif ref.namespace == "workspaces":
                        bound_only = ref.parts[1:] == ("bound",)
                        self._workspace(ref, workspaces if bound_only else task_workspaces, "Pipeline")
                self._task_references(task, section, tasks, finals, targets, deps)
                self._run_after(task, section, tasks, finals, deps)
                self._bindings(task, targets.get(name), params, workspaces)
        for ref in references_under(spec.get("results"), SKIP):
            if ref.namespace == "tasks":
                self._task_result(ref, None, "results", tasks, finals, targets, set())
        self._cycles(graph, tasks)
        return interface

    def _resolve(self, task: dict, params, workspaces) -> Interface | None:
        """The interface of the Task a pipeline task runs, when it can be known."""
        if isinstance(task.get("taskSpec"), dict):
            embedded = task["taskSpec"]
            if "apiVersion" in embedded or "kind" in embedded:
                return None  # a custom task
            # Embedded specs see the pipeline's params and the workspaces bound to them.
            return self.task_spec(embedded, params, workspaces | set(_named(task.get("workspaces"))))
        ref = task.get("taskRef")
        if not isinstance(ref, dict):
            if "pipelineRef" not in task and "pipelineSpec" not in task:
                self.add(
                    line_of(task, "name"),
                    "TKN-TASKREF",
                    f"task {task.get('name')!r} has no taskRef or taskSpec",
                )
            return None
        return self._task_ref(ref)

    def _task_ref(self, ref: dict) -> Interface | None:
        if "resolver" in ref or "bundle" in ref or "apiVersion" in ref:
            return None  # fetched at run time, or a custom task
        kind, name = ref.get("kind", "Task"), ref.get("name")
        if kind not in TASK_KINDS:
            return None
        if not isinstance(name, str) or "$(" in name:
            if name is None:
                self.add(line_of(ref), "TKN-TASKREF", "taskRef has neither a name nor a resolver")
            return None
        spec = self.index.find("tasks", name, self.path)
        if spec is False:
            if kind != "ClusterTask":  # a ClusterTask is installed in the cluster, not kept in a repository
                self.add(
                    value_line(ref, "name"),
                    "TKN-TASKREF",
                    f"taskRef {name!r}: no Task of that name in the repository",
                )
            return None
        return None if spec is None else Interface.of(spec)

    def _task_references(self, task, section, tasks, finals, targets, deps) -> None:
        for ref in references_under(task, SKIP):
            if ref.namespace == "tasks":
                self._task_result(ref, task.get("name"), section, tasks, finals, targets, deps)

    def _task_result(self, ref, me, section, tasks, finals, targets, deps) -> None:
        other = ref.parts[0] if ref.parts else ""
        if other == "status" and len(ref.parts) == 1:
            return  # $(tasks.status): the aggregate status, for finally tasks
        if other not in tasks and other not in finals:
            self.add(ref.line, "TKN-RESULT-REF", f"{ref.text}: the pipeline has no task {other!r}")
            return
        if section == "tasks" and (other in finals or other == me):
            why = (
                "a finally task runs after every task"
                if other in finals
                else "a task cannot use its own result"
            )
            self.add(ref.line, "TKN-CYCLE", f"{ref.text}: {why}")
            return
        if section == "tasks":
            deps.add(other)
        if len(ref.parts) >= 3 and ref.parts[1] == "results":
            target = targets.get(other)
            if target is not None and ref.parts[2] not in target.results:
                self.add(
                    ref.line, "TKN-RESULT-REF", f"{ref.text}: task {other!r} has no result {ref.parts[2]!r}"
                )

    def _run_after(self, task, section, tasks, finals, deps) -> None:
        run_after = task.get("runAfter")
        if run_after is None:
            return
        if section == "finally":
            self.add(
                line_of(task, "runAfter"), "TKN-RUNAFTER", "finally tasks run after every task; drop runAfter"
            )
            return
        for item in run_after if isinstance(run_after, list) else [run_after]:
            line = getattr(item, "line", 0) or line_of(task, "runAfter")
            if item in finals:
                self.add(line, "TKN-CYCLE", f"runAfter {item!r}: a finally task runs after every task")
            elif item not in tasks:
                self.add(line, "TKN-RUNAFTER", f"runAfter {item!r}: the pipeline has no such task")
            else:
                deps.add(item)

    def _bindings(self, task, target: Interface | None, params, workspaces) -> None:
        """Workspace bindings name declared workspaces; required params and workspaces are bound."""
        embedded = isinstance(task.get("taskSpec"), dict)
        bound_ws = set()
        for binding in task.get("workspaces") or []:
            if not isinstance(binding, dict):
                continue
            name = binding.get("name")
            bound_ws.add(name)
            source = binding.get("workspace", name)
            if source not in workspaces:
                line = value_line(binding, "workspace" if "workspace" in binding else "name")
                self.add(
                    line,
                    "TKN-WORKSPACE-REF",
                    f"workspace {source!r}: the Pipeline declares no such workspace",
                )
            if target is not None and not embedded and name not in target.workspaces:
                self.add(
                    value_line(binding, "name"),
                    "TKN-WORKSPACE-REF",
                    f"the Task declares no workspace {name!r}",
                )
        if target is None:
            return
        line = value_line(task, "name")
        matrix = _mapping(task.get("matrix"))
        bound = set(_named(task.get("params"))) | set(_named(matrix.get("params")))
        for include in matrix.get("include") or []:
            bound |= set(_named(_mapping(include).get("params")))
        for name in target.required_params():
            if name not in bound and not (embedded and name in params):
                self.add(
                    line,
                    "TKN-PARAM-MISSING",
                    f"task {task.get('name')!r} does not set required param {name!r}",
                )
        for name in target.required_workspaces():
            if name not in bound_ws and not (embedded and name in workspaces):
                self.add(
                    line,
                    "TKN-WORKSPACE-MISSING",
                    f"task {task.get('name')!r} does not bind workspace {name!r}",
                )

    def _cycles(self, graph: dict, tasks: dict) -> None:
        """Report each cycle once, at the first of its tasks in file order."""
        order = {name: position for position, name in enumerate(tasks)}
        state: dict = {}
        seen: set = set()
        for start in graph:
            if state.get(start):
                continue
            stack = [(start, iter(sorted(graph.get(start, ()), key=lambda n: order.get(n, 0))))]
            path = [start]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    path.pop()
                    state[node] = 2
                elif state.get(child) == 1:
                    cycle = path[path.index(child) :]
                    key = frozenset(cycle)
                    if key not in seen:
                        seen.add(key)
                        first = min(cycle, key=lambda n: order.get(n, 0))
                        at = cycle.index(first)
                        ring = cycle[at:] + cycle[:at] + [first]
                        self.add(
                            value_line(tasks[first], "name"),
                            "TKN-CYCLE",
                            f"tasks {' -> '.join(ring)} form a cycle",
                        )
                elif not state.get(child) and child in graph:
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph.get(child, ()), key=lambda n: order.get(n, 0)))))

    # -- Runs ----------------------------------------------------------------

    def pipeline_run(self, obj: dict) -> None:
        spec = _mapping(obj.get("spec"))
        supplied = set(_named(spec.get("params")))
        if isinstance(spec.get("pipelineSpec"), dict):
            target = self.pipeline_spec(spec["pipelineSpec"], supplied)
            line = line_of(spec, "pipelineSpec")
        elif isinstance(spec.get("pipelineRef"), dict):
            ref = spec["pipelineRef"]
            line = line_of(spec, "pipelineRef")
            target = self._pipeline_ref(ref)
        else:
            self.add(
                line_of(obj, "spec"), "TKN-PIPELINEREF", "PipelineRun has no pipelineRef or pipelineSpec"
            )
            return
        self._run_supplies(spec, target, supplied, line, "Pipeline")

    def _pipeline_ref(self, ref: dict) -> Interface | None:
        name = ref.get("name")
        if "resolver" in ref or "bundle" in ref or not isinstance(name, str) or "$(" in name:
            return None
        spec = self.index.find("pipelines", name, self.path)
        if spec is False:
            self.add(
                value_line(ref, "name"),
                "TKN-PIPELINEREF",
                f"pipelineRef {name!r}: no Pipeline of that name in the repository",
            )
            return None
        return None if spec is None else Interface.of(spec)

    def task_run(self, obj: dict) -> None:
        spec = _mapping(obj.get("spec"))
        supplied = set(_named(spec.get("params")))
        if isinstance(spec.get("taskSpec"), dict):
            target = self.task_spec(spec["taskSpec"], supplied)
            line = line_of(spec, "taskSpec")
        elif isinstance(spec.get("taskRef"), dict):
            target = self._task_ref(spec["taskRef"])
            line = line_of(spec, "taskRef")
        else:
            return
        self._run_supplies(spec, target, supplied, line, "Task")

    def _run_supplies(
        self, spec: dict, target: Interface | None, supplied: set, line: int, kind: str
    ) -> None:
        if target is None:
            return
        for name in target.required_params():
            if name not in supplied:
                self.add(
                    line, "TKN-PARAM-MISSING", f"the run does not supply the {kind}'s required param {name!r}"
                )
        bound = _named(spec.get("workspaces"))
        for name, binding in bound.items():
            if name not in target.workspaces:
                self.add(
                    value_line(binding, "name"),
                    "TKN-WORKSPACE-REF",
                    f"the {kind} declares no workspace {name!r}",
                )
        for name in target.required_workspaces():
            if name not in bound:
                self.add(
                    line, "TKN-WORKSPACE-MISSING", f"the run does not bind the {kind}'s workspace {name!r}"
                )

    # -- Triggers ------------------------------------------------------------

    def trigger_template(self, obj: dict) -> None:
        spec = _mapping(obj.get("spec"))
        declared = set(_named(spec.get("params")))
        for resource in spec.get("resourcetemplates") or []:
            if not isinstance(resource, dict):
                continue
            for ref in references_under(resource, SKIP):
                if ref.namespace == "tt" and ref.parts[:1] == ("params",):
                    name = ref.parts[1] if len(ref.parts) > 1 else ""
                    if name not in declared:
                        self.add(
                            ref.line,
                            "TKN-PARAM-REF",
                            f"{ref.text}: the TriggerTemplate declares no param {name!r}",
                        )
            legacy = str(obj.get("apiVersion")).endswith("/v1alpha1")
            self.template_params = declared if legacy else set()
            self.object(resource)
            self.template_params = set()

    def triggers(self, obj: dict) -> None:
        """EventListener and Trigger: bindings and templates resolve; bindings supply required params."""
        spec = _mapping(obj.get("spec"))
        entries = spec.get("triggers") if obj.get("kind") == "EventListener" else [spec]
        for trigger in entries or []:
            trigger = _mapping(trigger)
            supplied: set = set()
            complete = True
            for binding in trigger.get("bindings") or []:
                binding = _mapping(binding)
                if "ref" not in binding:
                    supplied.add(binding.get("name"))
                    continue
                if binding.get("kind", "TriggerBinding") != "TriggerBinding":
                    complete = False  # a ClusterTriggerBinding lives in the cluster
                    continue
                found = self.index.find("bindings", binding["ref"], self.path)
                if found is False:
                    self.add(
                        value_line(binding, "ref"),
                        "TKN-TRIGGER-REF",
                        f"binding {binding['ref']!r}: no TriggerBinding of that name in the repository",
                    )
                    complete = False
                elif found is None:
                    complete = False
                else:
                    supplied |= set(_named(found.get("params")))
            template = _mapping(trigger.get("template"))
            name = template.get("ref", template.get("name"))
            if not isinstance(name, str):
                continue
            found = self.index.find("templates", name, self.path)
            key = "ref" if "ref" in template else "name"
            if found is False:
                self.add(
                    value_line(template, key),
                    "TKN-TRIGGER-REF",
                    f"template {name!r}: no TriggerTemplate of that name in the repository",
                )
            elif found is not None and complete:
                for param in Interface.of(found).required_params():
                    if param not in supplied:
                        self.add(
                            value_line(template, key),
                            "TKN-PARAM-MISSING",
                            f"no binding supplies the TriggerTemplate's required param {param!r}",
                        )

    def object(self, obj: dict) -> None:
        """Check one Tekton object of any kind."""
        kind = obj.get("kind")
        if kind in TASK_KINDS:
            self.task_spec(obj.get("spec"))
        elif kind == "StepAction":
            spec = _mapping(obj.get("spec"))
            declared = set(_named(spec.get("params")))
            for ref in references_under(spec, SKIP):
                if ref.namespace == "params":
                    self._param(ref, declared, "StepAction")
        elif kind == "Pipeline":
            self.pipeline_spec(obj.get("spec"))
        elif kind == "PipelineRun":
            self.pipeline_run(obj)
        elif kind == "TaskRun":
            self.task_run(obj)
        elif kind == "TriggerTemplate":
            self.trigger_template(obj)
        elif kind in ("EventListener", "Trigger"):
            self.triggers(obj)


def tekton_references(tree: Tree):
    """TKN-*: every Tekton name resolves, the task graph has no cycle, runs supply what they run."""
    index = Index(tree)
    for document, obj in tree.objects():
        if is_tekton(obj):
            checker = Checker(document.path, index)
            checker.object(obj)
            yield from checker.findings


# `references` is re-exported for rules that scan strings for one namespace only.
__all__ = ["RULE_IDS", "Index", "is_tekton", "references", "tekton_references"]
