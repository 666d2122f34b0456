package domain

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PushQuery is the query string of a call to the push URL. WeChat signs
// every call: signature = sha1 over the sorted Token, timestamp and nonce;
// an encrypted delivery (encrypt_type=aes) also carries msg_signature,
// which covers its ciphertext too.
type PushQuery struct {
	Signature    string
	Timestamp    string
	Nonce        string
	EchoStr      string // the URL check (GET) only
	EncryptType  string // "aes" for an encrypted delivery
	MsgSignature string // an encrypted delivery's signature
}

// PushSignature is WeChat's signature of parts: the lower-case hex of the
// SHA-1 of the parts sorted as strings and concatenated.
func PushSignature(parts ...string) string {
	sorted := slices.Clone(parts)
	slices.Sort(sorted)
	sum := sha1.Sum([]byte(strings.Join(sorted, "")))
	return hex.EncodeToString(sum[:])
}

// pushSignatureMatches compares a received signature with the expected
// one in constant time, so the time taken tells nothing of how much of a
// guess was right.
func pushSignatureMatches(got string, parts ...string) bool {
	want := PushSignature(parts...)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// Limits of the query's values.
const (
	maxTimestampDigits = 12
	maxNonceBytes      = 64
	maxEchoStrBytes    = 512
)

func errPushSignature(why string) *Error {
	return &Error{Code: CodePushSignatureInvalid, Message: "The push is not signed with this app's Token: " + why + "."}
}

// authenticate checks the plain signature and the timestamp of q at now:
// what the URL check (GET) and a plaintext delivery carry.
func (e PushEndpoint) authenticate(q PushQuery, now time.Time, maxAge time.Duration) error {
	if q.Signature == "" || q.Timestamp == "" || q.Nonce == "" {
		return errPushSignature("signature, timestamp and nonce are required")
	}
	if len(q.Nonce) > maxNonceBytes {
		return errPushSignature("the nonce is too long")
	}
	if !pushSignatureMatches(q.Signature, e.Token.Reveal(), q.Timestamp, q.Nonce) {
		return errPushSignature("signature does not match")
	}
	return checkPushTimestamp(q.Timestamp, now, maxAge)
}

// checkPushTimestamp refuses a timestamp (Unix seconds) more than maxAge
// from now either way: a captured delivery cannot be replayed later.
func checkPushTimestamp(ts string, now time.Time, maxAge time.Duration) error {
	if len(ts) > maxTimestampDigits {
		return errPushSignature("the timestamp is not Unix seconds")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 {
		return errPushSignature("the timestamp is not Unix seconds")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return &Error{Code: CodePushTimestampStale,
			Message: "The push's timestamp is too far from this server's clock; check the server's time."}
	}
	return nil
}

// VerifyURL answers WeChat's check of the push URL (the GET it sends when
// the console's settings are saved): the echostr, when the call is signed
// with the Token and recent.
func (e PushEndpoint) VerifyURL(q PushQuery, now time.Time, maxAge time.Duration) (string, error) {
	if err := e.authenticate(q, now, maxAge); err != nil {
		return "", err
	}
	if q.EchoStr == "" || len(q.EchoStr) > maxEchoStrBytes || !printableASCII(q.EchoStr) {
		return "", Invalid(FieldError{Field: "query.echostr", Code: "invalid_format",
			Message: "echostr must be 1 to 512 printable ASCII characters"})
	}
	return q.EchoStr, nil
}

// Open checks a delivery to app's push URL and returns its message: the
// mode must allow it, its signature (msg_signature for an encrypted one)
// must match and its timestamp be recent, and an encrypted one must
// decrypt with the key and name app. Until the signature has matched, the
// body is not read, except for the ciphertext msg_signature covers.
// Failures are push_signature_invalid or push_timestamp_stale (401), or
// validation_failed (400) for a signed body that is not a message.
func (e PushEndpoint) Open(app AppID, q PushQuery, body []byte, now time.Time, maxAge time.Duration) (PushMessage, error) {
	encrypted := q.EncryptType != ""
	switch {
	case encrypted && q.EncryptType != "aes":
		return PushMessage{}, errPushSignature("encrypt_type must be aes")
	case encrypted && e.Mode == PushPlain:
		return PushMessage{}, errPushSignature("this app's push is configured for plaintext (明文模式)")
	case !encrypted && e.Mode == PushSafe:
		return PushMessage{}, errPushSignature("this app's push is configured for safe mode (安全模式): encrypt_type=aes and msg_signature are required")
	}
	if !encrypted {
		if err := e.authenticate(q, now, maxAge); err != nil {
			return PushMessage{}, err
		}
		m, err := ParsePushMessage(body)
		if err != nil {
			return PushMessage{}, err
		}
		return m, nil
	}

	if q.MsgSignature == "" || q.Timestamp == "" || q.Nonce == "" {
		return PushMessage{}, errPushSignature("msg_signature, timestamp and nonce are required")
	}
	if len(q.Nonce) > maxNonceBytes {
		return PushMessage{}, errPushSignature("the nonce is too long")
	}
	// msg_signature covers the ciphertext, which is in the body: read
	// the envelope (bounded and linear, like every message), nothing more.
	env, err := ParsePushMessage(body)
	if err != nil {
		return PushMessage{}, err
	}
	if env.Encrypt == "" {
		return PushMessage{}, errPushSignature("the body has no Encrypt")
	}
	if !pushSignatureMatches(q.MsgSignature, e.Token.Reveal(), q.Timestamp, q.Nonce, env.Encrypt) {
		return PushMessage{}, errPushSignature("msg_signature does not match")
	}
	if err := checkPushTimestamp(q.Timestamp, now, maxAge); err != nil {
		return PushMessage{}, err
	}
	plain, from, err := e.Key.decrypt(env.Encrypt)
	if err != nil {
		return PushMessage{}, errPushSignature("Encrypt does not decrypt with the EncodingAESKey")
	}
	// Constant time, as for the signatures: the AppID is not secret, but
	// this keeps every check of the delivery alike.
	if subtle.ConstantTimeCompare([]byte(from), []byte(app)) != 1 {
		return PushMessage{}, errPushSignature("the encrypted message names another AppID")
	}
	m, err := ParsePushMessage(plain)
	if err != nil {
		return PushMessage{}, err
	}
	m.Encrypted = true
	return m, nil
}

// Layout of a decrypted message: 16 random bytes, the message's length
// (4 bytes, big-endian), the message, the AppID.
const (
	pushRandomBytes = 16
	pushHeaderBytes = pushRandomBytes + 4
	// pushPadBlock is WeChat's PKCS#7 block: 32 bytes (the key's length),
	// not AES's 16.
	pushPadBlock = 32
)

// decrypt opens an Encrypt value: base64, AES-256-CBC with the first 16
// bytes of the key as IV, PKCS#7 padding to 32-byte blocks. It returns
// the message and the AppID after it. Only a delivery whose msg_signature
// matched gets here, so its failures tell an outsider nothing.
func (k PushKey) decrypt(encrypt string) ([]byte, string, error) {
	data, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, "", err
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, "", errors.New("ciphertext is not whole AES blocks")
	}
	block, err := aes.NewCipher(k.b[:])
	if err != nil {
		return nil, "", err
	}
	cipher.NewCBCDecrypter(block, k.b[:aes.BlockSize]).CryptBlocks(data, data)
	pad := int(data[len(data)-1])
	if pad < 1 || pad > pushPadBlock || pad > len(data) ||
		!bytes.Equal(data[len(data)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, "", errors.New("bad padding")
	}
	data = data[:len(data)-pad]
	if len(data) < pushHeaderBytes {
		return nil, "", errors.New("too short")
	}
	n := binary.BigEndian.Uint32(data[pushRandomBytes:pushHeaderBytes])
	if uint64(n) > uint64(len(data)-pushHeaderBytes) {
		return nil, "", errors.New("message length past the end")
	}
	msg := data[pushHeaderBytes : pushHeaderBytes+int(n)]
	return msg, string(data[pushHeaderBytes+int(n):]), nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
