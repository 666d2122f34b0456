package helm

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

func yamlUnmarshal(b []byte, v any) error { return yaml.Unmarshal(b, v) }

func TestChartDefaultsRunThreeHardenedReplicasProbedOnHealthzAndReadyz(t *testing.T) {
	m := render(t, "")
	d := one(t, "Deployments", m.Deployments)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.String() != "0" {
		t.Errorf("rolling update %+v, want maxUnavailable 0 (a new replica is ready before an old one goes)", ru)
	}
	pod := d.Spec.Template.Spec
	c := container(t, pod, "miniback")

	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"startup", c.StartupProbe, "/healthz"}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe %+v, want GET %s on port http", p.name, p.probe, p.path)
		}
	}
	// A replica waiting for the migration lock (up to 5 minutes) must not
	// be killed by its startup probe.
	if sp := c.StartupProbe; sp != nil && time.Duration(sp.PeriodSeconds*sp.FailureThreshold)*time.Second < 5*time.Minute {
		t.Errorf("startup probe gives %ds, want at least 300s (the migration lock's wait)", sp.PeriodSeconds*sp.FailureThreshold)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 8080 || ports["metrics"] != 9090 {
		t.Errorf("container ports %v, want http 8080 and metrics 9090", ports)
	}
	if v, _ := envValue(c, "MINIBACK_ADDR"); v != ":8080" {
		t.Errorf("MINIBACK_ADDR %q, want :8080 (the http port)", v)
	}
	if v, _ := envValue(c, "MINIBACK_MIGRATE_ON_START"); v != "true" {
		t.Errorf("MINIBACK_MIGRATE_ON_START %q, want true (migrations.mode onStart)", v)
	}

	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want runAsNonRoot, user 65532, seccomp RuntimeDefault", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v, want a read-only root, no privilege escalation, non-root, ALL capabilities dropped, seccomp RuntimeDefault", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token; miniback never calls the Kubernetes API")
	}
	tmpMounted := false
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == "/tmp" {
			for _, v := range pod.Volumes {
				tmpMounted = tmpMounted || (v.Name == vm.Name && v.EmptyDir != nil)
			}
		}
	}
	if !tmpMounted {
		t.Error("/tmp is not an emptyDir: with a read-only root nothing could write a temporary file")
	}

	grace := pod.TerminationGracePeriodSeconds
	shutdown, err := time.ParseDuration(mustEnv(t, c, "MINIBACK_SHUTDOWN_TIMEOUT"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != 5 {
		t.Fatalf("preStop %+v, want a 5 s sleep action (the image has no shell)", c.Lifecycle)
	}
	if need := c.Lifecycle.PreStop.Sleep.Seconds + int64(shutdown.Seconds()); grace == nil || *grace <= need {
		t.Errorf("terminationGracePeriodSeconds %v, want more than the preStop sleep + MINIBACK_SHUTDOWN_TIMEOUT (%d s)", grace, need)
	}

	cm, secret := one(t, "ConfigMaps", m.ConfigMaps), one(t, "Secrets", m.Secrets)
	if cm.Data["MINIBACK_ENV"] != "production" || cm.Data["MINIBACK_STORAGE"] != "s3" {
		t.Errorf("ConfigMap %v, want MINIBACK_ENV=production and MINIBACK_STORAGE=s3", cm.Data)
	}
	var fromCM, fromSecret string
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			fromCM = ef.ConfigMapRef.Name
		}
		if ef.SecretRef != nil {
			fromSecret = ef.SecretRef.Name
		}
	}
	if fromCM != cm.Name || fromSecret != secret.Name {
		t.Errorf("envFrom ConfigMap %q and Secret %q, want %q and %q", fromCM, fromSecret, cm.Name, secret.Name)
	}

	pdb := one(t, "PodDisruptionBudgets", m.PDBs)
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || !selects(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("PDB %+v, want maxUnavailable 1 over the Deployment's pods", pdb.Spec)
	}
	if len(m.HPAs) != 0 || len(m.ServiceMonitors) != 0 || len(m.Jobs) != 0 {
		t.Errorf("rendered %d HPAs, %d ServiceMonitors, %d Jobs by default; want none", len(m.HPAs), len(m.ServiceMonitors), len(m.Jobs))
	}

	if len(m.Services) != 2 {
		t.Fatalf("%d Services, want the API's and the metrics'", len(m.Services))
	}
	for _, s := range m.Services {
		if !selects(s.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("Service %s selects %v, not the Deployment's pods", s.Name, s.Spec.Selector)
		}
		var names []string
		for _, p := range s.Spec.Ports {
			names = append(names, p.Name+"->"+p.TargetPort.String())
		}
		switch {
		case strings.HasSuffix(s.Name, "-metrics"):
			if s.Spec.Type != corev1.ServiceTypeClusterIP || !slices.Equal(names, []string{"metrics->metrics"}) {
				t.Errorf("metrics Service %s: type %s, ports %v; want ClusterIP with metrics only", s.Name, s.Spec.Type, names)
			}
		default:
			if !slices.Equal(names, []string{"http->http"}) {
				t.Errorf("API Service %s ports %v, want http only (metrics never on the API's Service)", s.Name, names)
			}
		}
	}
}

