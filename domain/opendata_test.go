package domain_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// WeChat's published sample of open data (开放数据校验与解密, the sample code
// WXBizDataCrypt): a getUserInfo result for AppID wx4f4bc4dec97d474b.
const (
	sampleAppID     = "wx4f4bc4dec97d474b"
	sampleKey       = "tiihtNczf5v6AKRyjwEUhQ=="
	sampleIV        = "r7BXXKkLb8qrSNn05n0qiA=="
	sampleTimestamp = 1477314187
	sampleData      = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
	// What it decrypts to.
	samplePlain = `{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0","unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}`
)

// WeChat's published signature sample from the same page: rawData signed
// with another session_key.
const (
	signedKey = "HyVFkGl5F5OQWJZZaNzBBg=="
	signedRaw = `{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}`
	signedSig = "75e81ceda165f4ffa64f4068af58c64b8f54b88c"
)

// A key of our own and a fixed iv for the crafted cases.
const (
	ourKey = "AAECAwQFBgcICQoLDA0ODw==" // bytes 0..15
	ourApp = "wx0123456789abcdef"
)

var ourIV = bytes.Repeat([]byte{7}, 16)

// encrypt is AES-128-CBC over plain as it is (no padding added): the
// tests choose the padding, good or bad.
func encrypt(t testing.TB, key string, iv, plain []byte) string {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain)%16 != 0 {
		t.Fatalf("plaintext of %d bytes is not whole blocks", len(plain))
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

// pad adds PKCS#7 padding for 16-byte blocks, as WeChat does.
func pad(b []byte) []byte {
	n := 16 - len(b)%16
	return append(append([]byte(nil), b...), bytes.Repeat([]byte{byte(n)}, n)...)
}

// sealed is what WeChat would hand over for plain under key.
func sealed(t testing.TB, key string, plain string) domain.OpenDataRequest {
	t.Helper()
	return domain.OpenDataRequest{EncryptedData: encrypt(t, key, ourIV, pad([]byte(plain))), IV: base64.StdEncoding.EncodeToString(ourIV)}
}

// weRun is WeRun data issued at ts for app.
func weRun(app string, ts int64) string {
	return fmt.Sprintf(`{"stepInfoList":[{"timestamp":1445866601,"step":100},{"timestamp":1445876601,"step":120}],"watermark":{"timestamp":%d,"appid":"%s"}}`, ts, app)
}

// open decodes and opens r for app at now with the default maximum age.
func open(r domain.OpenDataRequest, key string, app string, now time.Time) (domain.OpenData, error) {
	s, err := r.Decode()
	if err != nil {
		return domain.OpenData{}, err
	}
	return s.Open(domain.SessionKey(key), domain.OpenDataCheck{AppID: domain.AppID(app), Now: now})
}

func TestOpenDataDecryptsWeChatsPublishedSample(t *testing.T) {
	now := time.Unix(sampleTimestamp, 0).Add(time.Minute)
	d, err := open(domain.OpenDataRequest{EncryptedData: sampleData, IV: sampleIV}, sampleKey, sampleAppID, now)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(d.JSON) != samplePlain {
		t.Errorf("JSON:\n%s\nwant:\n%s", d.JSON, samplePlain)
	}
	if want := (domain.Watermark{AppID: sampleAppID, Timestamp: sampleTimestamp}); d.Watermark != want {
		t.Errorf("watermark %+v, want %+v", d.Watermark, want)
	}
}

func TestOpenDataChecksWeChatsPublishedSignature(t *testing.T) {
	now := time.Unix(1700000000, 0)
	r := sealed(t, signedKey, weRun(ourApp, now.Unix()))
	r.RawData, r.Signature = signedRaw, signedSig
	if _, err := open(r, signedKey, ourApp, now); err != nil {
		t.Fatalf("the published signature is refused: %v", err)
	}
	r.Signature = strings.ToUpper(signedSig)
	if _, err := open(r, signedKey, ourApp, now); err != nil {
		t.Errorf("the signature in upper case is refused: %v", err)
	}
	r.Signature = signedSig
	r.RawData = strings.Replace(signedRaw, "Band", "Bend", 1)
	if _, err := open(r, signedKey, ourApp, now); domain.ErrorCode(err) != domain.CodeWeChatSignatureInvalid {
		t.Errorf("changed raw_data: error %v, want %s", err, domain.CodeWeChatSignatureInvalid)
	}
}

// TestOpenDataAnswersEachFailureWithItsCode is the table of what can go
// wrong once the input is well-formed.
func TestOpenDataAnswersEachFailureWithItsCode(t *testing.T) {
	now := time.Unix(1700000000, 0)
	sampleNow := time.Unix(sampleTimestamp, 0).Add(time.Minute)
	sample := domain.OpenDataRequest{EncryptedData: sampleData, IV: sampleIV}
	withPlain := func(plain []byte) domain.OpenDataRequest {
		return domain.OpenDataRequest{EncryptedData: encrypt(t, ourKey, ourIV, plain), IV: base64.StdEncoding.EncodeToString(ourIV)}
	}
	good := []byte(weRun(ourApp, now.Unix()))
	signedWrongKey := sealed(t, ourKey, weRun(ourApp, now.Unix()))
	signedWrongKey.RawData, signedWrongKey.Signature = signedRaw, signedSig // signed with signedKey
	otherIV := sample
	otherIV.IV = base64.StdEncoding.EncodeToString(ourIV)

	for _, tc := range []struct {
		name string
		req  domain.OpenDataRequest
		key  string
		app  string
		now  time.Time
		want domain.Code
	}{
		{"the sample with another key (a later login replaced it)", sample, ourKey, sampleAppID, sampleNow, domain.CodeWeChatSessionStale},
		{"the sample with another iv", otherIV, sampleKey, sampleAppID, sampleNow, domain.CodeWeChatSessionStale},
		{"a stored key that is not base64", sample, "not base64!", sampleAppID, sampleNow, domain.CodeWeChatSessionStale},
		{"a stored key of 9 bytes", sample, "c2ltdWxhdG9y", sampleAppID, sampleNow, domain.CodeWeChatSessionStale},
		{"padding byte 0", withPlain(padWith(fit(good, 0), bytes.Repeat([]byte{0}, 16))), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"padding byte 17", withPlain(padWith(fit(good, 0), bytes.Repeat([]byte{17}, 16))), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"padding bytes that differ (the last one alone is right)", withPlain(padWith(fit(good, 12), []byte{4, 4, 3, 4})), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"a full block of padding whose first byte differs", withPlain(padWith(fit(good, 0), append([]byte{15}, bytes.Repeat([]byte{16}, 15)...))), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"no padding at all", withPlain(fit(good, 0)), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"padded text that is not JSON", sealed(t, ourKey, "step count: 100, watermark none"), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"a JSON array", sealed(t, ourKey, `[{"watermark":{"appid":"wx0123456789abcdef","timestamp":1700000000}}]`), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"invalid UTF-8 in a string", sealed(t, ourKey, "{\"n\":\"\xff\",\"watermark\":{\"appid\":\"wx0123456789abcdef\",\"timestamp\":1700000000}}"), ourKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"a signature made with another key, data that does not open", signedWrongKey, signedKey, ourApp, now, domain.CodeWeChatSessionStale},
		{"a signature made with another key, data that opens", signedWrongKey, ourKey, ourApp, now, domain.CodeWeChatSignatureInvalid},
		{"the sample in another app", sample, sampleKey, ourApp, sampleNow, domain.CodeWeChatDataWrongApp},
		{"the sample two hours later", sample, sampleKey, sampleAppID, time.Unix(sampleTimestamp, 0).Add(2 * time.Hour), domain.CodeWeChatDataExpired},
		{"issued 10 minutes in the future", sealed(t, ourKey, weRun(ourApp, now.Add(10*time.Minute).Unix())), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
		{"no watermark", sealed(t, ourKey, `{"openGId":"tGabc"}`), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
		{"a watermark without appid", sealed(t, ourKey, `{"watermark":{"timestamp":1700000000}}`), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
		{"a watermark without timestamp", sealed(t, ourKey, `{"watermark":{"appid":"wx0123456789abcdef"}}`), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
		{"a watermark that is a string", sealed(t, ourKey, `{"watermark":"wx0123456789abcdef"}`), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
		{"an appid that is a number", sealed(t, ourKey, `{"watermark":{"appid":7,"timestamp":1700000000}}`), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
		{"a timestamp with a fraction", sealed(t, ourKey, `{"watermark":{"appid":"wx0123456789abcdef","timestamp":1700000000.5}}`), ourKey, ourApp, now, domain.CodeWeChatDataInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := open(tc.req, tc.key, tc.app, tc.now)
			if got := domain.ErrorCode(err); got != tc.want {
				t.Fatalf("error %v: code %s, want %s", err, got, tc.want)
			}
			if strings.Contains(err.Error(), tc.key) || strings.Contains(domain.ErrorMessage(err), tc.key) {
				t.Errorf("the error names the session key: %v", err)
			}
		})
	}
}

// fit widens the JSON object plain with spaces before its closing brace
// until its length is rem modulo 16.
func fit(plain []byte, rem int) []byte {
	n := (rem - len(plain)%16 + 16) % 16
	out := append([]byte(nil), plain[:len(plain)-1]...)
	out = append(out, bytes.Repeat([]byte{' '}, n)...)
	return append(out, '}')
}

// padWith appends the given padding bytes.
func padWith(b, padding []byte) []byte { return append(append([]byte(nil), b...), padding...) }

func TestOpenDataKeepsEveryPaddingLengthWeChatCanSend(t *testing.T) {
	now := time.Unix(1700000000, 0)
	base := weRun(ourApp, now.Unix())
	for extra := range 16 { // every remainder mod 16: padding of 1 to 16 bytes
		plain := base[:len(base)-1] + strings.Repeat(" ", extra) + "}"
		d, err := open(sealed(t, ourKey, plain), ourKey, ourApp, now)
		if err != nil {
			t.Fatalf("%d bytes of plaintext: %v", len(plain), err)
		}
		if string(d.JSON) != base {
			t.Errorf("%d bytes of plaintext: JSON %s, want it compacted to %s", len(plain), d.JSON, base)
		}
	}
}

func TestOpenDataAgeLimits(t *testing.T) {
	issued := time.Unix(1700000000, 0)
	req := sealed(t, ourKey, weRun(ourApp, issued.Unix()))
	for _, tc := range []struct {
		name   string
		now    time.Time
		maxAge time.Duration
		want   domain.Code // "" for success
	}{
		{"just issued", issued, 0, ""},
		{"the default hour, to the second", issued.Add(time.Hour), 0, ""},
		{"past the default hour", issued.Add(time.Hour + time.Second), 0, domain.CodeWeChatDataExpired},
		{"past a configured 10 minutes", issued.Add(11 * time.Minute), 10 * time.Minute, domain.CodeWeChatDataExpired},
		{"within a configured day", issued.Add(23 * time.Hour), 24 * time.Hour, ""},
		{"our clock behind by the allowed skew", issued.Add(-domain.OpenDataClockSkew), 0, ""},
		{"our clock behind by more", issued.Add(-domain.OpenDataClockSkew - time.Second), 0, domain.CodeWeChatDataInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := req.Decode()
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Open(ourKey, domain.OpenDataCheck{AppID: ourApp, Now: tc.now, MaxAge: tc.maxAge})
			if got := domain.ErrorCode(err); err != nil && got != tc.want || err == nil && tc.want != "" {
				t.Fatalf("error %v, want code %q", err, tc.want)
			}
		})
	}
}

func TestOpenDataRequestDecodeNamesEachBadField(t *testing.T) {
	iv := base64.StdEncoding.EncodeToString(ourIV)
	block := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		name string
		req  domain.OpenDataRequest
		want []string // field:code
	}{
		{"nothing", domain.OpenDataRequest{}, []string{"encrypted_data:required", "iv:required"}},
		{"not base64", domain.OpenDataRequest{EncryptedData: "not base64!", IV: "%%%"}, []string{"encrypted_data:invalid_format", "iv:invalid_format"}},
		{"URL-safe base64", domain.OpenDataRequest{EncryptedData: strings.Repeat("-_", 16), IV: iv}, []string{"encrypted_data:invalid_format"}},
		{"an iv of 15 bytes", domain.OpenDataRequest{EncryptedData: block, IV: base64.StdEncoding.EncodeToString(make([]byte, 15))}, []string{"iv:invalid_length"}},
		{"an iv of 17 bytes", domain.OpenDataRequest{EncryptedData: block, IV: base64.StdEncoding.EncodeToString(make([]byte, 17))}, []string{"iv:invalid_length"}},
		{"a ciphertext of 15 bytes", domain.OpenDataRequest{EncryptedData: base64.StdEncoding.EncodeToString(make([]byte, 15)), IV: iv}, []string{"encrypted_data:invalid_length"}},
		{"a ciphertext of 33 bytes", domain.OpenDataRequest{EncryptedData: base64.StdEncoding.EncodeToString(make([]byte, 33)), IV: iv}, []string{"encrypted_data:invalid_length"}},
		{"too long", domain.OpenDataRequest{EncryptedData: strings.Repeat("A", domain.OpenDataMaxChars+4), IV: strings.Repeat("A", 36)}, []string{"encrypted_data:too_long", "iv:too_long"}},
		{"raw_data without signature", domain.OpenDataRequest{EncryptedData: block, IV: iv, RawData: "{}"}, []string{"signature:required"}},
		{"signature without raw_data", domain.OpenDataRequest{EncryptedData: block, IV: iv, Signature: signedSig}, []string{"raw_data:required"}},
		{"a signature that is not hex", domain.OpenDataRequest{EncryptedData: block, IV: iv, RawData: "{}", Signature: strings.Repeat("g", 40)}, []string{"signature:invalid_format"}},
		{"a signature too short", domain.OpenDataRequest{EncryptedData: block, IV: iv, RawData: "{}", Signature: "75e81ced"}, []string{"signature:invalid_format"}},
		{"raw_data too long", domain.OpenDataRequest{EncryptedData: block, IV: iv, RawData: strings.Repeat("x", domain.RawDataMaxBytes+1), Signature: signedSig}, []string{"raw_data:too_long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.req.Decode()
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("error %v, want %s", err, domain.CodeInvalid)
			}
			if got := uploadFieldCodes(err); !slices.Equal(got, tc.want) {
				t.Errorf("field errors %v, want %v", got, tc.want)
			}
		})
	}
	ok := domain.OpenDataRequest{EncryptedData: block, IV: iv, RawData: signedRaw, Signature: signedSig}
	if _, err := ok.Decode(); err != nil {
		t.Errorf("a well-formed request: %v", err)
	}
}

// The decrypted JSON is sent on as it is, so it must stay valid JSON
// whatever WeChat put in it.
func TestOpenDataJSONIsValid(t *testing.T) {
	now := time.Unix(1700000000, 0)
	plain := `{ "openGId" : "tG\u00e9 \"quoted\" <b>",  "chat_type": 3, "watermark": {"appid": "wx0123456789abcdef", "timestamp": 1700000000} }`
	d, err := open(sealed(t, ourKey, plain), ourKey, ourApp, now)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(d.JSON, &v); err != nil || v["openGId"] != "tGé \"quoted\" <b>" {
		t.Errorf("JSON %s: %v, %v", d.JSON, v, err)
	}
}

// BenchmarkOpenData measures opening WeRun-sized data (31 days, about
// 1.5 KiB) and data at the size limit (12 KiB of plaintext).
func BenchmarkOpenData(b *testing.B) {
	now := time.Unix(1700000000, 0)
	var days []string
	for i := range 31 {
		days = append(days, fmt.Sprintf(`{"timestamp":%d,"step":%d}`, 1697385600+i*86400, 10000+i))
	}
	weRun := `{"stepInfoList":[` + strings.Join(days, ",") + `],"watermark":{"timestamp":1700000000,"appid":"wx0123456789abcdef"}}`
	filler := strings.Repeat("x", domain.OpenDataMaxChars/4*3-200)
	largest := `{"f":"` + filler + `","watermark":{"timestamp":1700000000,"appid":"wx0123456789abcdef"}}`
	for _, bc := range []struct{ name, plain string }{{"werun", weRun}, {"largest", largest}} {
		req := sealed(b, ourKey, bc.plain)
		if len(req.EncryptedData) > domain.OpenDataMaxChars {
			b.Fatalf("%s: %d characters, over the limit", bc.name, len(req.EncryptedData))
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.plain)))
			for b.Loop() {
				if _, err := open(req, ourKey, ourApp, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
