#!/usr/bin/env bash
# Verifies the cilium/proxy and cilium/cilium patch series of the matchJWT
# feature against the pinned upstream trees (see pins.sh and README.md):
#
#   1. downloads the pinned modules (go mod download) and copies them into
#      fresh git work trees under the cache dir (tag 'pristine'),
#   2. applies every patch of proxy/ and cilium/ in order
#      (git apply --unidiff-zero --check, then apply),
#   3. proxy: compiles the changed .proto files with protoc and regenerates
#      the Go bindings like Makefile.api, then 'go build ./go/...',
#   4. cilium: points github.com/cilium/proxy at the patched proxy tree,
#      checks that deepcopy/deepequal/CRDs match their generators, builds,
#      vets and tests the touched packages, renders the Helm chart,
#   5. validates tests/k8sT/manifests against the patched CRD schemas
#      (manifests under invalid/ must be rejected), and compiles the e2e test.
#
# Environment:
#   CILIUM_JWT_CACHE  cache dir (default $HOME/.cache/cilium-jwt); never
#                     inside the repository
#   KEEP_WORK=1       keep the work trees of a previous run if they were
#                     patched with the current patch files (edits made in
#                     them are kept); by default they are re-created
#                     every run
#   SKIP_TESTS=1      skip 'go test' (build, generation and manifest checks
#                     only)
#   FULL_POLICY_TESTS=0  test only pkg/policy/api and pkg/policy/k8s instead
#                     of all of ./pkg/policy/...
set -euo pipefail

START=$(date +%s)
PATCHES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(cd "${PATCHES_DIR}/.." && pwd -P)"
# shellcheck source=pins.sh
source "${PATCHES_DIR}/pins.sh"

CACHE_DIR="${CILIUM_JWT_CACHE:-${CILIUM_JWT_HOME:-$HOME/.cache/cilium-jwt}}"
mkdir -p "${CACHE_DIR}"
CACHE_DIR="$(cd "${CACHE_DIR}" && pwd -P)"
case "${CACHE_DIR}/" in
  "${REPO_DIR}/"*) echo "verify.sh: error: CILIUM_JWT_CACHE (${CACHE_DIR}) must not be inside the repository" >&2; exit 1 ;;
esac
WORK_DIR="${CACHE_DIR}/work"
TOOLS_DIR="${CACHE_DIR}/tools"
PROXY_DIR="${WORK_DIR}/proxy"
CILIUM_DIR="${WORK_DIR}/cilium"
MANIFESTS_DIR="${REPO_DIR}/tests/k8sT/manifests"

# Git in the work trees must not depend on the user's configuration.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=verify GIT_AUTHOR_EMAIL=verify@localhost
export GIT_COMMITTER_NAME=verify GIT_COMMITTER_EMAIL=verify@localhost
# Modules come from the module proxy, not from vendor directories or
# workspaces of the caller.
export GOFLAGS=-mod=mod GOWORK=off
unset GOOS GOARCH || true

SUMMARY=()
STEP_START=0
step() {
  STEP_START=$(date +%s)
  STEP_NAME="$1"
  printf '\n==> %s\n' "$1"
}
done_step() {
  local status="${1:-ok}"
  SUMMARY+=("$(printf '%-7s %4ss  %s' "${status}" "$(($(date +%s) - STEP_START))" "${STEP_NAME}")")
}
die() {
  echo >&2
  echo "verify.sh: FAILED: $*" >&2
  print_summary >&2
  exit 1
}
print_summary() {
  echo
  echo "==================== verify.sh summary ===================="
  echo "cilium ${CILIUM_VERSION}, cilium/proxy ${PROXY_VERSION}"
  echo "work trees: ${WORK_DIR}"
  for line in "${SUMMARY[@]}"; do echo "  ${line}"; done
  echo "total: $(($(date +%s) - START))s"
}
trap 'rc=$?; if [ $rc -ne 0 ] && [ -n "${STEP_NAME:-}" ]; then echo "verify.sh: FAILED in step: ${STEP_NAME} (exit ${rc})" >&2; fi' EXIT

module_dir() {
  # Downloads a module into the module cache and prints its directory.
  local json dir
  json="$(cd "${CACHE_DIR}" && go mod download -json "$1")" || die "go mod download $1: ${json}"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
  [ -d "${dir}" ] || die "go mod download $1 gave no directory: ${json}"
  echo "${dir}"
}

