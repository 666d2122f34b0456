package helm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestChartMigrationJobNeedsNothingTheReleaseCreatesAfterIt: Helm creates a
// release's ordinary resources only after its pre-install hooks have
// succeeded, so a hook Job whose pod names a chart-made ServiceAccount,
// ConfigMap or Secret is refused on a first install ("serviceaccount …
// not found") and the install times out. helm template cannot show that; this
// test checks every object the Job's pod refers to is either not made by the
// chart or made by an earlier hook of the same events.
func TestChartMigrationJobNeedsNothingTheReleaseCreatesAfterIt(t *testing.T) {
	const base = "migrations:\n  mode: job\nexistingSecret: shop-miniback\n"
	tests := []struct {
		name, values string
		// The pods' serviceAccountName: the Job's and the Deployment's.
		jobAccount, serverAccount string
	}{
		{"defaults", base, "default", "rel-miniback"},
		{"a named chart-made account", base + "serviceAccount:\n  name: shop-sa\n", "default", "shop-sa"},
		{"a chart-made account with annotations", base + "serviceAccount:\n  annotations:\n    example.com/role: miniback\n", "default", "rel-miniback"},
		// An account that exists before the release is the replicas' identity: the Job uses it too.
		{"an existing account", base + "serviceAccount:\n  create: false\n  name: shop-sa\n", "shop-sa", "shop-sa"},
		{"an account for the Job", base + "migrations:\n  mode: job\n  job:\n    serviceAccountName: shop-migrator\n", "shop-migrator", "rel-miniback"},
		{"image pull secrets and extra volumes", base + "imagePullSecrets:\n  - name: regcred\nextraVolumes:\n  - name: keys\n    secret:\n      secretName: shop-jwt\nextraVolumeMounts:\n  - name: keys\n    mountPath: /keys\n", "default", "rel-miniback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := render(t, tt.values)
			job := one(t, "Jobs", m.Jobs)
			if events, _ := hookOf(t, "Job "+job.Name, job.ObjectMeta); !slices.Contains(events, "pre-install") {
				t.Fatalf("Job %s hooks %v, want pre-install", job.Name, events)
			}
			refs := podReferences(job)
			if got := refs[0].name; got != tt.jobAccount {
				t.Errorf("the Job's pod runs as %q, want %q", got, tt.jobAccount)
			}
			if got := one(t, "Deployments", m.Deployments).Spec.Template.Spec.ServiceAccountName; got != tt.serverAccount {
				t.Errorf("the replicas run as %q, want %q", got, tt.serverAccount)
			}
			for _, p := range hookDependencyProblems(t, m, job) {
				t.Error(p)
			}
		})
	}
}

// hookDependencyProblems lists each object the hook Job's pod refers to that
// the rendering holds but that would not exist when the Job starts: an
// ordinary resource, or a hook that is not of every one of the Job's events
// or not of a lower weight.
func hookDependencyProblems(t *testing.T, m manifests, job *batchv1.Job) []string {
	t.Helper()
	events, weight := hookOf(t, "Job "+job.Name, job.ObjectMeta)
	var problems []string
	for _, ref := range podReferences(job) {
		for _, o := range m.objects() {
			if o.kind != ref.kind || o.meta.Name != ref.name {
				continue
			}
			what := ref.kind + " " + ref.name
			if _, ok := o.meta.Annotations["helm.sh/hook"]; !ok {
				problems = append(problems, fmt.Sprintf("the hook Job's pod needs %s (%s), which the chart renders as an ordinary resource: Helm creates it only after the pre-install hooks, so a first install fails", what, ref.via))
				continue
			}
			oEvents, oWeight := hookOf(t, what, *o.meta)
			for _, e := range events {
				if !slices.Contains(oEvents, e) {
					problems = append(problems, fmt.Sprintf("%s (%s) is a hook of %v, not of %s like the Job", what, ref.via, oEvents, e))
				}
			}
			if oWeight >= weight {
				problems = append(problems, fmt.Sprintf("%s (%s) has hook weight %d, want less than the Job's %d so it exists first", what, ref.via, oWeight, weight))
			}
		}
	}
	return problems
}

