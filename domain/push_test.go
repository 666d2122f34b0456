package domain_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// WeChat's published examples (message push, 消息推送, of the mini-program
// docs): Token "AAAAA", EncodingAESKey 43 × "A", AppID wxba5fad812f8e6fb9.
const (
	vecToken  = "AAAAA"
	vecAESKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	vecAppID  = domain.AppID("wxba5fad812f8e6fb9")

	// The URL check: GET ?signature=…&echostr=…&timestamp=…&nonce=…
	vecCheckSignature = "f464b24fc39322e44b38aa78f5edd27bd1441696"
	vecCheckEchoStr   = "4375120948345356249"
	vecCheckTimestamp = "1714036504"
	vecCheckNonce     = "1514711492"

	// A plaintext JSON delivery of the debug_demo event.
	vecPlainSignature = "899cf89e464efb63f54ddac96b0a0a235f53aa78"
	vecPlainTimestamp = "1714037059"
	vecPlainNonce     = "486452656"
	vecPlainBody      = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714037059,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`

	// The same event, encrypted (安全模式).
	vecSafeMsgSignature = "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
	vecSafeTimestamp    = "1714112445"
	vecSafeNonce        = "415670741"
	vecSafeEncrypt      = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
	vecSafeMessage      = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`
)

func unix(ts string) time.Time {
	var n int64
	fmt.Sscan(ts, &n)
	return time.Unix(n, 0)
}

func vecEndpoint(t *testing.T, mode domain.PushMode) domain.PushEndpoint {
	t.Helper()
	e, err := domain.NewPushEndpoint(vecToken, vecAESKey, mode)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPushSignatureIsWeChatsPublishedExample(t *testing.T) {
	if got := domain.PushSignature(vecToken, vecCheckTimestamp, vecCheckNonce); got != vecCheckSignature {
		t.Errorf("URL check signature = %s, want %s", got, vecCheckSignature)
	}
	if got := domain.PushSignature(vecToken, vecPlainTimestamp, vecPlainNonce); got != vecPlainSignature {
		t.Errorf("plaintext delivery signature = %s, want %s", got, vecPlainSignature)
	}
	if got := domain.PushSignature(vecToken, vecSafeTimestamp, vecSafeNonce, vecSafeEncrypt); got != vecSafeMsgSignature {
		t.Errorf("msg_signature = %s, want %s", got, vecSafeMsgSignature)
	}
}

func TestVerifyURLEchoesWeChatsExample(t *testing.T) {
	e := vecEndpoint(t, domain.PushSafe)
	q := domain.PushQuery{Signature: vecCheckSignature, Timestamp: vecCheckTimestamp, Nonce: vecCheckNonce, EchoStr: vecCheckEchoStr}
	echo, err := e.VerifyURL(q, unix(vecCheckTimestamp).Add(time.Minute), domain.DefaultPushMaxAge)
	if err != nil || echo != vecCheckEchoStr {
		t.Fatalf("VerifyURL = %q, %v; want the echostr", echo, err)
	}
}

func TestVerifyURLRefusals(t *testing.T) {
	e := vecEndpoint(t, domain.PushSafe)
	now := unix(vecCheckTimestamp)
	good := domain.PushQuery{Signature: vecCheckSignature, Timestamp: vecCheckTimestamp, Nonce: vecCheckNonce, EchoStr: vecCheckEchoStr}
	for _, tc := range []struct {
		name string
		edit func(*domain.PushQuery)
		now  time.Time
		want domain.Code
	}{
		{"no signature", func(q *domain.PushQuery) { q.Signature = "" }, now, domain.CodePushSignatureInvalid},
		{"no timestamp", func(q *domain.PushQuery) { q.Timestamp = "" }, now, domain.CodePushSignatureInvalid},
		{"no nonce", func(q *domain.PushQuery) { q.Nonce = "" }, now, domain.CodePushSignatureInvalid},
		{"another nonce", func(q *domain.PushQuery) { q.Nonce = "1514711493" }, now, domain.CodePushSignatureInvalid},
		{"one digit of the signature changed", func(q *domain.PushQuery) { q.Signature = "f464b24fc39322e44b38aa78f5edd27bd1441697" }, now, domain.CodePushSignatureInvalid},
		{"timestamp not a number", func(q *domain.PushQuery) { q.Timestamp = "17140365O4" }, now, domain.CodePushSignatureInvalid},
		{"six minutes late", nil, now.Add(6 * time.Minute), domain.CodePushTimestampStale},
		{"six minutes early", nil, now.Add(-6 * time.Minute), domain.CodePushTimestampStale},
		{"no echostr", func(q *domain.PushQuery) { q.EchoStr = "" }, now, domain.CodeInvalid},
		{"echostr with markup", func(q *domain.PushQuery) { q.EchoStr = "<script>" + strings.Repeat("x", 600) }, now, domain.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := good
			if tc.edit != nil {
				tc.edit(&q)
			}
			_, err := e.VerifyURL(q, tc.now, domain.DefaultPushMaxAge)
			if got := domain.ErrorCode(err); got != tc.want {
				t.Errorf("code = %s, want %s (%v)", got, tc.want, err)
			}
		})
	}
}

