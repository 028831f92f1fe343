# Pins of the upstream trees and generator versions, sourced by verify.sh and
# refresh.sh. See README.md for why these versions.

# Newest stable Cilium on the Go module proxy.
CILIUM_MODULE=github.com/cilium/cilium
CILIUM_VERSION=v1.20.2
# cilium/proxy as required by Cilium v1.20.2's go.mod.
PROXY_MODULE=github.com/cilium/proxy
PROXY_VERSION=v0.0.0-20260701124752-9c14fdc485a1

# protoc: upstream generated go/cilium/api with protoc v6.33.2, which no
# registry here serves; grpcio-tools 1.81.1 (PyPI) bundles libprotoc 33.5,
# the closest release (same 6.33 line). Only the "protoc vX" header line of
# the generated files differs from what upstream's protoc produces.
GRPCIO_TOOLS_VERSION=1.81.1
# protoc-gen-go, protoc-gen-go-grpc and protoc-gen-validate are installed
# from the proxy's go.mod 'tool' directives (as Makefile.api does).

# deepcopy-gen: k8s.io/code-generator version of Cilium's go.mod.
CODE_GENERATOR_VERSION=v0.36.4
# deepequal-gen: 'go tool github.com/cilium/deepequal-gen' of Cilium's go.mod.
# controller-gen: Cilium uses a fork (github.com/cilium/controller-tools
# v0.21.0-1) that the Go module proxy does not serve; the CRD delta is
# computed with upstream controller-tools v0.21.0 (see README.md).
CONTROLLER_TOOLS_VERSION=v0.21.0

# helm, to render the patched chart (go install from the module proxy).
HELM_VERSION=v3.21.4
# Kubernetes version 'helm template' renders for.
HELM_KUBE_VERSION=1.34.0
