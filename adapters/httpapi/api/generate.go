// Package api holds the code oapi-codegen generates from /openapi.yaml:
// request and response types, the Gin server interface, the strict server
// interface and the embedded spec. Do not edit api.gen.go; change the spec
// and run `go tool task generate`.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../../openapi.yaml
