#!/usr/bin/env bash
# The shell steps of .github/workflows/cluster.yml, the upstream cluster test.
#
# It runs only upstream, on a GitHub-hosted runner that has docker, kind (the
# workflow makes the cluster), kubectl and the network; never in a baked
# project, never in `make test`. `--dry-run` prints each command instead of
# running it, with no cluster, docker or network (tests/test_cluster_workflow.py).
#
# Usage: scripts/cluster_test.sh [--dry-run] STEP...
#   Tekton job: bake image tekton-install tekton-apply tekton-run
#   KFP job:    bake image kfp-install kfp-submit
#   On failure: diagnose
set -euo pipefail

# Pinned releases (Tekton Pipelines and Triggers from their release manifests,
# Kubeflow Pipelines standalone from its kustomize manifests at a tag).
TEKTON_PIPELINE_VERSION="${TEKTON_PIPELINE_VERSION:-v1.15.0}"
TEKTON_TRIGGERS_VERSION="${TEKTON_TRIGGERS_VERSION:-v0.37.0}"
KFP_VERSION="${KFP_VERSION:-2.17.0}"
TEKTON_RELEASES="https://infra.tekton.dev/tekton-releases"
KFP_MANIFESTS="github.com/kubeflow/pipelines/manifests/kustomize"

TEMPLATE_DIR="$(cd "$(dirname "$0")/.." && pwd)"
KIND_CLUSTER="${KIND_CLUSTER:-mlops}"
WORK="${WORK:-$TEMPLATE_DIR/build/cluster}"
# The default bake's names (cookiecutter.json); the image is loaded into kind, never pushed.
SLUG="mlops-demo"
PROJECT="$WORK/$SLUG"
IMAGE="registry.example.com/$SLUG:0.1.0"
KFP_PORT=8888
WAIT_S="${WAIT_S:-1800}"

DRY_RUN=0

