package helm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// HelmEnv names the helm binary the tests render with; by default the
// pinned one go tool task tools:helm installs into .bin.
const HelmEnv = "MINIBACK_HELM"

const chartDir = "miniback"

// helmBinary is the pinned helm. Outside CI a missing binary skips the
// test; under CI it fails it.
func helmBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv(HelmEnv)
	if p == "" {
		p = filepath.Join("..", "..", ".bin", "helm")
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no helm at %s (%s): under CI the chart must be rendered; go tool task tools:helm installs it", p, HelmEnv)
		}
		t.Skipf("no helm at %s: go tool task tools:helm installs it", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// manifests is one rendering of the chart, every document strictly decoded
// into its Kubernetes type.
type manifests struct {
	Deployments     []*appsv1.Deployment
	Services        []*corev1.Service
	ConfigMaps      []*corev1.ConfigMap
	Secrets         []*corev1.Secret
	ServiceAccounts []*corev1.ServiceAccount
	PDBs            []*policyv1.PodDisruptionBudget
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
	Jobs            []*batchv1.Job
	ServiceMonitors []*monitoringv1.ServiceMonitor
}

// render runs helm template with the values (YAML) and decodes the result;
// it fails the test on any helm error.
func render(t *testing.T, values string) manifests {
	t.Helper()
	out, err := helmTemplate(t, values)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeAll(out)
	if err != nil {
		t.Fatalf("%v\n--- rendered:\n%s", err, out)
	}
	return m
}

func helmTemplate(t *testing.T, values string) ([]byte, error) {
	t.Helper()
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helmBinary(t), "template", "rel", chartDir, "--namespace", "shop", "-f", vf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template: %v\n%s", err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// decodeAll decodes every document helm rendered into the type its
// apiVersion and kind name, refusing unknown and duplicate fields: a
// misspelt field fails here instead of being dropped by the API server.
// Field names match case-sensitively, as the API server's decoder
// (sigs.k8s.io/json) does: encoding/json would take "Replicas" for
// "replicas".
func decodeAll(rendered []byte) (manifests, error) {
	var m manifests
	for i, doc := range bytes.Split(rendered, []byte("\n---\n")) {
		doc = bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---"))
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return m, fmt.Errorf("document %d is not valid YAML: %w\n%s", i, err, doc)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := json.UnmarshalCaseSensitivePreserveInts(js, &head); err != nil {
			return m, err
		}
		var target any
		switch head.APIVersion + "/" + head.Kind {
		case "apps/v1/Deployment":
			v := &appsv1.Deployment{}
			m.Deployments, target = append(m.Deployments, v), v
		case "v1/Service":
			v := &corev1.Service{}
			m.Services, target = append(m.Services, v), v
		case "v1/ConfigMap":
			v := &corev1.ConfigMap{}
			m.ConfigMaps, target = append(m.ConfigMaps, v), v
		case "v1/Secret":
			v := &corev1.Secret{}
			m.Secrets, target = append(m.Secrets, v), v
		case "v1/ServiceAccount":
			v := &corev1.ServiceAccount{}
			m.ServiceAccounts, target = append(m.ServiceAccounts, v), v
		case "policy/v1/PodDisruptionBudget":
			v := &policyv1.PodDisruptionBudget{}
			m.PDBs, target = append(m.PDBs, v), v
		case "autoscaling/v2/HorizontalPodAutoscaler":
			v := &autoscalingv2.HorizontalPodAutoscaler{}
			m.HPAs, target = append(m.HPAs, v), v
		case "batch/v1/Job":
			v := &batchv1.Job{}
			m.Jobs, target = append(m.Jobs, v), v
		case "monitoring.coreos.com/v1/ServiceMonitor":
			v := &monitoringv1.ServiceMonitor{}
			m.ServiceMonitors, target = append(m.ServiceMonitors, v), v
		default:
			return m, fmt.Errorf("document %d: %s %s has no decoder in this test: add its type", i, head.APIVersion, head.Kind)
		}
		strict, err := json.UnmarshalStrict(js, target)
		if err == nil {
			err = errors.Join(strict...)
		}
		if err != nil {
			return m, fmt.Errorf("document %d (%s): %w\n%s", i, head.Kind, err, doc)
		}
	}
	return m, nil
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

// one returns the only element, failing the test unless there is exactly one.
func one[T any](t *testing.T, what string, items []T) T {
	t.Helper()
	if len(items) != 1 {
		t.Fatalf("%d %s rendered, want 1", len(items), what)
	}
	return items[0]
}

// container returns the named container of a pod spec.
func container(t *testing.T, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}
