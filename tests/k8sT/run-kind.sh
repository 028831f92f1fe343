#!/usr/bin/env bash
# End-to-end test of JWT (matchJWT) policies on a kind cluster with the
# patched Cilium images. NEEDS a container engine (docker or podman), kind,
# kubectl and helm; it has NOT been run on the development machine of this
# repository (no container engine there). See cilium-patches/README.md.
#
# Steps:
#   1. (unless SKIP_BUILD=1) build the images: make -C cilium-patches/images
#   2. create a kind cluster without CNI and kube-proxy (unless it exists)
#   3. load the images, install the patched chart with
#      cilium-patches/helm/values-jwt.yaml
#   4. deploy the web server, the local IdP and a client pod
#   5. check: no policy -> 200; client-identity.yaml: no token -> 401
#      "Jwt is missing", valid token -> 200; client-identity-wrong-audience.yaml:
#      valid token -> 403
#
# Environment: CLUSTER (default cilium-jwt), KEEP_CLUSTER=1 to keep it,
# CILIUM_JWT_CACHE (work trees of verify.sh), GINKGO=1 to also run
# tests/k8sT/JWT.go through Cilium's Ginkgo suite.
#
# Tokens come from the local IdP (image cilium-jwt:latest, 'cilium-jwt idp',
# rust-filter/src/bin/cilium-jwt/idp.rs) through its Auth0-style
# client-credentials grant, POST /oauth/token (without --client options it
# accepts any client id with the secret "cilium-jwt-lab-secret").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "${HERE}/../.." && pwd -P)"
PATCHES="${REPO}/cilium-patches"
MANIFESTS="${HERE}/manifests"
CLUSTER="${CLUSTER:-cilium-jwt}"
WORK_DIR="${CILIUM_JWT_CACHE:-${CILIUM_JWT_HOME:-$HOME/.cache/cilium-jwt}}/work"
CILIUM_DIR="${WORK_DIR}/cilium"
TAG=dev
IMAGES=(
  "localhost/cilium-jwt/cilium:${TAG}"
  "localhost/cilium-jwt/operator-generic:${TAG}"
  "localhost/cilium-jwt/cilium-envoy:${TAG}"
  "cilium-jwt:latest"
)
IDP="http://cilium-jwt-idp.kube-system.svc.cluster.local:8080"
AUDIENCE="Thales-accuknox-1st"

log() { printf '\n--> %s\n' "$*"; }
fail() { echo "run-kind.sh: FAIL: $*" >&2; exit 1; }

for tool in kind kubectl helm; do
  command -v "${tool}" >/dev/null || fail "${tool} is required"
done

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building the images"
  make -C "${PATCHES}/images" all
fi
[ -d "${CILIUM_DIR}/install/kubernetes/cilium" ] || fail "no patched cilium tree in ${CILIUM_DIR}; run cilium-patches/verify.sh"

if ! kind get clusters | grep -qx "${CLUSTER}"; then
  log "creating kind cluster ${CLUSTER}"
  kind create cluster --name "${CLUSTER}" --config - <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
networking:
  disableDefaultCNI: true
EOF
fi
if [ "${KEEP_CLUSTER:-0}" != 1 ]; then
  trap 'kind delete cluster --name "${CLUSTER}"' EXIT
fi
kubectl config use-context "kind-${CLUSTER}"

log "loading images"
for image in "${IMAGES[@]}"; do
  kind load docker-image --name "${CLUSTER}" "${image}"
done

log "installing the patched Cilium chart"
helm upgrade --install cilium "${CILIUM_DIR}/install/kubernetes/cilium" -n kube-system \
  -f "${PATCHES}/helm/values-jwt.yaml" --wait --timeout 10m
kubectl -n kube-system rollout status ds/cilium --timeout=5m
kubectl -n kube-system get configmap cilium-config -o jsonpath='{.data.enable-jwt-policy}' | grep -qx true \
  || fail "cilium-config lacks enable-jwt-policy=true"

