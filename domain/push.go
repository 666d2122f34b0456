package domain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Message push (消息推送): WeChat calls the deployment's push URL with
// events (a media check's verdict, a user's subscription choices, a user
// withdrawing authorisation). The console's settings for it are the Token,
// the EncodingAESKey and the encryption mode; a PushEndpoint holds them for
// one AppID and checks and opens each delivery (pushopen.go).

// PushMode is which deliveries an app's push URL accepts: the console's
// 消息加解密方式.
type PushMode string

const (
	// PushSafe (安全模式) accepts encrypted deliveries only. A plaintext
	// delivery's signature does not cover its body, so accepting them
	// would let anyone who saw one signed URL send a body of their own.
	PushSafe PushMode = "safe"
	// PushCompat (兼容模式) accepts both.
	PushCompat PushMode = "compat"
	// PushPlain (明文模式) accepts plaintext deliveries only.
	PushPlain PushMode = "plain"
)

// Valid reports whether m is one of the modes.
func (m PushMode) Valid() bool { return m == PushSafe || m == PushCompat || m == PushPlain }

// PushToken is the console's Token: it signs every delivery, so it is a
// secret. String, GoString and MarshalText hide it; Reveal is the one way
// to the raw value.
type PushToken string

func (PushToken) String() string               { return "[redacted]" }
func (PushToken) GoString() string             { return "[redacted]" }
func (PushToken) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the raw token, for signatures.
func (t PushToken) Reveal() string { return string(t) }

// PushKey is the AES-256 key an EncodingAESKey encodes. It is a secret:
// String, GoString and MarshalText hide it.
type PushKey struct{ b [32]byte }

func (PushKey) String() string               { return "[redacted]" }
func (PushKey) GoString() string             { return "[redacted]" }
func (PushKey) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// EncodingAESKeyLen is the length of an EncodingAESKey: 43 characters of
// A-Z, a-z and 0-9, the base64 of 32 bytes without its padding.
const EncodingAESKeyLen = 43

// Limits of a Token in the console: 3 to 32 letters and digits.
const (
	pushTokenMinLen = 3
	pushTokenMaxLen = 32
)

// ParseEncodingAESKey decodes an EncodingAESKey as WeChat does:
// base64(key + "="). Errors never quote the key.
func ParseEncodingAESKey(s string) (PushKey, error) {
	if len(s) != EncodingAESKeyLen || !alnum(s) {
		return PushKey{}, fmt.Errorf("an EncodingAESKey is %d letters and digits", EncodingAESKeyLen)
	}
	// Not base64.StdEncoding.Strict(): the console draws the 43rd
	// character at random, so its last 2 bits may be set, and WeChat's
	// own decoders ignore them.
	raw, err := base64.StdEncoding.DecodeString(s + "=")
	if err != nil || len(raw) != 32 {
		return PushKey{}, errors.New("the EncodingAESKey does not decode to 32 bytes")
	}
	var k PushKey
	copy(k.b[:], raw)
	return k, nil
}

// PushEndpoint is one app's message push settings.
type PushEndpoint struct {
	Token PushToken
	Key   PushKey // zero in plain mode
	Mode  PushMode
}

// NewPushEndpoint checks the console's settings: a Token of 3 to 32
// letters and digits, an EncodingAESKey (required unless mode is plain;
// empty mode means safe with a key and plain without). Errors never quote
// the token or the key.
func NewPushEndpoint(token, encodingAESKey string, mode PushMode) (PushEndpoint, error) {
	if len(token) < pushTokenMinLen || len(token) > pushTokenMaxLen || !alnum(token) {
		return PushEndpoint{}, fmt.Errorf("the Token must be %d to %d letters and digits", pushTokenMinLen, pushTokenMaxLen)
	}
	if mode == "" {
		mode = PushPlain
		if encodingAESKey != "" {
			mode = PushSafe
		}
	}
	if !mode.Valid() {
		return PushEndpoint{}, errors.New("the mode must be safe, compat or plain")
	}
	e := PushEndpoint{Token: PushToken(token), Mode: mode}
	if encodingAESKey == "" {
		if mode != PushPlain {
			return PushEndpoint{}, fmt.Errorf("%s mode needs an EncodingAESKey", mode)
		}
		return e, nil
	}
	k, err := ParseEncodingAESKey(encodingAESKey)
	if err != nil {
		return PushEndpoint{}, err
	}
	e.Key = k
	return e, nil
}

// DefaultPushMaxAge is how far a delivery's timestamp may be from the
// server's clock, either way.
const DefaultPushMaxAge = 5 * time.Minute

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