# ---------------------------------------------------------------------------
step "download pinned modules"
PROXY_SRC="$(module_dir "${PROXY_MODULE}@${PROXY_VERSION}")"
CILIUM_SRC="$(module_dir "${CILIUM_MODULE}@${CILIUM_VERSION}")"
echo "proxy:  ${PROXY_SRC}"
echo "cilium: ${CILIUM_SRC}"
done_step

# ---------------------------------------------------------------------------
patches_of() {
  find "${PATCHES_DIR}/$1" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
}

# Stamp of the inputs of a patched work tree, to let KEEP_WORK=1 reuse it.
stamp_of() {
  local tree="$1"
  { echo "${PROXY_VERSION} ${CILIUM_VERSION}"; cat $(patches_of "${tree}") /dev/null; } | sha256sum | cut -d' ' -f1
}

# Zero-context hunks carry no context lines that 'git apply' could check, so
# a hunk whose line numbers are off would apply at the wrong place. Each
# patch's 'index PRE..POST' lines are checked instead: the file must have
# blob PRE before the patch is applied and blob POST after it (all-zero:
# absent).
check_index() { # check_index DIR PATCH pre|post
  local dir="$1" patch="$2" which="$3" file pre post want got
  while read -r file pre post; do
    if [ "${which}" = pre ]; then want="${pre}"; else want="${post}"; fi
    if [[ "${want}" =~ ^0+$ ]]; then
      [ ! -e "${dir}/${file}" ] && continue
      got="(present)"
    else
      got="$(git -C "${dir}" hash-object -- "${file}" 2>/dev/null || echo "(absent)")"
      [[ "${got}" == "${want}"* ]] && continue
    fi
    echo "verify.sh: ${file}: blob ${got} ${which} ${patch##*/}, the patch's index line expects ${want}" >&2
    return 1
  done < <(awk '/^diff --git /{f=substr($4,3)} /^index /{split($2,h,"[.][.]"); print f, h[1], h[2]}' "${patch}")
}

make_tree() {
  local tree="$1" src="$2" dir="${WORK_DIR}/$1"
  if [ "${KEEP_WORK:-0}" = 1 ] && [ "$(cat "${dir}/.git/jwt-verify-stamp" 2>/dev/null)" = "$(stamp_of "${tree}")" ]; then
    echo "${tree}: KEEP_WORK=1, reusing ${dir} (patched with the current patches)"
    return
  fi
  rm -rf "${dir}"
  mkdir -p "${WORK_DIR}"
  cp -r "${src}" "${dir}"
  chmod -R u+w "${dir}"
  (
    cd "${dir}"
    git init -q
    git add -A -f
    git commit -q --no-verify --no-gpg-sign -m "pristine ${src##*/}"
    git tag pristine
  )
  local p n=0
  while IFS= read -r p; do
    n=$((n + 1))
    if ! git -C "${dir}" apply --unidiff-zero --check "${p}"; then
      die "patch ${p#"${REPO_DIR}"/} does not apply to ${tree} (${src##*/})"
    fi
    check_index "${dir}" "${p}" pre \
      || die "patch ${p#"${REPO_DIR}"/} was made against other file contents than ${tree} has at this point of the series: regenerate it (refresh.sh)"
    git -C "${dir}" apply --unidiff-zero "${p}" || die "patch ${p#"${REPO_DIR}"/} failed to apply to ${tree}"
    check_index "${dir}" "${p}" post \
      || die "patch ${p#"${REPO_DIR}"/} applied to ${tree} but the result differs from the patch's post-image (misplaced zero-context hunk?)"
    echo "${tree}: applied ${p#"${PATCHES_DIR}"/}"
  done < <(patches_of "${tree}")
  [ "${n}" -gt 0 ] || die "no patches in ${PATCHES_DIR}/${tree}"
  (
    cd "${dir}"
    git add -A -f
    git commit -q --no-verify --no-gpg-sign -m "patched"
    git tag patched
  )
  stamp_of "${tree}" >"${dir}/.git/jwt-verify-stamp"
}

step "create work trees and apply patches"
make_tree proxy "${PROXY_SRC}"
make_tree cilium "${CILIUM_SRC}"
done_step

# ---------------------------------------------------------------------------
step "proxy: install protoc (grpcio-tools ${GRPCIO_TOOLS_VERSION}) and protoc plugins"
VENV="${TOOLS_DIR}/venv-grpcio-tools-${GRPCIO_TOOLS_VERSION}"
if ! "${VENV}/bin/python" -m grpc_tools.protoc --version >/dev/null 2>&1; then
  rm -rf "${VENV}"
  python3 -m venv "${VENV}"
  "${VENV}/bin/pip" install -q --disable-pip-version-check "grpcio-tools==${GRPCIO_TOOLS_VERSION}"
