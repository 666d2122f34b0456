package domain

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// WeChat open data (开放数据) is what wx.getWeRunData, wx.getGroupEnterInfo,
// wx.getShareInfo, wx.getUserProfile and the like hand a mini-program:
// WeChat encrypts it with the user's session_key (AES-128-CBC, PKCS#7
// padding, a fresh iv) and, for some APIs, signs a plain part with it
// (signature = hex(sha1(rawData + session_key))). Only the server, which
// keeps the session_key, can open it; WeChat's own page on it is
// "开放数据校验与解密".
//
// WeChat replaces a user's session_key when a wx.login asks it to, so data
// the client got after a login our server never saw does not open with the
// stored key: that is ErrWeChatSessionStale, and the cure is a new login.

// Open-data limits. The spec documents them; these are the truth. 16,384
// characters of base64 are 12 KiB of plaintext: WeRun's 31 days of steps
// take about 1.5 KiB, a group or share ticket well under 1 KiB.
const (
	OpenDataMaxChars   = 16384 // encrypted_data
	OpenDataIVMaxChars = 32    // iv: 16 bytes are 24 characters
	RawDataMaxBytes    = 8192  // raw_data
)

// DefaultOpenDataMaxAge is how old (by its watermark) open data may be by
// default. A mini-program sends the data on right after WeChat handed it
// over, so an hour is generous for slow networks and a retry after a new
// login, and still short enough that a user cannot keep replaying, say,
// the group ticket of a group they have left or yesterday's step counts.
const DefaultOpenDataMaxAge = time.Hour

// OpenDataClockSkew is how far in the future a watermark may be: WeChat's
// clock and ours may disagree a little, not more.
const OpenDataClockSkew = 5 * time.Minute

// OpenDataRequest is open data as the client sends it: WeChat's fields,
// as WeChat gave them to the mini-program.
type OpenDataRequest struct {
	EncryptedData string // base64
	IV            string // base64 of 16 bytes
	// RawData and Signature come together or not at all (only some APIs
	// sign).
	RawData   string
	Signature string // hex(sha1(RawData + session_key))
}

// SealedOpenData is a well-formed OpenDataRequest, decoded: what is left
// to do needs the session key.
type SealedOpenData struct {
	ciphertext []byte
	iv         []byte
	rawData    string
	signature  []byte // nil when the data is not signed
}

// Decode checks the request's form (base64, lengths, the raw_data and
// signature pair) and returns every broken rule at once as field errors.
// It reads each field once: linear in the input, which the limits bound.
func (r OpenDataRequest) Decode() (SealedOpenData, error) {
	var s SealedOpenData
	var bad []FieldError
	var ok bool
	if s.ciphertext, ok = decodeBase64Field(&bad, "encrypted_data", r.EncryptedData, OpenDataMaxChars); ok &&
		(len(s.ciphertext) == 0 || len(s.ciphertext)%aes.BlockSize != 0) {
		bad = append(bad, FieldError{"encrypted_data", "invalid_length", "encrypted_data must be a whole number of 16-byte AES blocks"})
	}
	if s.iv, ok = decodeBase64Field(&bad, "iv", r.IV, OpenDataIVMaxChars); ok && len(s.iv) != aes.BlockSize {
		bad = append(bad, FieldError{"iv", "invalid_length", "iv must be 16 bytes"})
	}
	switch {
	case r.RawData != "" && r.Signature == "":
		bad = append(bad, FieldError{"signature", "required", "signature is required with raw_data"})
	case r.RawData == "" && r.Signature != "":
		bad = append(bad, FieldError{"raw_data", "required", "raw_data is required with signature"})
	}
	if len(r.RawData) > RawDataMaxBytes {
		bad = append(bad, FieldError{"raw_data", "too_long", fmt.Sprintf("raw_data must be at most %d bytes", RawDataMaxBytes)})
	}
	if r.Signature != "" {
		sig, err := hex.DecodeString(r.Signature)
		if err != nil || len(sig) != sha1.Size {
			bad = append(bad, FieldError{"signature", "invalid_format", "signature must be 40 hexadecimal digits (a SHA-1)"})
		}
		s.rawData, s.signature = r.RawData, sig
	}
	if len(bad) > 0 {
		return SealedOpenData{}, Invalid(bad...)
	}
	return s, nil
}

