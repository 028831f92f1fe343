// SPDX-License-Identifier: Apache-2.0
// Copyright Authors of Cilium

// JWT (matchJWT) policy end-to-end test, in the style of Cilium's Ginkgo
// suite (test/k8s). It is meant to be copied into a patched cilium tree as
// test/k8s/jwt.go, with the manifests of tests/k8sT/manifests copied into
// test/k8s/manifests (tests/k8sT/run-kind.sh does both), and run against a
// kind cluster with the patched images:
//
//	ginkgo --focus="K8sAgentJWTPolicyTest" -- \
//	    -cilium.provision=false -cilium.kubeconfig=$HOME/.kube/config \
//	    -cilium.image=localhost/cilium-jwt/cilium -cilium.tag=dev \
//	    -cilium.operator-image=localhost/cilium-jwt/operator -cilium.operator-tag=dev \
//	    -cilium.install-helm-overrides="jwtPolicy.enabled=true,jwtPolicy.allowInsecureJwksUrl=true,..."
//
// cilium-patches/verify.sh compiles it (go build ./test/k8s/) but cannot run
// it: that needs a container engine.
package k8sTest

import (
	"fmt"
	"strings"

	. "github.com/onsi/gomega"

	. "github.com/cilium/cilium/test/ginkgo-ext"
	"github.com/cilium/cilium/test/helpers"
)

const (
	jwtIdPURL          = "http://cilium-jwt-idp.kube-system.svc.cluster.local:8080"
	jwtWebServerFilter = "component=webserver"
	jwtClientName      = "jwt-client"
	jwtAudience        = "Thales-accuknox-1st"
)