fi
PROTOC=("${VENV}/bin/python" -m grpc_tools.protoc)
echo "protoc: $("${PROTOC[@]}" --version)"
PLUGIN_BIN="${TOOLS_DIR}/proxy-${PROXY_VERSION}/bin"
mkdir -p "${PLUGIN_BIN}"
# As Makefile.api: the plugins at the versions of the proxy's go.mod 'tool'
# directives.
(cd "${PROXY_DIR}" && GOBIN="${PLUGIN_BIN}" go install tool)
git -C "${PROXY_DIR}" diff --quiet patched -- go.mod go.sum || die "'go install tool' changed the proxy's go.mod/go.sum"
ls "${PLUGIN_BIN}"
done_step

# ---------------------------------------------------------------------------
step "proxy: regenerate Go bindings of the changed .proto files"
rm -rf "${PROXY_DIR}/_jwt"
mkdir -p "${PROXY_DIR}/_jwt"
cp -r "${PATCHES_DIR}/tools/protodeps" "${PROXY_DIR}/_jwt/"
DEPS_PB="${PROXY_DIR}/_jwt/deps.pb"
(cd "${PROXY_DIR}" && go run ./_jwt/protodeps -o "${DEPS_PB}")

GO_MODULE_OPT="module=github.com/cilium/proxy/go"
run_protoc() { # run_protoc INCLUDE_DIR OUT_DIR PROTO...
  local inc="$1" out="$2"
  shift 2
  PATH="${PLUGIN_BIN}:${PATH}" "${PROTOC[@]}" -I "${inc}" --descriptor_set_in="${DEPS_PB}" \
    "--go_out=${GO_MODULE_OPT}:${out}" "--go-grpc_out=${GO_MODULE_OPT}:${out}" \
    "--validate_out=lang=go,${GO_MODULE_OPT}:${out}" "$@"
}

# Fidelity check: the pipeline must reproduce upstream's committed bindings of
# the pristine npds.proto, except for the "protoc vX.Y.Z" version comment.
FID_DIR="${PROXY_DIR}/_jwt/fidelity"
mkdir -p "${FID_DIR}/in/cilium/api" "${FID_DIR}/out"
git -C "${PROXY_DIR}" show pristine:cilium/api/npds.proto >"${FID_DIR}/in/cilium/api/npds.proto"
run_protoc "${FID_DIR}/in" "${FID_DIR}/out" cilium/api/npds.proto
for f in npds.pb.go npds_grpc.pb.go npds.pb.validate.go; do
  if ! diff <(git -C "${PROXY_DIR}" show "pristine:go/cilium/api/${f}" | grep -v '^// .*protoc  ') \
            <(grep -v '^// .*protoc  ' "${FID_DIR}/out/cilium/api/${f}") >/dev/null; then
    die "the protoc pipeline does not reproduce upstream's go/cilium/api/${f} from the pristine npds.proto"
  fi
done
echo "fidelity: pristine npds.proto -> upstream's npds.pb.go, npds_grpc.pb.go, npds.pb.validate.go (identical but for the protoc version comment)"

mapfile -t CHANGED_PROTOS < <(git -C "${PROXY_DIR}" diff --name-only pristine patched -- 'cilium/api/*.proto')
[ "${#CHANGED_PROTOS[@]}" -gt 0 ] || die "the proxy patches change no cilium/api/*.proto"
echo "changed: ${CHANGED_PROTOS[*]}"
(cd "${PROXY_DIR}" && run_protoc . go "${CHANGED_PROTOS[@]}")
git -C "${PROXY_DIR}" diff --stat patched -- go/
grep -q 'func (x \*HttpNetworkPolicyRule) GetJwtRequirement() \*JwtRequirement' "${PROXY_DIR}/go/cilium/api/npds.pb.go" \
  || die "regenerated npds.pb.go lacks HttpNetworkPolicyRule.GetJwtRequirement"
done_step

step "proxy: go build ./go/..."
(cd "${PROXY_DIR}" && go build ./go/... && go vet ./go/cilium/api/)
done_step

