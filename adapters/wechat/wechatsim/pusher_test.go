package wechatsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// WeChat's published message push examples: Token "AAAAA",
// EncodingAESKey 43 × "A", AppID wxba5fad812f8e6fb9.
const (
	exToken  = "AAAAA"
	exAESKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	exAppID  = "wxba5fad812f8e6fb9"
)

func TestSignatureIsWeChatsPublishedExample(t *testing.T) {
	if got := wechatsim.Signature(exToken, "1714036504", "1514711492"); got != "f464b24fc39322e44b38aa78f5edd27bd1441696" {
		t.Errorf("signature = %s", got)
	}
}

func TestEncryptReproducesWeChatsPublishedExamples(t *testing.T) {
	for _, tc := range []struct{ name, random, msg, want string }{
		{"the pushed debug_demo event", "a8eedb185eb2fecf",
			`{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`,
			"+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="},
		{"the encrypted reply", "707722b803182950", `{"demo_resp":"good luck"}`,
			"ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wechatsim.Encrypt(exAESKey, exAppID, []byte(tc.msg), strings.NewReader(tc.random))
			if err != nil || got != tc.want {
				t.Errorf("Encrypt = %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}

func TestPusherSignsPlainDeliveriesLikeWeChat(t *testing.T) {
	now := time.Unix(1714037059, 0)
	p := &wechatsim.Pusher{URL: "https://www.qq.com/revice", AppID: exAppID, Token: exToken, Now: func() time.Time { return now }}
	req, err := p.Request(context.Background(), wechatsim.RevokeEvent(exAppID, "o-user", "1"))
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	if q.Get("timestamp") != "1714037059" || q.Get("signature") != wechatsim.Signature(exToken, q.Get("timestamp"), q.Get("nonce")) ||
		q.Get("encrypt_type") != "" || q.Get("msg_signature") != "" {
		t.Errorf("query %v", q)
	}
	body, _ := io.ReadAll(req.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if m["Event"] != "user_authorization_revoke" || m["OpenID"] != "o-user" || m["AppID"] != exAppID || m["CreateTime"] != 1714037059.0 {
		t.Errorf("body %s", body)
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s", req.Method, req.Header.Get("Content-Type"))
	}
}

func TestPusherEncryptsSafeDeliveriesLikeWeChat(t *testing.T) {
	for _, format := range []wechatsim.PushFormat{wechatsim.PushJSON, wechatsim.PushXML} {
		p := &wechatsim.Pusher{URL: "http://x/push", AppID: exAppID, Token: exToken, EncodingAESKey: exAESKey, Encrypted: true, Format: format}
		req, err := p.Request(context.Background(), wechatsim.MediaCheckEvent(exAppID, "o-user", "t-1", "risky", 20002))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		var enc string
		if format == wechatsim.PushXML {
			_, after, _ := strings.Cut(string(body), "<Encrypt><![CDATA[")
			enc, _, _ = strings.Cut(after, "]]>")
		} else {
			var env struct{ ToUserName, Encrypt string }
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatal(err)
			}
			enc = env.Encrypt
		}
		q := req.URL.Query()
		if enc == "" || q.Get("encrypt_type") != "aes" || q.Get("msg_signature") != wechatsim.Signature(exToken, q.Get("timestamp"), q.Get("nonce"), enc) {
			t.Errorf("%s: query %v, body %s", format, q, body)
		}
		if strings.Contains(string(body), "t-1") {
			t.Errorf("%s: the message shows through: %s", format, body)
		}
	}
}

func TestPusherMarshalsListsAsWeChatDoes(t *testing.T) {
	p := &wechatsim.Pusher{AppID: exAppID, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	one := wechatsim.SubscribeEvent("subscribe_msg_change_event", "o1", wechatsim.SubscriptionItem{TemplateID: "T1", Status: "reject"})
	if got := string(p.Marshal(one)); !strings.Contains(got, `"List":{"TemplateId":"T1","SubscribeStatusString":"reject"}`) {
		t.Errorf("one item is the object itself: %s", got)
	}
	two := wechatsim.SubscribeEvent("subscribe_msg_popup_event", "o1",
		wechatsim.SubscriptionItem{TemplateID: "T1", Status: "accept", PopupScene: "0"}, wechatsim.SubscriptionItem{TemplateID: "T2", Status: "reject", PopupScene: "0"})
	if got := string(p.Marshal(two)); !strings.Contains(got, `"List":[{"TemplateId":"T1"`) {
		t.Errorf("two items are an array: %s", got)
	}
	p.Format = wechatsim.PushXML
	got := string(p.Marshal(two))
	if !strings.HasPrefix(got, "<xml><ToUserName><![CDATA[gh_ad812f8e6fb9]]></ToUserName><CreateTime>1700000000</CreateTime>") ||
		!strings.Contains(got, "<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId>") || strings.Count(got, "<List>") != 2 {
		t.Errorf("XML: %s", got)
	}
}

func TestSimulatorDeliversHandMadeEventsToTheRegisteredPushURL(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "success")
	}))
	defer receiver.Close()
	sim := wechatsim.New(wechatsim.Config{})
	if _, ok := sim.Pusher(wechatsim.DefaultAppID); ok {
		t.Fatal("no pusher before SetPusher")
	}
	sim.SetPusher(wechatsim.DefaultAppID, &wechatsim.Pusher{URL: receiver.URL + "/push", AppID: wechatsim.DefaultAppID, Token: wechatsim.DefaultPushToken})

	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/wechatsim/push?appid="+wechatsim.DefaultAppID+"&user=alice",
		bytes.NewReader([]byte(`{"Event":"user_authorization_revoke","RevokeInfo":"1"}`))))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"reply":"success"`) || !strings.Contains(rec.Body.String(), `"status":200`) {
		t.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(gotBody, &m); err != nil {
		t.Fatal(err)
	}
	alice := wechatsim.OpenID(wechatsim.DefaultAppID, "alice")
	if m["OpenID"] != alice || m["AppID"] != wechatsim.DefaultAppID || m["Event"] != "user_authorization_revoke" || m["RevokeInfo"] != "1" {
		t.Errorf("delivered %s", gotBody)
	}
	q := got.URL.Query()
	if q.Get("signature") != wechatsim.Signature(wechatsim.DefaultPushToken, q.Get("timestamp"), q.Get("nonce")) {
		t.Errorf("not signed with the token: %v", q)
	}

	rec = httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/wechatsim/push?appid=wx_unknown", strings.NewReader(`{}`)))
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown app: %d", rec.Code)
	}
}

func TestDefaultEncodingAESKeyIsAKey(t *testing.T) {
	if len(wechatsim.DefaultEncodingAESKey) != 43 {
		t.Fatalf("length %d", len(wechatsim.DefaultEncodingAESKey))
	}
	if _, err := wechatsim.Encrypt(wechatsim.DefaultEncodingAESKey, wechatsim.DefaultAppID, []byte("x"), strings.NewReader(strings.Repeat("r", 16))); err != nil {
		t.Fatal(err)
	}
}
