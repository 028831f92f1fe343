// SPDX-License-Identifier: Apache-2.0
// Copyright Authors of Cilium

// protodeps writes a FileDescriptorSet holding the transitive imports of
// cilium/api/npds.proto (Envoy API, protoc-gen-validate, xDS/UDPA annotations,
// googleapis and the protobuf well-known types), taken from the Go bindings
// pinned by cilium/proxy's go.mod.
//
// It lets protoc compile npds.proto with '--descriptor_set_in' instead of a
// checkout of the .proto sources of all those dependencies (which cilium/proxy
// gets from Bazel). It must be run from the cilium/proxy module root:
//
//	go run ./<dir>/protodeps -o deps.pb
package main

import (
	"flag"
	"log"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// Imports of cilium/api/npds.proto.
	_ "github.com/envoyproxy/go-control-plane/envoy/annotations"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	_ "github.com/envoyproxy/protoc-gen-validate/validate"
	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

var roots = []string{
	"envoy/annotations/resource.proto",
	"envoy/config/core/v3/address.proto",
	"envoy/config/route/v3/route_components.proto",
	"envoy/service/discovery/v3/discovery.proto",
	"envoy/type/matcher/v3/metadata.proto",
	"google/api/annotations.proto",
	"google/protobuf/duration.proto",
	"google/protobuf/wrappers.proto",
	"validate/validate.proto",
}

func main() {
	out := flag.String("o", "deps.pb", "output FileDescriptorSet")
	flag.Parse()

	seen := map[string]bool{}
	var files []*descriptorpb.FileDescriptorProto
	// Depth-first, dependencies before dependents.
	var visit func(fd protoreflect.FileDescriptor)
	visit = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			visit(imports.Get(i).FileDescriptor)
		}
		files = append(files, protodesc.ToFileDescriptorProto(fd))
	}
	sort.Strings(roots)
	for _, path := range roots {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		visit(fd)
	}
	for _, f := range files {
		if strings.HasPrefix(f.GetName(), "cilium/") {
			log.Fatalf("unexpected cilium proto %s in the dependencies", f.GetName())
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&descriptorpb.FileDescriptorSet{File: files})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d file descriptors to %s", len(files), *out)
}
