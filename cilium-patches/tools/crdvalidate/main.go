// SPDX-License-Identifier: Apache-2.0
// Copyright Authors of Cilium

// crdvalidate validates CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy
// manifests the way the Kubernetes API server validates custom resources:
// against the structural OpenAPI v3 schema of the (patched) CRDs, including
// unknown field detection (what 'kubectl apply' reports with the default
// strict field validation, and the API server would otherwise prune),
// x-kubernetes-list-type validation and the CEL rules of the CRD.
//
// Then, unless -schema-only is given, the policies that pass are parsed and
// sanitized like cilium-agent does it (CiliumNetworkPolicy.Parse), with JWT
// policy support and 'http' JWKS URLs enabled, as in the lab setup.
//
// It must be run from the root of the (patched) cilium/cilium module:
//
//	go run ./<dir>/crdvalidate -crd-dir pkg/k8s/apis/cilium.io/client/crds/v2 \
//	    -valid tests/k8sT/manifests -invalid tests/k8sT/manifests/invalid
//
// Every CNP/CCNP document of a manifest in a -valid directory must pass; every
// manifest in an -invalid directory must contain at least one CNP/CCNP
// document, and each of its CNP/CCNP documents must be rejected. Other kinds
// (Deployments, Services, ...) are skipped. Exits non-zero on any violation.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	"github.com/cilium/cilium/pkg/option"
)

type crdSchema struct {
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	cel        *cel.Validator
}

func loadCRD(path string) (string, map[string]*crdSchema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	versions := map[string]*crdSchema{}
	for _, v := range crd.Spec.Versions {
		if v.Schema == nil {
			continue
		}
		internal := &apiextensions.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internal, nil); err != nil {
			return "", nil, fmt.Errorf("%s: converting schema of %s: %w", path, v.Name, err)
		}
		structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			return "", nil, fmt.Errorf("%s: schema of %s is not structural: %w", path, v.Name, err)
		}
		if errs := structuralschema.ValidateStructural(field.NewPath("spec", "versions").Key(v.Name), structural); len(errs) > 0 {
			return "", nil, fmt.Errorf("%s: schema of %s is not structural: %w", path, v.Name, errs.ToAggregate())
		}
		validator, _, err := validation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", path, err)
		}
		versions[crd.Spec.Group+"/"+v.Name] = &crdSchema{
			structural: structural,
			validator:  validator,
			cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
		}
	}
	return crd.Spec.Names.Kind, versions, nil
}