func TestOpenDecryptsWeChatsSafeModeExample(t *testing.T) {
	e := vecEndpoint(t, domain.PushSafe)
	q := domain.PushQuery{Signature: "6c5c811b55cc85e0e1b54100749188c20beb3f5d", Timestamp: vecSafeTimestamp, Nonce: vecSafeNonce,
		EncryptType: "aes", MsgSignature: vecSafeMsgSignature}
	body := `{"ToUserName":"gh_97417a04a28d","Encrypt":"` + vecSafeEncrypt + `"}`
	m, err := e.Open(vecAppID, q, []byte(body), unix(vecSafeTimestamp), domain.DefaultPushMaxAge)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != vecSafeMessage || !m.Encrypted || m.Format != domain.PushJSON {
		t.Errorf("message = %q (encrypted %v, %s), want WeChat's decrypted example", m.Text, m.Encrypted, m.Format)
	}
	if m.Event != "debug_demo" || m.FromUserName != "o9AgO5Kd5ggOC-bXrbNODIiE3bGY" || m.CreatedAt() != 1714112445 {
		t.Errorf("parsed %+v", m)
	}
}

func TestOpenReadsWeChatsPlaintextExample(t *testing.T) {
	q := domain.PushQuery{Signature: vecPlainSignature, Timestamp: vecPlainTimestamp, Nonce: vecPlainNonce}
	for _, mode := range []domain.PushMode{domain.PushPlain, domain.PushCompat} {
		m, err := vecEndpoint(t, mode).Open(vecAppID, q, []byte(vecPlainBody), unix(vecPlainTimestamp), domain.DefaultPushMaxAge)
		if err != nil {
			t.Fatalf("%s mode: %v", mode, err)
		}
		if m.Event != "debug_demo" || m.Encrypted {
			t.Errorf("%s mode: parsed %+v", mode, m)
		}
	}
}

// encryptForTest is WeChat's encryption, written from its documentation
// apart from the code under test: random(16) + length(4, big-endian) +
// message + AppID, PKCS#7 to 32-byte blocks, AES-256-CBC with IV = key[:16].
func encryptForTest(t *testing.T, encodingAESKey string, random []byte, msg, appID string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.Write(random)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.WriteString(msg)
	buf.WriteString(appID)
	pad := 32 - buf.Len()%32
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, out)
	return base64.StdEncoding.EncodeToString(out)
}

func TestEncryptForTestMatchesWeChatsReplyExample(t *testing.T) {
	// The docs' encrypted reply: the test's encryption is WeChat's.
	got := encryptForTest(t, vecAESKey, []byte("707722b803182950"), `{"demo_resp":"good luck"}`, string(vecAppID))
	if want := "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="; got != want {
		t.Fatalf("encrypt = %s, want %s", got, want)
	}
}