# ---------------------------------------------------------------------------
step "cilium: use the patched proxy (replace ${PROXY_MODULE} => ${PROXY_DIR})"
(cd "${CILIUM_DIR}" && go mod edit -replace "${PROXY_MODULE}=${PROXY_DIR}")
grep -n "^replace ${PROXY_MODULE}" "${CILIUM_DIR}/go.mod"
done_step

step "cilium: deepcopy-gen / deepequal-gen output matches the patches"
CG_BIN="${TOOLS_DIR}/code-generator-${CODE_GENERATOR_VERSION}/bin"
[ -x "${CG_BIN}/deepcopy-gen" ] || (cd "${CACHE_DIR}" && GOBIN="${CG_BIN}" go install "k8s.io/code-generator/cmd/deepcopy-gen@${CODE_GENERATOR_VERSION}")
GEN_PKGS=(github.com/cilium/cilium/pkg/policy/api)
DEEPEQUAL_OUT="${CILIUM_DIR}/_jwt/deepequal"
rm -rf "${DEEPEQUAL_OUT}"
mkdir -p "${DEEPEQUAL_OUT}"
(
  cd "${CILIUM_DIR}"
  # As contrib/scripts/k8s-code-gen.sh (kube::codegen::gen_helpers and
  # kube::codegen::deepequal_helpers), for the packages we touch.
  "${CG_BIN}/deepcopy-gen" -v 0 --output-file zz_generated.deepcopy.go \
    --go-header-file hack/custom-boilerplate.go.txt "${GEN_PKGS[@]}"
  go tool github.com/cilium/deepequal-gen -v 0 --output-file zz_generated.deepequal.go \
    --go-header-file hack/custom-boilerplate.go.txt --output-base "${DEEPEQUAL_OUT}" "${GEN_PKGS[@]}"
  cp -r "${DEEPEQUAL_OUT}/github.com/cilium/cilium/." ./
)
git -C "${CILIUM_DIR}" diff --exit-code --stat patched -- 'pkg/**/zz_generated.deep*.go' \
  || die "generated deepcopy/deepequal code differs from the patches: regenerate and run refresh.sh"
echo "zz_generated.deepcopy.go, zz_generated.deepequal.go: up to date"
done_step

