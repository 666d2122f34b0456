package app_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The inside of the hexagon: the packages (and their subpackages) that hold
// the domain's rules, the ports and the use-cases.
const module = "github.com/miniback/miniback"

var inside = []string{module + "/domain", module + "/ports", module + "/app"}

// allowedModules are the only modules besides the standard library the
// inside may depend on, even transitively, each with its reason. Anything
// else (a web framework, a database driver, a JWT library, an adapter)
// belongs in adapters/.
var allowedModules = map[string]string{
	"golang.org/x/text": "NFC normalisation of names and tags (domain)",
}

// deniedStd are the parts of the standard library that talk to the outside
// world themselves: servers, clients, drivers, processes. (net itself is
// allowed: net/mail, which checks email syntax, needs it.)
var deniedStd = []string{"net/http", "net/rpc", "net/smtp", "database/sql", "os/exec", "crypto/tls", "plugin"}

// allowed reports whether the inside may depend on pkg, and if not why.
func allowed(pkg goPackage) (bool, string) {
	if pkg.Standard {
		for _, d := range deniedStd {
			if pkg.ImportPath == d || strings.HasPrefix(pkg.ImportPath, d+"/") {
				return false, "it talks to the outside world"
			}
		}
		return true, ""
	}
	if strings.HasPrefix(pkg.ImportPath, module+"/") {
		for _, in := range inside {
			if pkg.ImportPath == in || strings.HasPrefix(pkg.ImportPath, in+"/") {
				return true, ""
			}
		}
		return false, "only domain/, ports/ and app/ are inside the hexagon"
	}
	if pkg.Module != nil {
		if _, ok := allowedModules[pkg.Module.Path]; ok {
			return true, ""
		}
	}
	return false, "its module is not in allowedModules"
}

type goPackage struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
}

// TestTheInsideDependsOnlyOnAllowedPackages keeps the hexagon honest:
// domain/, ports/ and app/ depend, even transitively, only on the standard
// library (minus its network servers and clients, drivers and processes)
// and on allowedModules.
func TestTheInsideDependsOnlyOnAllowedPackages(t *testing.T) {
	args := append([]string{"list", "-deps", "-json=ImportPath,Standard,Module"}, patterns()...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		n++
		if ok, why := allowed(p); !ok {
			t.Errorf("the inside depends on %s: %s", p.ImportPath, why)
		}
	}
	if n == 0 {
		t.Fatal("go list found no packages")
	}
}

func patterns() []string {
	out := make([]string, len(inside))
	for i, in := range inside {
		out[i] = in + "/..."
	}
	return out
}

// TestAllowedRefusesWhatIsOutside proves the rule above can fail.
func TestAllowedRefusesWhatIsOutside(t *testing.T) {
	mod := func(path string) *struct{ Path string } { return &struct{ Path string }{path} }
	tests := []struct {
		pkg  goPackage
		want bool
	}{
		{goPackage{ImportPath: "net/http", Standard: true}, false},
		{goPackage{ImportPath: "net/http/httptrace", Standard: true}, false},
		{goPackage{ImportPath: "database/sql", Standard: true}, false},
		{goPackage{ImportPath: "os/exec", Standard: true}, false},
		{goPackage{ImportPath: "github.com/gin-gonic/gin", Module: mod("github.com/gin-gonic/gin")}, false},
		{goPackage{ImportPath: "github.com/jackc/pgx/v5", Module: mod("github.com/jackc/pgx/v5")}, false},
		{goPackage{ImportPath: "github.com/google/uuid", Module: mod("github.com/google/uuid")}, false},
		{goPackage{ImportPath: module + "/adapters/postgres", Module: mod(module)}, false},
		{goPackage{ImportPath: module + "/cmd/miniback", Module: mod(module)}, false},
		{goPackage{ImportPath: module + "/domainx", Module: mod(module)}, false},
		{goPackage{ImportPath: "net/mail", Standard: true}, true},
		{goPackage{ImportPath: "net/httpx", Standard: true}, true}, // a prefix of a name is not a parent
		{goPackage{ImportPath: "golang.org/x/text/unicode/norm", Module: mod("golang.org/x/text")}, true},
		{goPackage{ImportPath: module + "/domain/passwords", Module: mod(module)}, true},
		{goPackage{ImportPath: module + "/app", Module: mod(module)}, true},
	}
	for _, tt := range tests {
		if got, _ := allowed(tt.pkg); got != tt.want {
			t.Errorf("allowed(%s) = %v, want %v", tt.pkg.ImportPath, got, tt.want)
		}
	}
}