// decodeBase64Field decodes one required base64 field, noting what is
// wrong with it in bad. ok reports whether it decoded.
func decodeBase64Field(bad *[]FieldError, field, v string, maxChars int) (b []byte, ok bool) {
	switch {
	case v == "":
		*bad = append(*bad, FieldError{field, "required", field + " is required"})
		return nil, false
	case len(v) > maxChars:
		*bad = append(*bad, FieldError{field, "too_long", fmt.Sprintf("%s must be at most %d characters", field, maxChars)})
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		*bad = append(*bad, FieldError{field, "invalid_format", field + " must be base64 (standard alphabet, padded)"})
		return nil, false
	}
	return b, true
}

// OpenDataCheck is what opened data must match.
type OpenDataCheck struct {
	AppID  AppID     // the caller's mini-program
	Now    time.Time // for the watermark's age
	MaxAge time.Duration
}

// OpenData is open data decrypted with the right key and checked.
type OpenData struct {
	// JSON is the decrypted object as WeChat wrote it, without
	// insignificant white space: its members depend on the API that gave
	// it, and its own watermark is among them.
	JSON      []byte
	Watermark Watermark
}

// Watermark is WeChat's stamp on open data: for which mini-program, and
// when.
type Watermark struct {
	AppID     AppID
	Timestamp int64 // Unix seconds
}

// errNotOpened is the one cause for every way the stored key fails to
// open the data (bad padding, invalid UTF-8, no JSON object). They are
// not told apart, not even in the log: a client able to tell bad padding
// from bad JSON would have a padding oracle, with which it could forge
// ciphertexts under its own session_key.
var errNotOpened = errors.New("the data does not decrypt to a JSON object with the stored session_key")

// Open decrypts s with key and checks it: the signature when there is one,
// then the watermark against c. A key that does not open the data is
// ErrWeChatSessionStale (a later wx.login replaced it); the other failures
// mean the key is right and the data is not acceptable.
//
// WeChat's scheme has no MAC: whoever holds the ciphertext can flip bits of
// the first plaintext block through the iv (garbling nothing else), so the
// first 16 bytes of the JSON (e.g. `{"openGId":"tGxx`) carry less
// assurance than the rest. Flipping any later block garbles a whole block,
// which the JSON check then refuses.
func (s SealedOpenData) Open(key SessionKey, c OpenDataCheck) (OpenData, error) {
	k, err := base64.StdEncoding.DecodeString(key.Reveal())
	if err != nil || len(k) != 16 {
		// Not what WeChat issues; a new login stores a good one.
		return OpenData{}, ErrWeChatSessionStale(errors.New("the stored session_key is not 16 bytes of base64"))
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return OpenData{}, fmt.Errorf("open data: %w", err) // cannot happen with 16 bytes
	}
	plain := make([]byte, len(s.ciphertext))
	cipher.NewCBCDecrypter(block, s.iv).CryptBlocks(plain, s.ciphertext)
	body, padded := unpad(plain)
	// The same checks run whether or not the padding was right.
	text := utf8.Valid(body)
	object := isJSONObject(body)
	if !padded || !text || !object {
		return OpenData{}, ErrWeChatSessionStale(errNotOpened)
	}
	if s.signature != nil {
		sum := sha1.Sum([]byte(s.rawData + key.Reveal()))
		if subtle.ConstantTimeCompare(sum[:], s.signature) != 1 {
			return OpenData{}, &Error{Code: CodeWeChatSignatureInvalid,
				Message: "signature does not match raw_data: send them exactly as WeChat gave them, with the encrypted data of the same call."}
		}
	}
	wm, err := watermarkOf(body)
	if err != nil {
		return OpenData{}, err
	}
	if err := wm.check(c); err != nil {
		return OpenData{}, err
	}
	var out bytes.Buffer
	out.Grow(len(body))
	if err := json.Compact(&out, body); err != nil {
		return OpenData{}, ErrWeChatSessionStale(errNotOpened) // cannot happen: body is valid JSON
	}
	return OpenData{JSON: out.Bytes(), Watermark: wm}, nil
}