log "deploying the web server, the IdP and a client"
kubectl apply -f "${MANIFESTS}/simple-http-test-server.yaml"
kubectl apply -f "${MANIFESTS}/cilium-jwt-idp.yaml"
kubectl run jwt-client --image=docker.io/curlimages/curl:8.11.1 --restart=Never -- sleep infinity 2>/dev/null || true
kubectl wait --for=condition=Ready pod -l component=webserver --timeout=5m
kubectl -n kube-system wait --for=condition=Ready pod -l app.kubernetes.io/name=cilium-jwt-idp --timeout=5m
kubectl wait --for=condition=Ready pod/jwt-client --timeout=5m
SERVER_IP="$(kubectl get pod -l component=webserver -o jsonpath='{.items[0].status.podIP}')"
URL="http://${SERVER_IP}:7070/"

# request [TOKEN] -> prints "<status code> <body>"
request() {
  local auth=()
  [ -n "${1:-}" ] && auth=(-H "Authorization: Bearer $1")
  kubectl exec jwt-client -- sh -c 'curl -s -o /tmp/body -w "%{http_code}" --connect-timeout 5 "$@"; echo " $(cat /tmp/body)"' \
    _ "${auth[@]}" "${URL}"
}
expect() { # expect CODE [BODY_SUBSTRING] [TOKEN]
  local want="$1" body="${2:-}" out
  for _ in $(seq 1 30); do
    out="$(request "${3:-}")" || true
    if [ "${out%% *}" = "${want}" ] && [[ -z "${body}" || "${out}" == *"${body}"* ]]; then
      echo "ok: ${want} ${body}"
      return 0
    fi
    sleep 2
  done
  fail "expected ${want} ${body}, got: ${out}"
}

log "no policy: 200"
expect 200

log "client-identity.yaml"
kubectl apply -f "${MANIFESTS}/client-identity.yaml"
log "no token: 401 Jwt is missing"
expect 401 "Jwt is missing"
TOKEN="$(kubectl exec jwt-client -- curl -sf --connect-timeout 5 "${IDP}/oauth/token" -H 'content-type: application/json' \
  --data "{\"client_id\":\"e2e-client\",\"client_secret\":\"cilium-jwt-lab-secret\",\"audience\":\"${AUDIENCE}\",\"grant_type\":\"client_credentials\"}" \
  | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
[ "$(tr -cd . <<<"${TOKEN}" | wc -c)" = 2 ] || fail "the IdP returned no compact JWS: ${TOKEN}"
log "valid token (aud ${AUDIENCE}): 200"
expect 200 "" "${TOKEN}"

log "client-identity-wrong-audience.yaml: valid token, wrong audience: 403"
kubectl apply -f "${MANIFESTS}/client-identity-wrong-audience.yaml"
expect 403 "" "${TOKEN}"

log "agent refuses matchJWT when enable-jwt-policy is off"
kubectl delete -f "${MANIFESTS}/client-identity-wrong-audience.yaml"
helm upgrade cilium "${CILIUM_DIR}/install/kubernetes/cilium" -n kube-system \
  -f "${PATCHES}/helm/values-jwt.yaml" --set jwtPolicy.enabled=false --wait --timeout 10m
kubectl -n kube-system rollout restart ds/cilium
kubectl -n kube-system rollout status ds/cilium --timeout=5m
kubectl apply -f "${MANIFESTS}/client-identity.yaml"
sleep 10
kubectl -n kube-system logs ds/cilium --since=2m | grep 'Unable to add CiliumNetworkPolicy' | grep -q 'matchJWT can only be applied when the' \
  || fail "no agent log line refusing the matchJWT policy"
echo "ok: policy refused with a log line"

if [ "${GINKGO:-0}" = 1 ]; then
  log "Ginkgo: K8sAgentJWTPolicyTest"
  cp "${HERE}/JWT.go" "${CILIUM_DIR}/test/k8s/jwt.go"
  cp "${MANIFESTS}"/*.yaml "${CILIUM_DIR}/test/k8s/manifests/"
  (cd "${CILIUM_DIR}/test" && go run github.com/onsi/ginkgo/ginkgo --focus="K8sAgentJWTPolicyTest" -- \
    -cilium.provision=false -cilium.kubeconfig="${HOME}/.kube/config" \
    -cilium.image=localhost/cilium-jwt/cilium -cilium.tag="${TAG}" \
    -cilium.operator-image=localhost/cilium-jwt/operator -cilium.operator-tag="${TAG}" \
    -cilium.install-helm-overrides="envoy.enabled=true,envoy.image.repository=localhost/cilium-jwt/cilium-envoy,envoy.image.tag=${TAG},envoy.image.useDigest=false")
fi

echo
echo "run-kind.sh: PASS"
