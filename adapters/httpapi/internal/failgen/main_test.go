package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCommittedFilesAreRegenerated regenerates the failure files from
// openapi.yaml into a temporary directory and wants the committed ones,
// byte for byte, and no other.
func TestCommittedFilesAreRegenerated(t *testing.T) {
	dir := t.TempDir()
	if err := run("../../../../openapi.yaml", dir, placements); err != nil {
		t.Fatal(err)
	}
	got, committed := failureFiles(t, dir), failureFiles(t, "../..")
	if len(got) == 0 {
		t.Fatal("no failure file was generated")
	}
	for name, src := range got {
		if c, ok := committed[name]; !ok {
			t.Errorf("adapters/httpapi/%s is missing: run go generate ./adapters/httpapi/...", name)
		} else if !bytes.Equal(src, c) {
			t.Errorf("adapters/httpapi/%s is stale: run go generate ./adapters/httpapi/...", name)
		}
	}
	for name := range committed {
		if _, ok := got[name]; !ok {
			t.Errorf("adapters/httpapi/%s is no longer generated: run go generate ./adapters/httpapi/...", name)
		}
	}
}

// failureFiles returns the contents of dir's *_failures.gen.go files, by
// name.
func failureFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = src
	}
	return files
}

// TestHandlersSitBesideTheirFailures wants each operation's handler, the
// Server method named for it, in its resource's <resource>.go, beside the
// <resource>_failures.gen.go the table puts its failure function in.
func TestHandlersSitBesideTheirFailures(t *testing.T) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	handlerFile := map[string]string{} // method name -> file name
	for _, path := range paths {
		name := filepath.Base(path)
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".gen.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "Server" {
					handlerFile[fn.Name.Name] = name
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(placements)) {
		want := placements[id].resource + ".go"
		method := toCamelCase(id)
		got, ok := handlerFile[method]
		switch {
		case !ok:
			t.Errorf("%s: no handler (*Server).%s in adapters/httpapi", id, method)
		case got != want:
			t.Errorf("%s: the handler (*Server).%s is in %s, want %s, beside %s%s", id, method, got, want, placements[id].resource, suffix)
		}
	}
}