// unpad strips PKCS#7 padding for 16-byte blocks, checking every padding
// byte, in time that depends only on len(b). ok is false when the padding
// is wrong; body is then b whole, so the checks after it do the same work
// either way.
func unpad(b []byte) (body []byte, ok bool) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return b, false
	}
	n := b[len(b)-1]
	good := subtle.ConstantTimeLessOrEq(1, int(n)) & subtle.ConstantTimeLessOrEq(int(n), aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, int(n))
		same := subtle.ConstantTimeByteEq(b[len(b)-i], n)
		// A byte within the padding must equal n.
		good &= subtle.ConstantTimeSelect(inPad, same, 1)
	}
	if good != 1 {
		return b, false
	}
	return b[:len(b)-int(n)], true
}

// isJSONObject reports whether b is one valid JSON object.
func isJSONObject(b []byte) bool {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	return json.Valid(b) && len(trimmed) > 0 && trimmed[0] == '{'
}

// watermarkOf reads the watermark of a decrypted JSON object.
func watermarkOf(body []byte) (Watermark, error) {
	var doc struct {
		Watermark *struct {
			AppID     *string      `json:"appid"`
			Timestamp *json.Number `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Watermark == nil ||
		doc.Watermark.AppID == nil || doc.Watermark.Timestamp == nil {
		return Watermark{}, errDataInvalid("The decrypted data has no valid watermark (appid and timestamp).", err)
	}
	ts, err := doc.Watermark.Timestamp.Int64()
	if err != nil {
		return Watermark{}, errDataInvalid("The decrypted data's watermark.timestamp is not a whole number of seconds.", err)
	}
	return Watermark{AppID: AppID(*doc.Watermark.AppID), Timestamp: ts}, nil
}

// check holds the watermark against the caller's app and the clock.
func (w Watermark) check(c OpenDataCheck) error {
	if w.AppID != c.AppID {
		return &Error{Code: CodeWeChatDataWrongApp,
			Message: "The data was issued for another mini-program (watermark.appid is not the AppID of your login)."}
	}
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultOpenDataMaxAge
	}
	issued := time.Unix(w.Timestamp, 0)
	if issued.After(c.Now.Add(OpenDataClockSkew)) {
		return errDataInvalid("The data's watermark.timestamp is in the future.", nil)
	}
	if c.Now.Sub(issued) > maxAge {
		return &Error{Code: CodeWeChatDataExpired,
			Message: fmt.Sprintf("The data was issued more than %s ago (watermark.timestamp): get it from WeChat again.", maxAge)}
	}
	return nil
}

func errDataInvalid(msg string, cause error) *Error {
	return &Error{Code: CodeWeChatDataInvalid, Message: msg, Err: cause}
}

// ErrWeChatSessionStale: the stored session_key does not open the data,
// because a wx.login the server never saw made WeChat replace it (or the
// data is damaged). A new login stores the current key.
func ErrWeChatSessionStale(cause error) *Error {
	return &Error{Code: CodeWeChatSessionStale, Err: cause,
		Message: "The data does not open with the session_key of your latest WeChat login: a later wx.login replaced it. " +
			"Call wx.login, log in again with POST /v1/auth/wechat, get the data from WeChat again and retry."}
}

// ErrWeChatLoginRequired: the session has no session_key to open data
// with (a password login, or no WeChat identity in the session's app).
func ErrWeChatLoginRequired(cause error) *Error {
	return &Error{Code: CodeWeChatLoginRequired, Err: cause,
		Message: "Only a session started by a WeChat login of a mini-program (POST /v1/auth/wechat) can open WeChat data."}
}