// The check itself, on hand-written manifests: only an object the chart does
// not make, or an earlier hook of the same events, passes.
func TestHookDependencyCheckAcceptsOnlyWhatExistsBeforeTheJob(t *testing.T) {
	const job = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
spec:
  template:
    spec:
      serviceAccountName: sa
      restartPolicy: Never
      containers:
        - name: migrate
          image: x
          envFrom:
            - configMapRef:
                name: settings
`
	account := func(annotations string) string {
		return "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n" + annotations
	}
	tests := []struct {
		name, others string
		want         []string // substrings, one per problem
	}{
		{"nothing the chart makes", "", nil},
		{"other names only", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n" + strings.ReplaceAll(account(""), "name: sa", "name: other-sa"), nil},
		{"an ordinary account", account(""), []string{"ServiceAccount sa (serviceAccountName), which the chart renders as an ordinary resource"}},
		{"an ordinary ConfigMap", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n", []string{"ConfigMap settings (envFrom of migrate), which the chart renders as an ordinary resource"}},
		{"an earlier hook", account("  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-5\"\n"), nil},
		{"a hook of the same weight", account("  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n"), []string{"has hook weight 0, want less than the Job's 0"}},
		{"a hook of install only", account("  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-5\"\n"), []string{"not of pre-upgrade like the Job"}},
		{"a hook and an ordinary copy", account("  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-5\"\n") + account(""), []string{"ordinary resource"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeAll([]byte(job + tt.others))
			if err != nil {
				t.Fatal(err)
			}
			got := hookDependencyProblems(t, m, one(t, "Jobs", m.Jobs))
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d: %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q, want one containing %q", got[i], w)
				}
			}
		})
	}
}

// hookOf returns an object's Helm hook events and weight (0 unless set).
func hookOf(t *testing.T, what string, meta metav1.ObjectMeta) ([]string, int) {
	t.Helper()
	var events []string
	for e := range strings.SplitSeq(meta.Annotations["helm.sh/hook"], ",") {
		if e = strings.TrimSpace(e); e != "" {
			events = append(events, e)
		}
	}
	weight := 0
	if w, ok := meta.Annotations["helm.sh/hook-weight"]; ok {
		var err error
		if weight, err = strconv.Atoi(w); err != nil {
			t.Fatalf("%s: hook weight %q: %v", what, w, err)
		}
	}
	return events, weight
}

type reference struct{ kind, name, via string }

// podReferences lists the namespaced objects a Job's pod cannot start
// without, its ServiceAccount first.
func podReferences(job *batchv1.Job) []reference {
	spec := job.Spec.Template.Spec
	account := spec.ServiceAccountName
	if account == "" {
		account = "default"
	}
	refs := []reference{{"ServiceAccount", account, "serviceAccountName"}}
	for _, s := range spec.ImagePullSecrets {
		refs = append(refs, reference{"Secret", s.Name, "imagePullSecrets"})
	}
	for _, v := range spec.Volumes {
		via := "volume " + v.Name
		switch {
		case v.ConfigMap != nil:
			refs = append(refs, reference{"ConfigMap", v.ConfigMap.Name, via})
		case v.Secret != nil:
			refs = append(refs, reference{"Secret", v.Secret.SecretName, via})
		case v.PersistentVolumeClaim != nil:
			refs = append(refs, reference{"PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, via})
		case v.Projected != nil:
			for _, p := range v.Projected.Sources {
				if p.ConfigMap != nil {
					refs = append(refs, reference{"ConfigMap", p.ConfigMap.Name, via})
				}
				if p.Secret != nil {
					refs = append(refs, reference{"Secret", p.Secret.Name, via})
				}
			}
		}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil {
				refs = append(refs, reference{"ConfigMap", ef.ConfigMapRef.Name, "envFrom of " + c.Name})
			}
			if ef.SecretRef != nil {
				refs = append(refs, reference{"Secret", ef.SecretRef.Name, "envFrom of " + c.Name})
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			via := fmt.Sprintf("%s's %s", c.Name, e.Name)
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				refs = append(refs, reference{"ConfigMap", r.Name, via})
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				refs = append(refs, reference{"Secret", r.Name, via})
			}
		}
	}
	return refs
}

type object struct {
	kind string
	meta *metav1.ObjectMeta
}

// objects lists every rendered object with its kind.
func (m manifests) objects() []object {
	var out []object
	add := func(kind string, meta *metav1.ObjectMeta) { out = append(out, object{kind, meta}) }
	for _, o := range m.Deployments {
		add("Deployment", &o.ObjectMeta)
	}
	for _, o := range m.Services {
		add("Service", &o.ObjectMeta)
	}
	for _, o := range m.ConfigMaps {
		add("ConfigMap", &o.ObjectMeta)
	}
	for _, o := range m.Secrets {
		add("Secret", &o.ObjectMeta)
	}
	for _, o := range m.ServiceAccounts {
		add("ServiceAccount", &o.ObjectMeta)
	}
	for _, o := range m.PDBs {
		add("PodDisruptionBudget", &o.ObjectMeta)
	}
	for _, o := range m.HPAs {
		add("HorizontalPodAutoscaler", &o.ObjectMeta)
	}
	for _, o := range m.Jobs {
		add("Job", &o.ObjectMeta)
	}
	for _, o := range m.ServiceMonitors {
		add("ServiceMonitor", &o.ObjectMeta)
	}
	return out
}