var _ = Describe("K8sAgentJWTPolicyTest", func() {
	var (
		kubectl        *helpers.Kubectl
		ciliumFilename string

		serverYAML       string
		idpYAML          string
		policyYAML       string
		wrongAudYAML     string
		webServerAddress string
	)

	BeforeAll(func() {
		kubectl = helpers.CreateKubectl(helpers.K8s1VMName(), logger)
		ciliumFilename = helpers.TimestampFilename("cilium.yaml")
		DeployCiliumOptionsAndDNS(kubectl, ciliumFilename, map[string]string{
			"l7Proxy":                        "true",
			"jwtPolicy.enabled":              "true",
			"jwtPolicy.allowInsecureJwksUrl": "true",
		})

		serverYAML = helpers.ManifestGet(kubectl.BasePath(), "simple-http-test-server.yaml")
		idpYAML = helpers.ManifestGet(kubectl.BasePath(), "cilium-jwt-idp.yaml")
		policyYAML = helpers.ManifestGet(kubectl.BasePath(), "client-identity.yaml")
		wrongAudYAML = helpers.ManifestGet(kubectl.BasePath(), "client-identity-wrong-audience.yaml")

		kubectl.ApplyDefault(serverYAML).ExpectSuccess("cannot deploy the web server")
		kubectl.ApplyDefault(idpYAML).ExpectSuccess("cannot deploy the identity provider")
		kubectl.ExecShort(fmt.Sprintf("%s run %s --image=docker.io/curlimages/curl:8.11.1 --restart=Never -- sleep infinity",
			helpers.KubectlCmd, jwtClientName)).ExpectSuccess("cannot start the client pod")

		Expect(kubectl.WaitforPods(helpers.DefaultNamespace, "-l "+jwtWebServerFilter, helpers.HelperTimeout)).To(Succeed())
		Expect(kubectl.WaitforPods(helpers.KubeSystemNamespace, "-l app.kubernetes.io/name=cilium-jwt-idp", helpers.HelperTimeout)).To(Succeed())
		Expect(kubectl.WaitforPods(helpers.DefaultNamespace, "--field-selector metadata.name="+jwtClientName, helpers.HelperTimeout)).To(Succeed())

		ips, err := kubectl.GetPodsIPs(helpers.DefaultNamespace, jwtWebServerFilter)
		Expect(err).To(BeNil(), "cannot get the web server IP")
		Expect(ips).To(HaveLen(1))
		for _, ip := range ips {
			webServerAddress = fmt.Sprintf("http://%s:7070/", ip)
		}
	})

	AfterAll(func() {
		_ = kubectl.Delete(policyYAML)
		_ = kubectl.Delete(wrongAudYAML)
		_ = kubectl.DeleteResource("pod", jwtClientName)
		_ = kubectl.Delete(idpYAML)
		_ = kubectl.Delete(serverYAML)
		UninstallCiliumFromManifest(kubectl, ciliumFilename)
		kubectl.CloseSSHClient()
	})

	JustAfterEach(func() {
		kubectl.ValidateNoErrorsInLogs(CurrentGinkgoTestDescription().Duration)
	})

	AfterFailed(func() {
		kubectl.CiliumReport("cilium-dbg policy get", "cilium-dbg endpoint list")
	})

	// request returns the HTTP status code and the response body of a request
	// from the client pod to the web server, with the given token (none if
	// empty).
	request := func(token string) (string, string) {
		header := ""
		if token != "" {
			header = fmt.Sprintf("-H 'Authorization: Bearer %s'", token)
		}
		res := kubectl.ExecPodCmd(helpers.DefaultNamespace, jwtClientName, fmt.Sprintf(
			`sh -c "curl -s -o /tmp/body -w '%%{http_code}' --connect-timeout 5 %s %s; echo; cat /tmp/body"`, header, webServerAddress))
		lines := strings.SplitN(res.Stdout(), "\n", 2)
		body := ""
		if len(lines) == 2 {
			body = lines[1]
		}
		return strings.TrimSpace(lines[0]), body
	}

	// token asks the lab identity provider for a token for the given audience,
	// with its Auth0-style client-credentials grant (any client id, secret
	// "cilium-jwt-lab-secret" unless the IdP is started with --client).
	token := func(audience string) string {
		res := kubectl.ExecPodCmd(helpers.DefaultNamespace, jwtClientName, fmt.Sprintf(
			`curl -sf --connect-timeout 5 %s/oauth/token -H 'content-type: application/json' `+
				`--data '{"client_id":"e2e-client","client_secret":"cilium-jwt-lab-secret","audience":"%s","grant_type":"client_credentials"}' `+
				`| sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p'`, jwtIdPURL, audience))
		res.ExpectSuccess("cannot get a token from the identity provider")
		tok := strings.TrimSpace(res.Stdout())
		Expect(strings.Count(tok, ".")).To(Equal(2), "not a compact JWS: %q", tok)
		return tok
	}

	It("enforces matchJWT: no token 401, valid token 200, wrong audience 403", func() {
		By("Reaching the web server without policy")
		code, _ := request("")
		Expect(code).To(Equal("200"))

		By("Applying the client-identity policy")
		_, err := kubectl.CiliumPolicyAction(helpers.DefaultNamespace, policyYAML, helpers.KubectlApply, helpers.HelperTimeout)
		Expect(err).To(BeNil(), "cannot apply %s", policyYAML)

		By("Requesting without a token: 401 from Envoy")
		code, body := request("")
		Expect(code).To(Equal("401"))
		Expect(body).To(ContainSubstring("Jwt is missing"))

		By("Requesting with a valid token: 200")
		tok := token(jwtAudience)
		code, _ = request(tok)
		Expect(code).To(Equal("200"))

		By("Requesting with a token for another audience: 403")
		_, err = kubectl.CiliumPolicyAction(helpers.DefaultNamespace, wrongAudYAML, helpers.KubectlApply, helpers.HelperTimeout)
		Expect(err).To(BeNil(), "cannot apply %s", wrongAudYAML)
		code, _ = request(tok)
		Expect(code).To(Equal("403"))
	})
})
