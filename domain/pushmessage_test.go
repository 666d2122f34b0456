package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestParsePushMessageReadsWhatWeChatSends(t *testing.T) {
	revoke := domain.PushMessage{ToUserName: "gh_870882ca4b1", FromUserName: "owAqB1v0ahK_Xlc7GshIDdf2yf7E", CreateTime: "1626857200",
		MsgType: "event", Event: domain.PushEventAuthorizationRevoke, OpenID: "owAqB1nqaOYYWl0Ng484G2z5NIwU", AppID: "wx13974bf780d3dc89", RevokeInfo: "1"}
	popup := []domain.SubscriptionItem{
		{TemplateID: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc", Status: "accept", PopupScene: "2"},
		{TemplateID: "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI", Status: "reject", PopupScene: "2"},
	}
	for _, tc := range []struct {
		name string
		body string
		want domain.PushMessage // Text and Format are checked apart
	}{
		{"revocation, XML (the docs' example)", `<xml>
<ToUserName><![CDATA[gh_870882ca4b1]]></ToUserName>
<FromUserName><![CDATA[owAqB1v0ahK_Xlc7GshIDdf2yf7E]]></FromUserName>
<CreateTime>1626857200</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[user_authorization_revoke]]></Event>
<OpenID><![CDATA[owAqB1nqaOYYWl0Ng484G2z5NIwU]]></OpenID>
<AppID><![CDATA[wx13974bf780d3dc89]]></AppID>
<RevokeInfo><![CDATA[1]]></RevokeInfo>
</xml>`, revoke},
		{"revocation, XML with a declaration", `<?xml version="1.0" encoding="utf-8"?><xml><ToUserName>gh_870882ca4b1</ToUserName><FromUserName>owAqB1v0ahK_Xlc7GshIDdf2yf7E</FromUserName><CreateTime>1626857200</CreateTime><MsgType>event</MsgType><Event>user_authorization_revoke</Event><OpenID>owAqB1nqaOYYWl0Ng484G2z5NIwU</OpenID><AppID>wx13974bf780d3dc89</AppID><RevokeInfo>1</RevokeInfo></xml>`, revoke},
		{"revocation, XML declared utf8", `<?xml version="1.0" encoding="utf8"?><xml><ToUserName>gh_870882ca4b1</ToUserName><FromUserName>owAqB1v0ahK_Xlc7GshIDdf2yf7E</FromUserName><CreateTime>1626857200</CreateTime><MsgType>event</MsgType><Event>user_authorization_revoke</Event><OpenID>owAqB1nqaOYYWl0Ng484G2z5NIwU</OpenID><AppID>wx13974bf780d3dc89</AppID><RevokeInfo>1</RevokeInfo></xml>`, revoke},
		{"revocation, JSON", `{"ToUserName":"gh_870882ca4b1","FromUserName":"owAqB1v0ahK_Xlc7GshIDdf2yf7E","CreateTime":1626857200,"MsgType":"event",
			"Event":"user_authorization_revoke","OpenID":"owAqB1nqaOYYWl0Ng484G2z5NIwU","AppID":"wx13974bf780d3dc89","RevokeInfo":"1"}`, revoke},
		{"popup, XML with two templates", `<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
<CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>
<SubscribeMsgPopupEvent>
  <List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>
  <List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>
</SubscribeMsgPopupEvent></xml>`,
			domain.PushMessage{ToUserName: "gh_123456789abc", FromUserName: "otFpruAK8D-E6EfStSYonYSBZ8_4", CreateTime: "1610969440",
				MsgType: "event", Event: domain.PushEventSubscribePopup, Subscriptions: popup}},
		{"popup, JSON with List an array and CreateTime a string", `{"ToUserName":"gh_123456789abc","FromUserName":"otFpruAK8D-E6EfStSYonYSBZ8_4","CreateTime":"1610969440",
			"MsgType":"event","Event":"subscribe_msg_popup_event","List":[
			{"TemplateId":"VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc","SubscribeStatusString":"accept","PopupScene":"2"},
			{"TemplateId":"9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI","SubscribeStatusString":"reject","PopupScene":2}]}`,
			domain.PushMessage{ToUserName: "gh_123456789abc", FromUserName: "otFpruAK8D-E6EfStSYonYSBZ8_4", CreateTime: "1610969440",
				MsgType: "event", Event: domain.PushEventSubscribePopup, Subscriptions: popup}},
		{"change, JSON with List a single object", `{"ToUserName":"gh_1","FromUserName":"o7esq5OI1Uej6Xixw1lA2H7XDVbc","CreateTime":"1610968440","MsgType":"event",
			"Event":"subscribe_msg_change_event","List":{"TemplateId":"BEwX0BOT3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8","SubscribeStatusString":"reject"}}`,
			domain.PushMessage{ToUserName: "gh_1", FromUserName: "o7esq5OI1Uej6Xixw1lA2H7XDVbc", CreateTime: "1610968440", MsgType: "event",
				Event: domain.PushEventSubscribeChange, Subscriptions: []domain.SubscriptionItem{{TemplateID: "BEwX0BOT3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8", Status: "reject"}}}},
		{"change, XML under the popup wrapper (as the docs' example has it)", `<xml><FromUserName>o1</FromUserName><CreateTime>1610969440</CreateTime><MsgType>event</MsgType>
<Event>subscribe_msg_change_event</Event><SubscribeMsgPopupEvent><List><TemplateId>T1</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List></SubscribeMsgPopupEvent></xml>`,
			domain.PushMessage{FromUserName: "o1", CreateTime: "1610969440", MsgType: "event", Event: domain.PushEventSubscribeChange,
				Subscriptions: []domain.SubscriptionItem{{TemplateID: "T1", Status: "reject"}}}},
		{"sent, XML", `<xml><FromUserName>o1</FromUserName><CreateTime>1620963428</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event>
<SubscribeMsgSentEvent><List><TemplateId>T1</TemplateId><MsgID>1864323726461255680</MsgID><ErrorCode>0</ErrorCode><ErrorStatus>success</ErrorStatus></List></SubscribeMsgSentEvent></xml>`,
			domain.PushMessage{FromUserName: "o1", CreateTime: "1620963428", MsgType: "event", Event: domain.PushEventSubscribeSent,
				Subscriptions: []domain.SubscriptionItem{{TemplateID: "T1", Status: "success", MsgID: "1864323726461255680", ErrorCode: "0"}}}},
		{"sent, JSON with a 19-digit MsgID kept exact", `{"FromUserName":"o1","CreateTime":1620963428,"MsgType":"event","Event":"subscribe_msg_sent_event",
			"List":{"TemplateId":"T1","MsgID":1864323726461255680,"ErrorCode":43101,"ErrorStatus":"fail:user refuse to accept the msg"}}`,
			domain.PushMessage{FromUserName: "o1", CreateTime: "1620963428", MsgType: "event", Event: domain.PushEventSubscribeSent,
				Subscriptions: []domain.SubscriptionItem{{TemplateID: "T1", Status: "fail:user refuse to accept the msg", MsgID: "1864323726461255680", ErrorCode: "43101"}}}},
		{"media check, JSON (version 2)", `{"ToUserName":"gh_38cc49f9733b","FromUserName":"oH1fu0FdHqpToe2T6gBj0WyB8iS1","CreateTime":1626959646,"MsgType":"event",
			"Event":"wxa_media_check","appid":"wx8f16a5e6b1e0ad4c","trace_id":"60f96f1d-3845297a-1976a3ae","version":2,
			"detail":[{"strategy":"content_model","errcode":0,"suggest":"risky","label":20002,"prob":90}],"errcode":0,"errmsg":"ok",
			"result":{"suggest":"risky","label":20002}}`,
			domain.PushMessage{ToUserName: "gh_38cc49f9733b", FromUserName: "oH1fu0FdHqpToe2T6gBj0WyB8iS1", CreateTime: "1626959646", MsgType: "event",
				Event: domain.PushEventMediaCheck, AppID: "wx8f16a5e6b1e0ad4c",
				Media: domain.MediaVerdict{TraceID: "60f96f1d-3845297a-1976a3ae", Suggest: "risky", Label: 20002}}},
		{"media check, XML (version 2)", `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1626959646</CreateTime><MsgType>event</MsgType>
<Event>wxa_media_check</Event><appid>wx8f16a5e6b1e0ad4c</appid><trace_id>t-1</trace_id><version>2</version>
<detail><strategy>content_model</strategy><errcode>0</errcode><suggest>pass</suggest><label>100</label><prob>90</prob></detail>
<errcode>0</errcode><errmsg>ok</errmsg><result><suggest>pass</suggest><label>100</label></result></xml>`,
			domain.PushMessage{ToUserName: "gh_1", FromUserName: "o1", CreateTime: "1626959646", MsgType: "event", Event: domain.PushEventMediaCheck,
				AppID: "wx8f16a5e6b1e0ad4c", Media: domain.MediaVerdict{TraceID: "t-1", Suggest: "pass", Label: 100}}},
		{"media check that failed", `{"FromUserName":"o1","CreateTime":1760776627,"MsgType":"event","Event":"wxa_media_check","appid":"wx2a5d3399f1f43ec1",
			"trace_id":"68f351b2-75a4d3f0-04bd00ca","version":2,"detail":[],"errcode":43104,"errmsg":"this appid does not have permission"}`,
			domain.PushMessage{FromUserName: "o1", CreateTime: "1760776627", MsgType: "event", Event: domain.PushEventMediaCheck, AppID: "wx2a5d3399f1f43ec1",
				Media: domain.MediaVerdict{TraceID: "68f351b2-75a4d3f0-04bd00ca", ErrCode: 43104}}},
		{"media check, version 1", `{"FromUserName":"o1","CreateTime":1655747827,"MsgType":"event","Event":"wxa_media_check","isrisky":"1","appid":"wx1","trace_id":"t-2","status_code":"0"}`,
			domain.PushMessage{FromUserName: "o1", CreateTime: "1655747827", MsgType: "event", Event: domain.PushEventMediaCheck, AppID: "wx1",
				Media: domain.MediaVerdict{TraceID: "t-2", Suggest: "risky"}}},
		{"a customer message with a MsgId", `{"ToUserName":"wx3d289323f5900f8e","FromUserName":"ohl4L0Rnhq7vmmbT_DaNQa4ePaz0","Content":"测试","CreateTime":1555684067,
			"MsgId":"49d72d67b16d115e7935ac386f2f0fa41535298877_1555684067","MsgType":"text"}`,
			domain.PushMessage{ToUserName: "wx3d289323f5900f8e", FromUserName: "ohl4L0Rnhq7vmmbT_DaNQa4ePaz0", CreateTime: "1555684067",
				MsgID: "49d72d67b16d115e7935ac386f2f0fa41535298877_1555684067", MsgType: "text"}},
		{"JSON members of unexpected types read as empty", `{"FromUserName":["o1"],"CreateTime":true,"Event":{"x":1},"List":"none"}`, domain.PushMessage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := domain.ParsePushMessage([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tc.body {
				t.Errorf("Text is not the body as sent")
			}
			wantFormat := domain.PushJSON
			if strings.HasPrefix(tc.body, "<") {
				wantFormat = domain.PushXML
			}
			if m.Format != wantFormat {
				t.Errorf("format = %s, want %s", m.Format, wantFormat)
			}
			m.Text, m.Format = "", ""
			if !reflect.DeepEqual(m, tc.want) {
				t.Errorf("parsed\n %+v\nwant\n %+v", m, tc.want)
			}
		})
	}
}

func TestParsePushMessageRefusesWhatIsNoMessage(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"empty", ""},
		{"blank", "  \n"},
		{"neither JSON nor XML", "success"},
		{"JSON array", `[{"Event":"x"}]`},
		{"broken JSON", `{"Event":"x"`},
		{"broken XML", `<xml><Event>x</xml>`},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]><xml><Event>&a;</Event></xml>`},
		{"external entity", `<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Event>&x;</Event></xml>`},
		{"undeclared entity", `<xml><Event>&x;</Event></xml>`},
		{"processing instruction inside", `<xml><?php echo 1; ?><Event>x</Event></xml>`},
		{"two roots", `<xml><Event>x</Event></xml><xml><Event>y</Event></xml>`},
		{"too deep", strings.Repeat("<a>", 9) + strings.Repeat("</a>", 9)},
		{"too many elements", "<xml>" + strings.Repeat("<a/>", 2001) + "</xml>"},
		{"too many items", `{"List":[` + strings.Repeat(`{"TemplateId":"t"},`, 100) + `{"TemplateId":"t"}]}`},
		{"invalid UTF-8", "{\"Event\":\"\xff\"}"},
		{"NUL byte", "<xml><Event>a\x00</Event></xml>"},
		{"NUL spelt as a JSON escape", `{"FromUserName":"a\u0000b"}`},
		{"a field of 2 KiB", `{"FromUserName":"` + strings.Repeat("o", 2048) + `"}`},
		{"XML in another encoding", `<?xml version="1.0" encoding="gbk"?><xml><Event>x</Event></xml>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := domain.ParsePushMessage([]byte(tc.body))
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Errorf("err = %v, want validation_failed", err)
			}
		})
	}
}