func TestChartMapsEveryMinibackVariable(t *testing.T) {
	config, secret := chartValues(t)
	// Every key the chart offers, given a value: a number, so the
	// rendering of numbers is exercised too.
	var values strings.Builder
	values.WriteString("config:\n")
	for k := range config {
		fmt.Fprintf(&values, "  %s: 12345678\n", k)
	}
	values.WriteString("secret:\n")
	for k := range secret {
		fmt.Fprintf(&values, "  %s: s3cr3t-%s\n", k, strings.ToLower(k))
	}
	m := render(t, values.String())
	cm, sec := one(t, "ConfigMaps", m.ConfigMaps), one(t, "Secrets", m.Secrets)
	c := container(t, one(t, "Deployments", m.Deployments).Spec.Template.Spec, "miniback")

	var unmapped, leaked []string
	for _, v := range minibackVariables(t) {
		_, inCM := cm.Data[v]
		_, inSecret := sec.StringData[v]
		_, inEnv := envValue(c, v)
		switch {
		case !inCM && !inSecret && !inEnv:
			unmapped = append(unmapped, v)
		case secretName.MatchString(v) && !inSecret:
			leaked = append(leaked, v)
		}
		if inCM && cm.Data[v] != "12345678" {
			t.Errorf("ConfigMap %s = %q, want 12345678 (numbers written as integers)", v, cm.Data[v])
		}
	}
	if len(unmapped) > 0 {
		t.Errorf("cmd/miniback reads %v, which the chart maps nowhere: add each to values.yaml (config, or secret for a credential) or to miniback.chartManagedEnv", unmapped)
	}
	if len(leaked) > 0 {
		t.Errorf("%v hold credentials but are not in the Secret: move them from config to secret in values.yaml", leaked)
	}
	var extra []string
	known := minibackVariables(t)
	for k := range config {
		if !slices.Contains(known, k) {
			extra = append(extra, k)
		}
	}
	for k := range secret {
		if !slices.Contains(known, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("values.yaml sets %v, which cmd/miniback does not read (misspelt or removed?)", extra)
	}
}

func TestChartGracePeriodFollowsTheShutdownTimeout(t *testing.T) {
	m := render(t, "shutdown:\n  timeoutSeconds: 45\n  preStopSleepSeconds: 10\n  drainSeconds: 3\n  marginSeconds: 5\n")
	pod := one(t, "Deployments", m.Deployments).Spec.Template.Spec
	c := container(t, pod, "miniback")
	if v := mustEnv(t, c, "MINIBACK_SHUTDOWN_TIMEOUT"); v != "45s" {
		t.Errorf("MINIBACK_SHUTDOWN_TIMEOUT %q, want 45s", v)
	}
	if v := mustEnv(t, c, "MINIBACK_SHUTDOWN_DRAIN"); v != "3s" {
		t.Errorf("MINIBACK_SHUTDOWN_DRAIN %q, want 3s", v)
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g != 63 {
		t.Errorf("terminationGracePeriodSeconds %v, want 63 (10 preStop + 3 drain + 45 shutdown + 5)", g)
	}
	m = render(t, "shutdown:\n  preStopSleepSeconds: 0\n")
	if c := container(t, one(t, "Deployments", m.Deployments).Spec.Template.Spec, "miniback"); c.Lifecycle != nil {
		t.Errorf("lifecycle %+v with preStopSleepSeconds 0, want none (clusters before 1.30)", c.Lifecycle)
	}
}

func TestChartAutoscalingHandsTheReplicaCountToTheHPA(t *testing.T) {
	m := render(t, "autoscaling:\n  enabled: true\n  minReplicas: 3\n  maxReplicas: 12\n")
	d := one(t, "Deployments", m.Deployments)
	if d.Spec.Replicas != nil {
		t.Errorf("the Deployment sets replicas %d: every upgrade would undo the HPA's scaling", *d.Spec.Replicas)
	}
	hpa := one(t, "HorizontalPodAutoscalers", m.HPAs)
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Name ||
		hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 3 || hpa.Spec.MaxReplicas != 12 || len(hpa.Spec.Metrics) != 1 {
		t.Errorf("HPA %+v, want 3 to 12 replicas of %s on CPU", hpa.Spec, d.Name)
	}
}

func TestChartServiceMonitorScrapesTheMetricsPort(t *testing.T) {
	m := render(t, "metrics:\n  port: 9191\n  serviceMonitor:\n    enabled: true\n    labels:\n      release: prometheus\n")
	sm := one(t, "ServiceMonitors", m.ServiceMonitors)
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" || sm.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor %+v, want one endpoint on port metrics, /metrics, labelled release=prometheus", sm)
	}
	var metricsSvc *corev1.Service
	for _, s := range m.Services {
		if selects(sm.Spec.Selector.MatchLabels, s.Labels) {
			if metricsSvc != nil {
				t.Errorf("the ServiceMonitor selects both %s and %s", metricsSvc.Name, s.Name)
			}
			metricsSvc = s
		}
	}
	if metricsSvc == nil || len(metricsSvc.Spec.Ports) != 1 || metricsSvc.Spec.Ports[0].Name != "metrics" || metricsSvc.Spec.Ports[0].Port != 9191 {
		t.Fatalf("the ServiceMonitor selects %+v, want the metrics Service on 9191", metricsSvc)
	}
	c := container(t, one(t, "Deployments", m.Deployments).Spec.Template.Spec, "miniback")
	if v := mustEnv(t, c, "MINIBACK_METRICS_ADDR"); v != ":9191" {
		t.Errorf("MINIBACK_METRICS_ADDR %q, want :9191", v)
	}
}

