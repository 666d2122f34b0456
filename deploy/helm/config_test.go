package helm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// minibackVariables lists the environment variables cmd/miniback reads:
// the env tags of every struct in its (non-test) sources. Parsing the source
// keeps this module free of the server's dependencies, and a variable added
// there shows up here at once.
func minibackVariables(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "cmd", "miniback")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", e.Name(), err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			field, ok := n.(*ast.Field)
			if !ok || field.Tag == nil {
				return true
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				return true
			}
			if name, _, _ := strings.Cut(reflect.StructTag(tag).Get("env"), ","); name != "" {
				seen[name] = true
			}
			return true
		})
	}
	vars := make([]string, 0, len(seen))
	for v := range seen {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	if len(vars) < 30 || !seen["DATABASE_URL"] || !seen["MINIBACK_ENV"] {
		t.Fatalf("found only %d variables in %s (%v): has the configuration moved?", len(vars), dir, vars)
	}
	return vars
}

// secretName says whether a variable holds a credential and so belongs in
// the Secret: connection URLs with passwords, app secrets, keys, tokens, and
// MINIBACK_WECHAT_PUSH (its tokens and EncodingAESKeys).
var secretName = regexp.MustCompile(`^(DATABASE_URL|MINIBACK_WECHAT_PUSH|.*_(SECRET|SECRET_KEY|ACCESS_KEY|PRIVATE_KEYS|PASSWORD|TOKEN|AES_KEY|APPS|REDIS_URL))$`)

// chartValues reads the chart's values.yaml: the keys under config and
// secret.
func chartValues(t *testing.T) (config, secret map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config map[string]any `json:"config"`
		Secret map[string]any `json:"secret"`
	}
	if err := yamlUnmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Config, v.Secret
}