// TestEveryOperationIsPlaced proves an operation the table does not
// place, or a row for an operation the spec lacks, fails generation with
// a message naming it.
func TestEveryOperationIsPlaced(t *testing.T) {
	spec := writeSpec(t, `
  /x:
    get:
      operationId: getX
      responses:
        '404': {$ref: '#/components/responses/Conflict'}
    put:
      operationId: putX
      responses:
        '204': {description: ok}
`, componentResponses)
	for name, tc := range map[string]struct {
		table map[string]placement
		want  []string
	}{
		"an operation with problems": {map[string]placement{"putX": {"x", ""}}, []string{"getX", "GET /x", "no resource"}},
		"an operation without":       {map[string]placement{"getX": {"x", ""}}, []string{"putX", "PUT /x", "no resource"}},
		"a row the spec lacks": {
			map[string]placement{"getX": {"x", ""}, "putX": {"x", ""}, "gone": {"x", ""}},
			[]string{"gone", "does not have"},
		},
		"a resource that is no file name": {
			map[string]placement{"getX": {"x", ""}, "putX": {"../X", ""}},
			[]string{"putX", `"../X"`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			files, err := generate(spec, tc.table)
			if err == nil {
				t.Fatalf("generated %d files, want an error", len(files))
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestWritesOneFilePerResource proves the functions are grouped by their
// resource's file, and a resource without any gets none.
func TestWritesOneFilePerResource(t *testing.T) {
	spec := writeSpec(t, `
  /a:
    get:
      operationId: getA
      responses:
        '404': {$ref: '#/components/responses/Conflict'}
    delete:
      operationId: deleteA
      responses:
        '409': {$ref: '#/components/responses/Conflict'}
  /b:
    get:
      operationId: getB
      responses:
        '404': {$ref: '#/components/responses/Conflict'}
  /c:
    get:
      operationId: getC
      responses:
        '200': {description: ok}
`, componentResponses)
	files, err := generate(spec, map[string]placement{
		"getA": {"things", ""}, "deleteA": {"things", ""}, "getB": {"other_things", ""}, "getC": {"plain", ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, []string{"other_things_failures.gen.go", "things_failures.gen.go"}) {
		t.Fatalf("files %v", got)
	}
	for name, want := range map[string][]string{
		"things_failures.gen.go":       {"func (s *Server) deleteAFailure(", "func (s *Server) getAFailure(", "handlers are in things.go"},
		"other_things_failures.gen.go": {"func (s *Server) getBFailure(", "handlers are in other_things.go"},
	} {
		src := string(files[name])
		if !strings.HasPrefix(src, header) {
			t.Errorf("%s does not start with %q", name, header)
		}
		for _, w := range want {
			if !strings.Contains(src, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, src)
			}
		}
		if n := strings.Count(src, "func (s *Server)"); n != len(want)-1 {
			t.Errorf("%s has %d functions, want %d", name, n, len(want)-1)
		}
	}
}

// TestDeletesStaleFiles proves run removes the failure files it wrote
// before and no longer writes, and leaves alone the ones it did not write.
func TestDeletesStaleFiles(t *testing.T) {
	spec := writeSpec(t, `
  /a:
    get:
      operationId: getA
      responses:
        '404': {$ref: '#/components/responses/Conflict'}
`, componentResponses)
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("gone_failures.gen.go", header+"\npackage httpapi\n")
	write("theirs_failures.gen.go", "package httpapi\n")
	write("gone.go", "package httpapi\n")
	if err := run(spec, dir, map[string]placement{"getA": {"things", ""}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"things_failures.gen.go": true, "gone_failures.gen.go": false, "theirs_failures.gen.go": true, "gone.go": true,
	} {
		_, err := os.Stat(filepath.Join(dir, name))
		if exists := err == nil; exists != want {
			t.Errorf("%s exists: %v, want %v (%v)", name, exists, want, err)
		}
	}
}

// writeSpec writes an OpenAPI document whose paths are paths and whose
// components are the Problem schema, the RetryAfter header and responses.
func writeSpec(t *testing.T, paths, responses string) string {
	t.Helper()
	doc := `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
` + paths + `
components:
  headers:
    RetryAfter:
      schema: {type: integer}
  schemas:
    Problem:
      type: object
      properties:
        status: {type: integer}
  responses:
` + responses
	path := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const problemContent = `
          content:
            application/problem+json:
              schema: {$ref: '#/components/schemas/Problem'}`

const componentResponses = `
    Conflict:
      description: c` + `
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Problem'}
    Busy:
      description: b
      headers:
        Retry-After: {$ref: '#/components/headers/RetryAfter'}
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Problem'}
`

// TestNamesTheTypesAsOapiCodegenDoes checks the expressions for the kinds
// of problem response: a component with and without headers, a second
// status referring to a component already used (which oapi-codegen gives
// a type of its own), and inline ones with and without headers; and that
// 500 and success statuses get no case.
func TestNamesTheTypesAsOapiCodegenDoes(t *testing.T) {
	spec := writeSpec(t, `
  /things/{id}:
    put:
      operationId: put-thing
      responses:
        '204': {description: ok}
        '409': {$ref: '#/components/responses/Conflict'}
        '410': {$ref: '#/components/responses/Conflict'}
        '429':
          description: slow down
          headers:
            Retry-After: {$ref: '#/components/headers/RetryAfter'}`+problemContent+`
        '500': {$ref: '#/components/responses/Conflict'}
        '502':
          description: upstream`+problemContent+`
        '503': {$ref: '#/components/responses/Busy'}
  /ok:
    get:
      operationId: getOK
      responses:
        '200': {description: ok}
`, componentResponses)
	files, err := generate(spec, map[string]placement{"put-thing": {"things", ""}, "getOK": {"things", ""}})
	if err != nil {
		t.Fatal(err)
	}
	got := string(files["things_failures.gen.go"])
	for _, want := range []string{
		"// Code generated by failgen from openapi.yaml. DO NOT EDIT.\n",
		"func (s *Server) putThingFailure(",
		"(api.PutThingResponseObject, error)",
		"case 409: // Conflict\n\t\treturn api.PutThing409ApplicationProblemPlusJSONResponse{\n\t\t\tConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem),\n\t\t}, nil",
		"case 410: // Gone\n\t\treturn api.PutThing410ApplicationProblemPlusJSONResponse(p.Problem), nil",
		"case 429: // Too Many Requests\n\t\treturn api.PutThing429ApplicationProblemPlusJSONResponse{\n\t\t\tBody:    p.Problem,\n\t\t\tHeaders: api.PutThing429ResponseHeaders{RetryAfter: p.retryAfter},\n\t\t}, nil",
		"case 502: // Bad Gateway\n\t\treturn api.PutThing502ApplicationProblemPlusJSONResponse(p.Problem), nil",
		"case 503: // Service Unavailable\n\t\treturn api.PutThing503ApplicationProblemPlusJSONResponse{\n\t\t\tBusyApplicationProblemPlusJSONResponse: api.BusyApplicationProblemPlusJSONResponse{\n\t\t\t\tBody:    p.Problem,\n\t\t\t\tHeaders: api.BusyResponseHeaders{RetryAfter: p.retryAfter},\n\t\t\t},\n\t\t}, nil",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks\n%s\n\n--- output:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"case 204", "case 500", "getOKFailure"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("the output has %q", unwanted)
		}
	}
}

func TestRefusesWhatItCannotAnswer(t *testing.T) {
	for name, responses := range map[string]string{
		"an error that is not a problem document": `
        '404':
          description: nope
          content:
            application/json:
              schema: {type: object}`,
		"a problem of another schema": `
        '404':
          description: nope
          content:
            application/problem+json:
              schema: {type: object}`,
		"a required header": `
        '429':
          description: slow down
          headers:
            Retry-After:
              required: true
              schema: {type: integer}` + problemContent,
		"a status range": `
        '4XX':
          description: any` + problemContent,
	} {
		t.Run(name, func(t *testing.T) {
			spec := writeSpec(t, `
  /x:
    get:
      operationId: getX
      responses:
        '200': {description: ok}`+responses+"\n", componentResponses)
			if files, err := generate(spec, map[string]placement{"getX": {"x", ""}}); err == nil {
				t.Errorf("generated %d files, want an error", len(files))
			} else if !strings.Contains(err.Error(), "getX") {
				t.Errorf("the error %q does not name the operation", err)
			}
		})
	}
}

func TestNamingFollowsOapiCodegen(t *testing.T) {
	for in, want := range map[string]string{
		"loginWithWeChat": "LoginWithWeChat",
		"put-thing":       "PutThing",
		"Retry-After":     "RetryAfter",
		"X-Request-ID":    "XRequestID",
	} {
		if got := toCamelCase(in); got != want {
			t.Errorf("toCamelCase(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"BadRequest": "BadRequest",
		"2fa":        "N2fa",
		"_private":   "UnderscorePrivate",
	} {
		if got := schemaNameToTypeName(in); got != want {
			t.Errorf("schemaNameToTypeName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := mediaTypeToCamelCase("application/problem+json"); got != "ApplicationProblemPlusJSON" {
		t.Errorf("mediaTypeToCamelCase(application/problem+json) = %q", got)
	}
}

func TestTableGivesFunctionNames(t *testing.T) {
	spec := writeSpec(t, `
  /x:
    get:
      operationId: getX
      responses:
        '404': {$ref: '#/components/responses/Conflict'}
`, componentResponses)
	files, err := generate(spec, map[string]placement{"getX": {"x", "xFailure"}})
	if err != nil {
		t.Fatal(err)
	}
	if src := files["x_failures.gen.go"]; !strings.Contains(string(src), "func (s *Server) xFailure(ctx context.Context, err error) (api.GetXResponseObject, error)") {
		t.Errorf("the table's name is not used:\n%s", src)
	}
}