func TestOpenRefusals(t *testing.T) {
	now := unix(vecSafeTimestamp)
	msg := `{"FromUserName":"o1","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo"}`
	sealed := func(encrypt string) (domain.PushQuery, []byte) {
		q := domain.PushQuery{Timestamp: vecSafeTimestamp, Nonce: vecSafeNonce, EncryptType: "aes",
			MsgSignature: domain.PushSignature(vecToken, vecSafeTimestamp, vecSafeNonce, encrypt)}
		return q, []byte(`{"ToUserName":"gh_1","Encrypt":"` + encrypt + `"}`)
	}
	random := []byte("0123456789abcdef")
	good := encryptForTest(t, vecAESKey, random, msg, string(vecAppID))
	for _, tc := range []struct {
		name  string
		mode  domain.PushMode
		query func() (domain.PushQuery, []byte)
		now   time.Time
		want  domain.Code
	}{
		{"a sealed message opens", domain.PushSafe, func() (domain.PushQuery, []byte) { return sealed(good) }, now, ""},
		{"Encrypt tampered with after signing", domain.PushSafe, func() (domain.PushQuery, []byte) {
			q, _ := sealed(good)
			tampered := []byte(good)
			tampered[10] ^= 1
			return q, []byte(`{"Encrypt":"` + string(tampered) + `"}`)
		}, now, domain.CodePushSignatureInvalid},
		{"re-signed ciphertext of another key", domain.PushSafe, func() (domain.PushQuery, []byte) {
			return sealed(encryptForTest(t, strings.Repeat("B", 43), random, msg, string(vecAppID)))
		}, now, domain.CodePushSignatureInvalid},
		{"AppID in the plaintext is another app's", domain.PushSafe, func() (domain.PushQuery, []byte) {
			return sealed(encryptForTest(t, vecAESKey, random, msg, "wx0000000000000000"))
		}, now, domain.CodePushSignatureInvalid},
		{"no msg_signature", domain.PushSafe, func() (domain.PushQuery, []byte) {
			q, b := sealed(good)
			q.MsgSignature = ""
			return q, b
		}, now, domain.CodePushSignatureInvalid},
		{"encrypt_type other than aes", domain.PushSafe, func() (domain.PushQuery, []byte) {
			q, b := sealed(good)
			q.EncryptType = "des"
			return q, b
		}, now, domain.CodePushSignatureInvalid},
		{"stale", domain.PushSafe, func() (domain.PushQuery, []byte) { return sealed(good) }, now.Add(10 * time.Minute), domain.CodePushTimestampStale},
		{"no Encrypt in the body", domain.PushSafe, func() (domain.PushQuery, []byte) {
			q, _ := sealed(good)
			return q, []byte(`{"ToUserName":"gh_1"}`)
		}, now, domain.CodePushSignatureInvalid},
		{"plaintext to a safe-mode app, even with a valid signature", domain.PushSafe, func() (domain.PushQuery, []byte) {
			return domain.PushQuery{Signature: domain.PushSignature(vecToken, vecSafeTimestamp, vecSafeNonce),
				Timestamp: vecSafeTimestamp, Nonce: vecSafeNonce}, []byte(msg)
		}, now, domain.CodePushSignatureInvalid},
		{"encrypted to a plain-mode app", domain.PushPlain, func() (domain.PushQuery, []byte) { return sealed(good) }, now, domain.CodePushSignatureInvalid},
		{"plaintext with a bad signature", domain.PushCompat, func() (domain.PushQuery, []byte) {
			return domain.PushQuery{Signature: strings.Repeat("0", 40), Timestamp: vecSafeTimestamp, Nonce: vecSafeNonce}, []byte(msg)
		}, now, domain.CodePushSignatureInvalid},
		{"plaintext with no signature", domain.PushCompat, func() (domain.PushQuery, []byte) {
			return domain.PushQuery{Timestamp: vecSafeTimestamp, Nonce: vecSafeNonce}, []byte(msg)
		}, now, domain.CodePushSignatureInvalid},
		{"signed plaintext that is no message", domain.PushCompat, func() (domain.PushQuery, []byte) {
			return domain.PushQuery{Signature: domain.PushSignature(vecToken, vecSafeTimestamp, vecSafeNonce),
				Timestamp: vecSafeTimestamp, Nonce: vecSafeNonce}, []byte("hello")
		}, now, domain.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, body := tc.query()
			m, err := vecEndpoint(t, tc.mode).Open(vecAppID, q, body, tc.now, domain.DefaultPushMaxAge)
			if tc.want == "" {
				if err != nil || m.Event != "debug_demo" {
					t.Fatalf("Open = %+v, %v", m, err)
				}
				return
			}
			if got := domain.ErrorCode(err); got != tc.want {
				t.Errorf("code = %s, want %s (%v)", got, tc.want, err)
			}
		})
	}
}

func TestNewPushEndpointChecksTheConsolesSettings(t *testing.T) {
	for _, tc := range []struct {
		name, token, key string
		mode             domain.PushMode
		want             domain.PushMode // "" for an error
	}{
		{"token and key: safe", "AAAAA", vecAESKey, "", domain.PushSafe},
		{"token alone: plain", "AAAAA", "", "", domain.PushPlain},
		{"compat with a key", "AAAAA", vecAESKey, domain.PushCompat, domain.PushCompat},
		{"safe without a key", "AAAAA", "", domain.PushSafe, ""},
		{"token too short", "AA", vecAESKey, "", ""},
		{"token too long", strings.Repeat("A", 33), vecAESKey, "", ""},
		{"token with punctuation", "AAA:A", vecAESKey, "", ""},
		{"key of 42 characters", "AAAAA", vecAESKey[:42], "", ""},
		{"key with punctuation", "AAAAA", vecAESKey[:42] + "+", "", ""},
		{"unknown mode", "AAAAA", vecAESKey, "loose", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := domain.NewPushEndpoint(tc.token, tc.key, tc.mode)
			if tc.want == "" {
				if err == nil {
					t.Fatal("want an error")
				}
				if strings.Contains(err.Error(), tc.token) || (tc.key != "" && strings.Contains(err.Error(), tc.key)) {
					t.Errorf("the error %q quotes a secret", err)
				}
				return
			}
			if err != nil || e.Mode != tc.want {
				t.Fatalf("mode = %s, %v; want %s", e.Mode, err, tc.want)
			}
		})
	}
}

func TestPushSecretsNeverPrint(t *testing.T) {
	e := vecEndpoint(t, domain.PushSafe)
	for _, s := range []string{fmt.Sprint(e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e), fmt.Sprintf("%v", e.Key)} {
		if strings.Contains(s, vecToken) || strings.Contains(s, "AAAA") {
			t.Errorf("printed %q", s)
		}
	}
	if b, _ := e.Token.MarshalText(); string(b) != "[redacted]" {
		t.Errorf("MarshalText = %s", b)
	}
}