// validateObject returns the schema validation errors of a custom resource.
func validateObject(s *crdSchema, obj map[string]any) field.ErrorList {
	var errs field.ErrorList

	// Unknown fields: the API server prunes them, 'kubectl apply' (strict
	// field validation) rejects them.
	pruned := structuralpruning.PruneWithOptions(runtime.DeepCopyJSON(obj), s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range pruned {
		errs = append(errs, field.Invalid(field.NewPath(p), nil, "unknown field"))
	}

	errs = append(errs, validation.ValidateCustomResource(nil, obj, s.validator)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj)...)
	celErrs, _ := s.cel.Validate(context.Background(), nil, s.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	errs = append(errs, celErrs...)
	return errs
}

// sanitize parses the policy like cilium-agent does.
func sanitize(kind string, data []byte) error {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch kind {
	case "CiliumNetworkPolicy":
		cnp := &ciliumv2.CiliumNetworkPolicy{}
		if err := yaml.Unmarshal(data, cnp); err != nil {
			return err
		}
		if cnp.Namespace == "" {
			cnp.Namespace = "default" // as 'kubectl apply' does
		}
		_, err := cnp.Parse(logger, "default")
		return err
	case "CiliumClusterwideNetworkPolicy":
		ccnp := &ciliumv2.CiliumClusterwideNetworkPolicy{}
		if err := yaml.Unmarshal(data, ccnp); err != nil {
			return err
		}
		_, err := ccnp.Parse(logger, "default")
		return err
	}
	return fmt.Errorf("unexpected kind %s", kind)
}

type result struct {
	checked  int
	rejected int
	messages []string
}

func checkFile(path string, schemas map[string]map[string]*crdSchema, schemaOnly bool) (*result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	res := &result{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			res.checked++
			res.rejected++
			res.messages = append(res.messages, fmt.Sprintf("document %d: not valid YAML: %v", i, err))
			continue
		}
		kind, _ := obj["kind"].(string)
		apiVersion, _ := obj["apiVersion"].(string)
		versions, ok := schemas[kind]
		if !ok {
			continue // not a CNP/CCNP
		}
		res.checked++
		name := fmt.Sprintf("document %d (%s", i, kind)
		if md, ok := obj["metadata"].(map[string]any); ok {
			name += fmt.Sprintf(" %v", md["name"])
		}
		name += ")"
		s, ok := versions[apiVersion]
		if !ok {
			res.rejected++
			res.messages = append(res.messages, fmt.Sprintf("%s: unknown apiVersion %q", name, apiVersion))
			continue
		}
		if errs := validateObject(s, obj); len(errs) > 0 {
			res.rejected++
			for _, e := range errs {
				res.messages = append(res.messages, fmt.Sprintf("%s: schema: %v", name, e))
			}
			continue
		}
		if !schemaOnly {
			if err := sanitize(kind, doc); err != nil {
				res.rejected++
				res.messages = append(res.messages, fmt.Sprintf("%s: agent: %v", name, err))
				continue
			}
		}
		res.messages = append(res.messages, fmt.Sprintf("%s: valid", name))
	}
	return res, nil
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

func yamlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

func main() {
	crdDir := flag.String("crd-dir", "pkg/k8s/apis/cilium.io/client/crds/v2", "directory of the CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy CRDs")
	validDir := flag.String("valid", "", "directory of manifests that must pass")
	invalidDir := flag.String("invalid", "", "directory of manifests that must be rejected")
	schemaOnly := flag.Bool("schema-only", false, "only validate against the CRD schemas, do not sanitize like cilium-agent")
	flag.Parse()

	// Agent options of the lab setup (cilium-patches/helm/values-jwt.yaml).
	option.Config.EnableL7Proxy = true
	option.Config.EnableJWTPolicy = true
	option.Config.JWTPolicyAllowInsecureJWKSURL = true

	schemas := map[string]map[string]*crdSchema{}
	for _, name := range []string{"ciliumnetworkpolicies.yaml", "ciliumclusterwidenetworkpolicies.yaml"} {
		kind, versions, err := loadCRD(filepath.Join(*crdDir, name))
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(2)
		}
		schemas[kind] = versions
	}

	failures := 0
	passed := 0
	for _, set := range []struct {
		dir        string
		wantReject bool
	}{{*validDir, false}, {*invalidDir, true}} {
		if set.dir == "" {
			continue
		}
		files, err := yamlFiles(set.dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(2)
		}
		for _, f := range files {
			res, err := checkFile(f, schemas, *schemaOnly)
			if err != nil {
				fmt.Fprintln(os.Stderr, "error:", err)
				os.Exit(2)
			}
			var verdict string
			switch {
			case set.wantReject && res.checked == 0:
				verdict = "FAIL (expected to be rejected, but holds no CiliumNetworkPolicy/CiliumClusterwideNetworkPolicy)"
			case set.wantReject && res.rejected != res.checked:
				verdict = fmt.Sprintf("FAIL (expected to be rejected, but %d of %d policies passed)", res.checked-res.rejected, res.checked)
			case set.wantReject:
				verdict = "ok (rejected as expected)"
			case res.rejected > 0:
				verdict = fmt.Sprintf("FAIL (%d of %d policies rejected)", res.rejected, res.checked)
			case res.checked == 0:
				verdict = "ok (no policies, skipped)"
			default:
				verdict = "ok"
			}
			if strings.HasPrefix(verdict, "FAIL") {
				failures++
			} else {
				passed++
			}
			fmt.Printf("%-4s %s: %s\n", map[bool]string{true: "FAIL", false: "PASS"}[strings.HasPrefix(verdict, "FAIL")], f, verdict)
			for _, m := range res.messages {
				fmt.Printf("       %s\n", m)
			}
		}
	}
	fmt.Printf("manifests: %d passed, %d failed\n", passed, failures)
	if failures > 0 {
		os.Exit(1)
	}
}