step "cilium: CRD delta (controller-gen ${CONTROLLER_TOOLS_VERSION}) matches the patches"
CTRL_BIN="${TOOLS_DIR}/controller-tools-${CONTROLLER_TOOLS_VERSION}/bin"
[ -x "${CTRL_BIN}/controller-gen" ] || (cd "${CACHE_DIR}" && GOBIN="${CTRL_BIN}" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@${CONTROLLER_TOOLS_VERSION}")
CRD_WORK="${CILIUM_DIR}/_jwt/crds"
rm -rf "${CRD_WORK}"
mkdir -p "${CRD_WORK}/pristine" "${CRD_WORK}/patched"
# Cilium generates its CRDs with a fork of controller-tools that the module
# proxy does not serve. Upstream controller-gen output differs from the fork's
# (no anyOf/oneOf markers), so we generate the CRDs of the pristine and of the
# patched API with the same upstream controller-gen and check that the
# difference between the two is exactly what the CRD patch adds.
CRD_PRISTINE_CACHE="${TOOLS_DIR}/crds-pristine-${CILIUM_VERSION}-${CONTROLLER_TOOLS_VERSION}"
if [ ! -f "${CRD_PRISTINE_CACHE}/cilium.io_ciliumnetworkpolicies.yaml" ]; then
  rm -rf "${CRD_WORK}/tree" "${CRD_PRISTINE_CACHE}.tmp"
  git -C "${CILIUM_DIR}" worktree add -q --detach "${CRD_WORK}/tree" pristine
  (cd "${CRD_WORK}/tree" && "${CTRL_BIN}/controller-gen" crd:crdVersions=v1 \
    paths="./pkg/k8s/apis/cilium.io/v2" output:crd:artifacts:config="${CRD_PRISTINE_CACHE}.tmp")
  git -C "${CILIUM_DIR}" worktree remove --force "${CRD_WORK}/tree"
  rm -rf "${CRD_PRISTINE_CACHE}"
  mv "${CRD_PRISTINE_CACHE}.tmp" "${CRD_PRISTINE_CACHE}"
fi
(cd "${CILIUM_DIR}" && "${CTRL_BIN}/controller-gen" crd:crdVersions=v1 \
  paths="./pkg/k8s/apis/cilium.io/v2" output:crd:artifacts:config="${CRD_WORK}/patched")
for crd in ciliumnetworkpolicies ciliumclusterwidenetworkpolicies; do
  upstream_yaml="${CRD_WORK}/${crd}.upstream-plus-delta.yaml"
  git -C "${CILIUM_DIR}" show "pristine:pkg/k8s/apis/cilium.io/client/crds/v2/${crd}.yaml" >"${upstream_yaml}"
  delta="${CRD_WORK}/${crd}.delta"
  diff -u "${CRD_PRISTINE_CACHE}/cilium.io_${crd}.yaml" "${CRD_WORK}/patched/cilium.io_${crd}.yaml" >"${delta}" \
    && die "controller-gen produces no CRD change for ${crd}"
  patch -s --no-backup-if-mismatch -F0 "${upstream_yaml}" "${delta}" >/dev/null \
    || die "the controller-gen delta of ${crd} does not apply to upstream's CRD"
  diff -u "${upstream_yaml}" "${CILIUM_DIR}/pkg/k8s/apis/cilium.io/client/crds/v2/${crd}.yaml" \
    || die "${crd}.yaml of the patches differs from upstream + controller-gen delta (above): regenerate and run refresh.sh"
  echo "${crd}.yaml: up to date (+$(grep -c '^+ ' "${delta}") lines)"
done
if git -C "${CILIUM_DIR}" diff --quiet pristine patched -- pkg/k8s/apis/cilium.io/register.go; then
  die "the CRD schema changed but CustomResourceDefinitionSchemaVersion (pkg/k8s/apis/cilium.io/register.go) was not bumped"
fi
done_step

# ---------------------------------------------------------------------------
CILIUM_BUILD_PKGS=(
  ./pkg/option/ ./pkg/defaults/
  ./pkg/policy/...
  ./pkg/envoy/...
  ./pkg/k8s/apis/cilium.io/...
)
step "cilium: go build + go vet of the touched packages"
(cd "${CILIUM_DIR}" && go build "${CILIUM_BUILD_PKGS[@]}" && go vet ./pkg/policy/api/ ./pkg/envoy/policy/)
# daemon/cmd and operator/cmd (flag registration of patch 0001) need modules
# that the module proxy here does not serve (e.g. github.com/osrg/gobgp/v4 at
# Cilium's pseudo-version); check them for syntax and formatting only.
unformatted="$(cd "${CILIUM_DIR}" && gofmt -l daemon/cmd/daemon_main.go operator/cmd/flags.go pkg/option/config.go pkg/defaults/defaults.go)"
[ -z "${unformatted}" ] || die "not gofmt-formatted: ${unformatted}"
echo "daemon/cmd, operator/cmd: gofmt ok (not compiled here, see README.md)"
done_step

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  CILIUM_TEST_PKGS=(./pkg/envoy/... ./pkg/k8s/apis/cilium.io/...)
  if [ "${FULL_POLICY_TESTS:-1}" = 1 ]; then
    # All of ./pkg/policy/... but pkg/policy/test, which needs a mounted BPF
    # filesystem (it fails with "Could not find BPF map root" on the pristine
    # tree as well when not privileged).
    mapfile -t policy_pkgs < <(cd "${CILIUM_DIR}" && go list ./pkg/policy/... | grep -v '^github.com/cilium/cilium/pkg/policy/test$')
    CILIUM_TEST_PKGS+=("${policy_pkgs[@]}")
  else
    CILIUM_TEST_PKGS+=(./pkg/policy/api/... ./pkg/policy/k8s/...)
  fi
  step "cilium: go test ./pkg/envoy/... ./pkg/k8s/apis/cilium.io/... ./pkg/policy/... (${#CILIUM_TEST_PKGS[@]} patterns)"
  TEST_LOG="${WORK_DIR}/cilium-go-test.log"
  if ! (cd "${CILIUM_DIR}" && go test "${CILIUM_TEST_PKGS[@]}") >"${TEST_LOG}" 2>&1; then
    grep -v '^ok \|no test files' "${TEST_LOG}" | tail -n 80
    die "go test failed (full log: ${TEST_LOG})"
  fi
  grep -c '^ok ' "${TEST_LOG}" | xargs -I{} echo "{} packages ok"
  echo "our tests:"
  (cd "${CILIUM_DIR}" && go test -count=1 -v -run 'JWT|Jwt' ./pkg/policy/api/ ./pkg/policy/k8s/ ./pkg/envoy/policy/) | grep -E '^(--- |ok |FAIL)'
  done_step
fi

# ---------------------------------------------------------------------------
step "cilium: helm template with cilium-patches/helm/values-jwt.yaml"
HELM_MODULE="helm.sh/helm/v3"
HELM_BIN="${TOOLS_DIR}/helm/bin/helm"
if [ ! -x "${HELM_BIN}" ]; then
  (cd "${CACHE_DIR}" && GOBIN="$(dirname "${HELM_BIN}")" go install "${HELM_MODULE}/cmd/helm@${HELM_VERSION}") \
    || echo "(could not install helm ${HELM_VERSION})"
fi
if [ -x "${HELM_BIN}" ]; then
  rendered="${WORK_DIR}/helm-values-jwt.yaml"
  # (helm built by 'go install' lacks the ldflags setting its default
  # Kubernetes version, v1.20, below the chart's kubeVersion.)
  "${HELM_BIN}" template cilium "${CILIUM_DIR}/install/kubernetes/cilium" -n kube-system --kube-version "${HELM_KUBE_VERSION}" \
    -f "${PATCHES_DIR}/helm/values-jwt.yaml" >"${rendered}"
  grep -q '^  enable-jwt-policy: "true"$' "${rendered}" || die "rendered cilium-config lacks enable-jwt-policy: \"true\""
  grep -q '^  jwt-policy-allow-insecure-jwks-url: "true"$' "${rendered}" || die "rendered cilium-config lacks jwt-policy-allow-insecure-jwks-url: \"true\""
  default_rendered="$("${HELM_BIN}" template cilium "${CILIUM_DIR}/install/kubernetes/cilium" -n kube-system --kube-version "${HELM_KUBE_VERSION}")"
  if grep -q 'enable-jwt-policy' <<<"${default_rendered}"; then die "default values render enable-jwt-policy"; fi
  echo "cilium-config: enable-jwt-policy: \"true\", jwt-policy-allow-insecure-jwks-url: \"true\" (default values: absent)"
  done_step
else
  done_step SKIPPED
fi

# ---------------------------------------------------------------------------
step "manifests: validate tests/k8sT/manifests against the patched CRD schemas"
rm -rf "${CILIUM_DIR}/_jwt/crdvalidate"
cp -r "${PATCHES_DIR}/tools/crdvalidate" "${CILIUM_DIR}/_jwt/"
(cd "${CILIUM_DIR}" && go build -o "${WORK_DIR}/crdvalidate" ./_jwt/crdvalidate)
"${WORK_DIR}/crdvalidate" -crd-dir "${CILIUM_DIR}/pkg/k8s/apis/cilium.io/client/crds/v2" \
  -valid "${MANIFESTS_DIR}" -invalid "${MANIFESTS_DIR}/invalid" \
  || die "manifest validation failed"
n_invalid=$(find "${MANIFESTS_DIR}/invalid" -name '*.yaml' | wc -l)
[ "${n_invalid}" -ge 4 ] || die "expected at least 4 invalid manifests, found ${n_invalid}"
# The upstream CRD must not know matchJWT: the valid policies must be rejected
# by the pristine schema (so the check above really exercises the patch).
mkdir -p "${CRD_WORK}/upstream-crds"
for crd in ciliumnetworkpolicies ciliumclusterwidenetworkpolicies; do
  git -C "${CILIUM_DIR}" show "pristine:pkg/k8s/apis/cilium.io/client/crds/v2/${crd}.yaml" >"${CRD_WORK}/upstream-crds/${crd}.yaml"
done
if "${WORK_DIR}/crdvalidate" -schema-only -crd-dir "${CRD_WORK}/upstream-crds" -valid "${MANIFESTS_DIR}" >/dev/null 2>&1; then
  die "the upstream (unpatched) CRD schema accepts the matchJWT manifests"
fi
echo "upstream CRD schema rejects the matchJWT manifests: ok"
done_step

step "e2e: compile tests/k8sT/JWT.go in cilium's test/k8s suite (not run)"
cp "${REPO_DIR}/tests/k8sT/JWT.go" "${CILIUM_DIR}/test/k8s/jwt.go"
(cd "${CILIUM_DIR}" && go build ./test/k8s/ && go vet ./test/k8s/)
bash -n "${REPO_DIR}/tests/k8sT/run-kind.sh"
echo "test/k8s with JWT.go: builds and vets; run-kind.sh: syntax ok"
done_step

print_summary
echo "verify.sh: OK"