run() {
    # One command: printed under --dry-run, run otherwise.
    if [ "$DRY_RUN" = 1 ]; then
        printf '+'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

say() { printf '%s\n' "cluster_test: $*" >&2; }
fail() { say "error: $*"; exit 1; }

kind_gateway() {
    # The host as pods on the kind network reach it (the network's IPv4 gateway).
    if [ "$DRY_RUN" = 1 ]; then
        printf '%s' "KIND_GATEWAY"
        return
    fi
    docker network inspect kind | python3 -c '
import ipaddress, json, sys
for entry in json.load(sys.stdin)[0]["IPAM"]["Config"]:
    gateway = entry.get("Gateway", "")
    if gateway and ipaddress.ip_address(gateway).version == 4:
        print(gateway)
        break
'
}

step_bake() {
    run rm -rf "$WORK"
    run mkdir -p "$WORK"
    run python3 -m pip install --quiet -e "$TEMPLATE_DIR"
    run cookiecutter-mlops-reference --no-input --output-dir "$WORK" "$TEMPLATE_DIR"
    run test -f "$PROJECT/tekton/pipeline.yaml"
}

step_image() {
    run docker build --tag "$IMAGE" "$PROJECT"
    run kind load docker-image "$IMAGE" --name "$KIND_CLUSTER"
}

step_tekton_install() {
    run kubectl apply --filename "$TEKTON_RELEASES/pipeline/previous/$TEKTON_PIPELINE_VERSION/release.yaml"
    run kubectl wait --namespace tekton-pipelines --for=condition=Available --timeout=600s deployment --all
    run kubectl apply --filename "$TEKTON_RELEASES/triggers/previous/$TEKTON_TRIGGERS_VERSION/release.yaml"
    run kubectl apply --filename "$TEKTON_RELEASES/triggers/previous/$TEKTON_TRIGGERS_VERSION/interceptors.yaml"
    run kubectl wait --namespace tekton-pipelines --for=condition=Available --timeout=600s deployment --all
}

step_tekton_apply() {
    run kubectl create namespace "$SLUG"
    run kubectl apply --kustomize "$PROJECT/tekton"
    # The build-image task's registry credentials: empty, nothing is pushed upstream.
    run kubectl create secret generic "$SLUG-registry" --namespace "$SLUG" --from-literal=config.json='{}'
    # The pipeline clones its source: serve the baked project over git:// from the runner.
    run git -C "$PROJECT" init --quiet --initial-branch=main
    run git -C "$PROJECT" add --all
    run git -C "$PROJECT" -c user.name=cluster-test -c user.email=cluster-test@example.com commit --quiet -m baked
    run git daemon --detach --reuseaddr --export-all --base-path="$WORK" --port=9418 "$WORK"
}

pipelinerun() {
    # The baked sample PipelineRun with git-url pointing at the runner's git daemon.
    python3 - "$PROJECT/tekton/pipelinerun.yaml" "$1" <<'PY'
import sys

import yaml

path, url = sys.argv[1], sys.argv[2]
run = yaml.safe_load(open(path))
for param in run["spec"]["params"]:
    if param["name"] == "git-url":
        param["value"] = url
print(yaml.safe_dump(run, sort_keys=False))
PY
}

step_tekton_run() {
    local url name verdict
    url="git://$(kind_gateway)/$SLUG"
    if [ "$DRY_RUN" = 1 ]; then
        run kubectl create --namespace "$SLUG" --output name --filename - "(tekton/pipelinerun.yaml, git-url=$url)"
        name="pipelinerun/DRY-RUN"
    else
        name="$(pipelinerun "$url" | kubectl create --namespace "$SLUG" --output name --filename -)"
    fi
    say "started $name; waiting for the govern task's verdict"
    run wait_for_govern "${name#*/}"
    if [ "$DRY_RUN" = 1 ]; then
        return
    fi
    verdict="$(kubectl get taskrun --namespace "$SLUG" \
        --selector "tekton.dev/pipelineRun=${name#*/},tekton.dev/pipelineTask=govern" \
        --output jsonpath='{.items[0].status.results[?(@.name=="verdict")].value}')"
    say "governance verdict: ${verdict:-none}"
    [ "$verdict" = "pass" ] || fail "the governance gate did not pass on the sample (verdict: ${verdict:-none})"
}

wait_for_govern() {
    # Until the govern TaskRun exists and has finished (its Succeeded condition is True or False).
    local run_name="$1" selector status waited=0
    selector="tekton.dev/pipelineRun=$run_name,tekton.dev/pipelineTask=govern"
    while [ "$waited" -lt "$WAIT_S" ]; do
        status="$(kubectl get taskrun --namespace "$SLUG" --selector "$selector" \
            --output jsonpath='{.items[0].status.conditions[?(@.type=="Succeeded")].status}' 2>/dev/null || true)"
        if [ "$status" = "True" ] || [ "$status" = "False" ]; then
            return 0
        fi
        if [ "$(kubectl get pipelinerun "$run_name" --namespace "$SLUG" \
            --output jsonpath='{.status.conditions[?(@.type=="Succeeded")].status}')" = "False" ]; then
            fail "PipelineRun $run_name failed before govern finished"
        fi
        sleep 10
        waited=$((waited + 10))
    done
    fail "govern did not finish within ${WAIT_S}s"
}

step_kfp_install() {
    run kubectl apply --kustomize "$KFP_MANIFESTS/cluster-scoped-resources?ref=$KFP_VERSION"
    run kubectl wait --for condition=established --timeout=60s crd/applications.app.k8s.io
    run kubectl apply --kustomize "$KFP_MANIFESTS/env/platform-agnostic?ref=$KFP_VERSION"
    run kubectl wait --namespace kubeflow --for=condition=Available --timeout=1200s deployment --all
}

step_kfp_submit() {
    local output run_id forward
    run python3 -m pip install --quiet -e "$PROJECT"
    run "$SLUG" compile --output "$WORK/pipeline.yaml"
    if [ "$DRY_RUN" = 1 ]; then
        run kubectl port-forward --namespace kubeflow svc/ml-pipeline "$KFP_PORT:8888" "&"
        run "$SLUG" submit --host "http://localhost:$KFP_PORT" --package "$WORK/pipeline.yaml"
        run wait_for_kfp_run "RUN_ID"
        return
    fi
    kubectl port-forward --namespace kubeflow svc/ml-pipeline "$KFP_PORT:8888" >"$WORK/port-forward.log" 2>&1 &
    forward=$!
    trap 'kill "$forward" 2>/dev/null || true' EXIT
    for _ in $(seq 30); do
        curl --silent --fail "http://localhost:$KFP_PORT/apis/v2beta1/healthz" >/dev/null && break
        sleep 2
    done
    output="$("$SLUG" submit --host "http://localhost:$KFP_PORT" --package "$WORK/pipeline.yaml")"
    say "$output"
    run_id="$(printf '%s' "$output" | sed -n 's/^submit: run \([^ ]*\) .*/\1/p')"
    [ -n "$run_id" ] || fail "no run id in: $output"
    wait_for_kfp_run "$run_id"
}

wait_for_kfp_run() {
    python3 - "http://localhost:$KFP_PORT" "$1" "$WAIT_S" <<'PY'
import sys

import kfp

host, run_id, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
run = kfp.Client(host=host).wait_for_run_completion(run_id, timeout=timeout)
print(f"cluster_test: KFP run {run_id}: {run.state}", file=sys.stderr)
sys.exit(0 if run.state == "SUCCEEDED" else 1)
PY
}

step_diagnose() {
    # What a failed job leaves in the log: never fails itself.
    run kubectl get pods --all-namespaces || true
    run kubectl get pipelineruns,taskruns --namespace "$SLUG" || true
    run kubectl get events --all-namespaces --sort-by=.lastTimestamp || true
}

STEPS="bake image tekton-install tekton-apply tekton-run kfp-install kfp-submit diagnose"

main() {
    if [ "${1:-}" = "--dry-run" ]; then
        DRY_RUN=1
        shift
    fi
    [ "$#" -gt 0 ] || fail "name a step: $STEPS"
    for step in "$@"; do
        case " $STEPS " in
            *" $step "*) ;;
            *) fail "unknown step '$step' (steps: $STEPS)" ;;
        esac
    done
    for step in "$@"; do
        say "step $step"
        "step_${step//-/_}"
    done
}

# Sourced by tests to call one function; run as a script otherwise.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
