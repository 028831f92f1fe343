# Shared locations for the project's scripts. Source it: `. scripts/env.sh`.
# Everything downloaded lives under CILIUM_JWT_HOME (outside the repository, kept between runs).
export CILIUM_JWT_HOME="${CILIUM_JWT_HOME:-$HOME/.cache/cilium-jwt}"
export ENVOY_VERSION=1.40.0
export CILIUM_JWT_ENVOY="${CILIUM_JWT_ENVOY:-$CILIUM_JWT_HOME/envoy-$ENVOY_VERSION/envoy}"
export CILIUM_JWT_VENV="$CILIUM_JWT_HOME/venv"
