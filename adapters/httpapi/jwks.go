package httpapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// jwksCacheControl lets verifiers cache the key set briefly: keys change
// rarely, and a new signing key is published (configured second) before
// it signs.
const jwksCacheControl = "public, max-age=300"

// GetJWKS publishes the public keys of the access tokens.
func (s *Server) GetJWKS(context.Context, api.GetJWKSRequestObject) (api.GetJWKSResponseObject, error) {
	if s.jwks == nil {
		return nil, fmt.Errorf("no JWK Set configured")
	}
	raw, err := s.jwks()
	if err != nil {
		return nil, fmt.Errorf("public JWK Set: %w", err)
	}
	var set api.JWKSet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("decode public JWK Set: %w", err)
	}
	cc := jwksCacheControl
	return api.GetJWKS200JSONResponse{Body: set, Headers: api.GetJWKS200ResponseHeaders{CacheControl: &cc}}, nil
}
