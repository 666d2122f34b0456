package app_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestDomainAndAppImportNoInfrastructure keeps the hexagon honest: domain/
// and app/ must not reach, even transitively, a web framework, a database
// driver, the JWT library, an HTTP client or any adapter.
func TestDomainAndAppImportNoInfrastructure(t *testing.T) {
	forbidden := []string{
		"github.com/gin-gonic/",
		"github.com/jackc/pgx",
		"github.com/lestrrat-go/jwx",
		"net/http",
		"database/sql",
		"github.com/miniback/miniback/adapters",
	}
	for _, pkg := range []string{"github.com/miniback/miniback/domain", "github.com/miniback/miniback/app", "github.com/miniback/miniback/ports"} {
		out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct{ ImportPath string }
			if err := dec.Decode(&p); err != nil {
				t.Fatalf("decode go list output: %v", err)
			}
			for _, f := range forbidden {
				if strings.HasPrefix(p.ImportPath, f) {
					t.Errorf("%s depends on %s; move that code to an adapter", pkg, p.ImportPath)
				}
			}
		}
	}
}