// A hostile body of 1 MiB (the request limit) costs milliseconds: parsing
// is linear and stops at the first broken limit.
func TestParsePushMessageIsFastOnHostileMegabytes(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct{ name, body string }{
		{"deep XML", strings.Repeat("<a>", mib/3)},
		{"wide XML", "<xml>" + strings.Repeat("<a/>", mib/4)},
		{"one huge XML text", "<xml><Event>" + strings.Repeat("x", mib-40) + "</Event></xml>"},
		{"many XML attributes", "<xml a0=\"1\"" + strings.Repeat(" a=\"1\"", mib/6) + "/>"},
		{"deep JSON", strings.Repeat(`{"a":`, mib/5)},
		{"a long JSON List", `{"List":[` + strings.Repeat(`{},`, mib/3) + `{}]}`},
		{"many JSON members", `{` + strings.Repeat(`"FromUserName":"o",`, mib/19) + `"List":[` + strings.Repeat(`{},`, 200) + `{}]}`},
		{"XML comments", "<xml>" + strings.Repeat("<!-- -->", mib/8)},
		{"DOCTYPE with a billion laughs", `<!DOCTYPE lolz [<!ENTITY lol "lol">` + strings.Repeat(`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">`, mib/80) + `]><lolz>&lol1;</lolz>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := domain.ParsePushMessage([]byte(tc.body))
			took := time.Since(start)
			if err == nil {
				t.Fatal("want a refusal")
			}
			// Generous for a shared, slow CI machine; measured at a few ms.
			if took > 500*time.Millisecond {
				t.Errorf("took %s", took)
			}
			t.Logf("%s: %s", tc.name, took)
		})
	}
}

func TestDedupKeyTellsRetriesFromOtherEvents(t *testing.T) {
	base := domain.PushMessage{FromUserName: "o1", CreateTime: "1700000000", Event: domain.PushEventSubscribePopup}
	same := base
	same.Text, same.Encrypted = "other bytes of the same event", true
	if base.DedupKey() != same.DedupKey() {
		t.Error("a retry of the same event must have the same key")
	}
	if len(base.DedupKey()) != 64 {
		t.Errorf("key length %d", len(base.DedupKey()))
	}
	for name, other := range map[string]domain.PushMessage{
		"another second":       {FromUserName: "o1", CreateTime: "1700000001", Event: domain.PushEventSubscribePopup},
		"another user":         {FromUserName: "o2", CreateTime: "1700000000", Event: domain.PushEventSubscribePopup},
		"another event":        {FromUserName: "o1", CreateTime: "1700000000", Event: domain.PushEventSubscribeChange},
		"another revoked user": {FromUserName: "o1", CreateTime: "1700000000", Event: domain.PushEventSubscribePopup, OpenID: "o9"},
		"another media check":  {FromUserName: "o1", CreateTime: "1700000000", Event: domain.PushEventSubscribePopup, Media: domain.MediaVerdict{TraceID: "t2"}},
	} {
		if other.DedupKey() == base.DedupKey() {
			t.Errorf("%s: same key", name)
		}
	}
	a := domain.PushMessage{MsgID: "42", FromUserName: "o1"}
	b := domain.PushMessage{MsgID: "42", FromUserName: "o1", CreateTime: "1"}
	if a.DedupKey() != b.DedupKey() {
		t.Error("a MsgId alone identifies a message")
	}
}