func TestChartWithMetricsOffOpensNoMetricsListener(t *testing.T) {
	m := render(t, "metrics:\n  enabled: false\n  serviceMonitor:\n    enabled: true\n")
	c := container(t, one(t, "Deployments", m.Deployments).Spec.Template.Spec, "miniback")
	// Unset, miniback would listen on :9090 in production.
	if v := mustEnv(t, c, "MINIBACK_METRICS_ADDR"); v != "off" {
		t.Errorf("MINIBACK_METRICS_ADDR %q with metrics disabled, want off", v)
	}
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			t.Error("a metrics container port with metrics disabled")
		}
	}
	if len(m.Services) != 1 || len(m.ServiceMonitors) != 0 {
		t.Errorf("%d Services and %d ServiceMonitors with metrics disabled, want the API's Service only", len(m.Services), len(m.ServiceMonitors))
	}
}

func TestChartMigrationJobRunsBeforeTheReplicasWithTheSameSettings(t *testing.T) {
	m := render(t, "migrations:\n  mode: job\nexistingSecret: shop-miniback\nconfig:\n  MINIBACK_PUBLIC_URL: https://api.example.com\n")
	if len(m.Secrets) != 0 {
		t.Errorf("rendered %d Secrets with existingSecret set, want none", len(m.Secrets))
	}
	job := one(t, "Jobs", m.Jobs)
	if job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Errorf("Job hook %q, want pre-install,pre-upgrade", job.Annotations["helm.sh/hook"])
	}
	jc := container(t, job.Spec.Template.Spec, "migrate")
	if !slices.Equal(jc.Args, []string{"migrate"}) || len(jc.EnvFrom) != 1 || jc.EnvFrom[0].SecretRef == nil || jc.EnvFrom[0].SecretRef.Name != "shop-miniback" {
		t.Errorf("migrate container args %v, envFrom %+v; want [migrate] from Secret shop-miniback", jc.Args, jc.EnvFrom)
	}
	for name, want := range map[string]string{"MINIBACK_ENV": "production", "MINIBACK_PUBLIC_URL": "https://api.example.com", "MINIBACK_STORAGE": "s3"} {
		if v, _ := envValue(jc, name); v != want {
			t.Errorf("migrate container %s = %q, want %q (the ConfigMap does not exist yet when the hook runs)", name, v, want)
		}
	}
	if sc := jc.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("migrate container securityContext %+v, want the server's", sc)
	}
	d := one(t, "Deployments", m.Deployments)
	c := container(t, d.Spec.Template.Spec, "miniback")
	if v := mustEnv(t, c, "MINIBACK_MIGRATE_ON_START"); v != "false" {
		t.Errorf("MINIBACK_MIGRATE_ON_START %q with the hook Job, want false", v)
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil && ef.SecretRef.Name != "shop-miniback" {
			t.Errorf("the server reads Secret %q, want shop-miniback", ef.SecretRef.Name)
		}
	}
	if _, ok := d.Spec.Template.Annotations["checksum/secret"]; ok {
		t.Error("checksum/secret of a Secret the chart does not render")
	}
}

