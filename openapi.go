// Package miniback holds what belongs to the whole project rather than to
// one layer: the API contract, openapi.yaml, embedded byte for byte.
//
// The HTTP adapter serves these bytes at /openapi.yaml (and as JSON at
// /openapi.json) rather than oapi-codegen's embedded copy, which rewrites
// operationIds (getMe becomes GetMe): a client generated from the served
// spec must get the same names as one generated from the repository.
package miniback

import _ "embed"

// OpenAPIYAML is openapi.yaml as committed.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
