package jwx

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Key is one signing key: an Ed25519 or P-256 private key with its algorithm
// fixed (EdDSA or ES256) and its kid, the RFC 7638 thumbprint of its public
// half. The zero Key is not usable; get Keys from ParsePrivateKeysPEM.
type Key struct {
	alg  jwa.SignatureAlgorithm
	kid  string
	priv crypto.Signer    // ed25519.PrivateKey or *ecdsa.PrivateKey
	pub  crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey
}

// ID returns the key's kid: the base64url SHA-256 JWK thumbprint of its
// public key.
func (k Key) ID() string { return k.kid }

// Algorithm returns the JWS algorithm the key signs with: "EdDSA" or "ES256".
func (k Key) Algorithm() string { return k.alg.String() }

// String names the key without its secret, so that logging a Key (or a
// Config) never prints private key material.
func (k Key) String() string { return k.alg.String() + " key " + k.kid }

// GoString is String for %#v.
func (k Key) GoString() string { return k.String() }

// PEM block types ParsePrivateKeysPEM accepts.
const (
	pemPKCS8 = "PRIVATE KEY"    // PKCS #8: Ed25519 or P-256
	pemSEC1  = "EC PRIVATE KEY" // SEC 1: P-256
)

// ParsePrivateKeysPEM parses every PEM block of pemData, in order, into a
// Key. Blocks must be PKCS #8 "PRIVATE KEY" (Ed25519 or P-256) or SEC 1
// "EC PRIVATE KEY" (P-256); any other block type, key type or curve (RSA,
// P-384, ...) is an error, and so is text outside the blocks. In a
// configuration, the first key signs and all of them verify.
func ParsePrivateKeysPEM(pemData []byte) ([]Key, error) {
	var keys []Key
	rest := pemData
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		k, err := parseBlock(block)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		if len(keys) == 0 {
			return nil, errors.New("no PEM block found")
		}
		return nil, fmt.Errorf("unparseable data after PEM block %d", len(keys))
	}
	if len(keys) == 0 {
		return nil, errors.New("no private key: PEM data is empty")
	}
	return keys, nil
}

// parseBlock turns one PEM block into a Key.
func parseBlock(b *pem.Block) (Key, error) {
	var (
		raw any
		err error
	)
	switch b.Type {
	case pemPKCS8:
		raw, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case pemSEC1:
		raw, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return Key{}, fmt.Errorf("unsupported PEM block type %q: want %q or %q", b.Type, pemPKCS8, pemSEC1)
	}
	if err != nil {
		return Key{}, fmt.Errorf("parse %q block: %w", b.Type, err)
	}
	return newKey(raw)
}

// newKey fixes the algorithm of an Ed25519 or P-256 private key and
// computes its kid. Other keys are refused.
func newKey(raw any) (Key, error) {
	var k Key
	switch p := raw.(type) {
	case ed25519.PrivateKey:
		k = Key{alg: jwa.EdDSA, priv: p, pub: p.Public()}
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return Key{}, fmt.Errorf("unsupported ECDSA curve %s: only P-256 (ES256) is allowed", p.Curve.Params().Name)
		}
		k = Key{alg: jwa.ES256, priv: p, pub: &p.PublicKey}
	case *rsa.PrivateKey:
		return Key{}, errors.New("unsupported key type RSA: use an Ed25519 (EdDSA) or P-256 (ES256) key")
	default:
		return Key{}, fmt.Errorf("unsupported key type %T: use an Ed25519 (EdDSA) or P-256 (ES256) key", raw)
	}
	pub, err := jwk.FromRaw(k.pub)
	if err != nil {
		return Key{}, fmt.Errorf("convert public key to JWK: %w", err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return Key{}, fmt.Errorf("compute JWK thumbprint: %w", err)
	}
	k.kid = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}

// publicJWK returns the key's public half as a JWK carrying kid, alg and
// use=sig. It is built from the public key alone, so it cannot hold any
// private member.
func (k Key) publicJWK() (jwk.Key, error) {
	j, err := jwk.FromRaw(k.pub)
	if err != nil {
		return nil, fmt.Errorf("convert public key to JWK: %w", err)
	}
	for name, v := range map[string]any{
		jwk.KeyIDKey:     k.kid,
		jwk.AlgorithmKey: k.alg,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := j.Set(name, v); err != nil {
			return nil, fmt.Errorf("set JWK %q: %w", name, err)
		}
	}
	return j, nil
}

// GenerateEd25519PEM returns a fresh Ed25519 private key as a PKCS #8
// "PRIVATE KEY" PEM block, for development runs without configured keys.
// Tokens signed with it die with the process.
func GenerateEd25519PEM() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate Ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal Ed25519 key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}