func TestChartRefusesValuesThatWouldBreakTheRelease(t *testing.T) {
	tests := []struct{ name, values, want string }{
		{"hook job without existingSecret", "migrations:\n  mode: job\n", "needs existingSecret"},
		{"unknown migration mode", "migrations:\n  mode: sometimes\n", "migrations.mode must be onStart or job"},
		{"a chart-managed variable under config", "config:\n  MINIBACK_ADDR: \":9000\"\n", "MINIBACK_ADDR is set by the chart"},
		{"a chart-managed variable under secret", "secret:\n  MINIBACK_SHUTDOWN_TIMEOUT: 1s\n", "MINIBACK_SHUTDOWN_TIMEOUT is set by the chart"},
		{"a variable under both", "config:\n  DATABASE_URL: postgres://x\n", "under both config and secret"},
		{"the hook Job as the chart's own account", "migrations:\n  mode: job\n  job:\n    serviceAccountName: rel-miniback\nexistingSecret: x\n", "does not exist yet when the pre-install hook Job runs"},
		{"metrics on the API's port", "metrics:\n  port: 8080\n", "metrics.port must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := helmTemplate(t, tt.values)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("helm template = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestStrictDecodingRefusesAMisspeltField(t *testing.T) {
	const misspelt = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  replica: 3
`
	if _, err := decodeAll([]byte(misspelt)); err == nil || !strings.Contains(err.Error(), `unknown field "spec.replica"`) {
		t.Errorf("decodeAll = %v, want an unknown field error for spec.replica", err)
	}
	// The API server matches field names case-sensitively; encoding/json
	// would quietly take Replicas for replicas.
	const wrongCase = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  Replicas: 3\n"
	if _, err := decodeAll([]byte(wrongCase)); err == nil || !strings.Contains(err.Error(), `unknown field "spec.Replicas"`) {
		t.Errorf("decodeAll = %v, want an unknown field error for spec.Replicas", err)
	}
	const duplicate = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n"
	if _, err := decodeAll([]byte(duplicate)); err == nil {
		t.Error("decodeAll accepted a duplicate key")
	}
	if _, err := decodeAll([]byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n")); err == nil {
		t.Error("decodeAll accepted a kind it has no type for")
	}
}

func mustEnv(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	v, ok := envValue(c, name)
	if !ok {
		t.Fatalf("container %s has no %s", c.Name, name)
	}
	return v
}

// selects reports whether a label selector's matchLabels all hold in labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
