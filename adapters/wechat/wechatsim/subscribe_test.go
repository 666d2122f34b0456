package wechatsim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

const sendPath = "/cgi-bin/message/subscribe/send"

type sendReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	MsgID   int64  `json:"msgid"`
}

func decodeSend(t *testing.T, w *httptest.ResponseRecorder) sendReply {
	t.Helper()
	var r sendReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("reply %q: %v", w.Body, err)
	}
	return r
}

// reminder is a valid send of the default reminder template to alice.
func reminder(change func(map[string]any)) map[string]any {
	b := map[string]any{
		"touser": wechatsim.OpenID(appID, "alice"), "template_id": wechatsim.DefaultReminderTemplateID,
		"page": "pages/task/task?id=42", "miniprogram_state": "developer", "lang": "zh_CN",
		"data": map[string]any{
			"thing1": map[string]string{"value": "交房租"},
			"time2":  map[string]string{"value": "2026-03-01 18:00"},
			"thing3": map[string]string{"value": "at the bank"},
		},
	}
	if change != nil {
		change(b)
	}
	return b
}

func setValue(key, v string) func(map[string]any) {
	return func(b map[string]any) { b["data"].(map[string]any)[key] = map[string]string{"value": v} }
}

func TestSubscribeSendSpendsOneGrantPerMessageAndLogsIt(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	if r := decodeSend(t, post(t, s.sim, sendPath, s.token, reminder(nil))); r.ErrCode != 43101 || !strings.HasPrefix(r.ErrMsg, "user refuse to accept the msg rid: ") {
		t.Fatalf("send with no grant = %+v, want 43101", r)
	}
	s.sim.Grant(appID, alice, wechatsim.DefaultReminderTemplateID, 1)
	r := decodeSend(t, post(t, s.sim, sendPath, s.token, reminder(nil)))
	if r.ErrCode != 0 || r.ErrMsg != "ok" || r.MsgID == 0 {
		t.Fatalf("send = %+v, want a msgid", r)
	}
	if r := decodeSend(t, post(t, s.sim, sendPath, s.token, reminder(nil))); r.ErrCode != 43101 {
		t.Fatalf("second send on one grant = %+v, want 43101", r)
	}
	log := s.sim.SubscribeMessages()
	if len(log) != 1 || log[0].MsgID != r.MsgID || log[0].OpenID != alice || log[0].Data["thing1"] != "交房租" ||
		log[0].Page != "pages/task/task?id=42" || log[0].TemplateID != wechatsim.DefaultReminderTemplateID {
		t.Errorf("log = %+v", log)
	}
	if n := s.sim.CallsTo(wechatsim.APISubscribeSend); n != 3 {
		t.Errorf("CallsTo = %d, want 3", n)
	}
	w := httptest.NewRecorder()
	s.sim.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wechatsim/messages?appid="+appID+"&user=alice", nil))
	var got struct {
		Messages []wechatsim.SubscribeDelivery `json:"messages"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Messages) != 1 || got.Messages[0].Data["time2"] != "2026-03-01 18:00" {
		t.Errorf("GET /wechatsim/messages = %s", w.Body)
	}
}

func TestSubscribeSendRefusesLikeWeChatWithoutSpendingTheGrant(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	s.sim.AddSubscribeTemplate(appID, "TALL", "thing1", "short_thing2", "number3", "letter4", "symbol5", "character_string6",
		"phrase7", "name8", "time9", "date10", "amount11", "phone_number12", "car_number13")
	s.sim.Grant(appID, alice, wechatsim.DefaultReminderTemplateID, 1)
	decode(t, call(t, s.sim, query(otherApp, "other-secret", "dev-carol", "authorization_code")))
	tests := map[string]struct {
		body    any
		errcode int
		errmsg  string
	}{
		"body not JSON":            {"nope", 47001, "data format error"},
		"no touser":                {reminder(func(b map[string]any) { delete(b, "touser") }), 40003, "invalid openid"},
		"an openid never issued":   {reminder(func(b map[string]any) { b["touser"] = wechatsim.OpenID(appID, "bob") }), 40003, "invalid openid"},
		"another app's openid":     {reminder(func(b map[string]any) { b["touser"] = wechatsim.OpenID(otherApp, "carol") }), 40003, "invalid openid"},
		"unknown template":         {reminder(func(b map[string]any) { b["template_id"] = "nope" }), 40037, "invalid template_id"},
		"unpublished page":         {reminder(func(b map[string]any) { b["page"] = "pages/nope/nope" }), 41030, "invalid page"},
		"bad miniprogram_state":    {reminder(func(b map[string]any) { b["miniprogram_state"] = "release" }), 40097, "invalid args"},
		"bad lang":                 {reminder(func(b map[string]any) { b["lang"] = "fr_FR" }), 40097, "invalid args"},
		"a key missing":            {reminder(func(b map[string]any) { delete(b["data"].(map[string]any), "thing3") }), 47003, "argument invalid! data.thing3.value is empty"},
		"an empty thing":           {reminder(setValue("thing1", " ")), 47003, "argument invalid! data.thing1.value is empty"},
		"a thing of 21 characters": {reminder(setValue("thing1", strings.Repeat("买", 21))), 47003, "argument invalid! data.thing1.value exceeds limit"},
		"an emoji in a thing":      {reminder(setValue("thing1", "生日🎂")), 47003, "argument invalid! data.thing1.value invalid"},
		"a new line in a thing":    {reminder(setValue("thing1", "a\nb")), 47003, "argument invalid! data.thing1.value invalid"},
		"an RFC 3339 time":         {reminder(setValue("time2", "2026-03-01T18:00:00Z")), 47003, "argument invalid! data.time2.value invalid"},
		"a 25 o'clock time":        {reminder(setValue("time2", "2026-03-01 25:00")), 47003, "argument invalid! data.time2.value invalid"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := decodeSend(t, post(t, s.sim, sendPath, s.token, tt.body))
			if r.ErrCode != tt.errcode || !strings.HasPrefix(r.ErrMsg, tt.errmsg+" rid: ") {
				t.Errorf("send = %+v, want %d %q", r, tt.errcode, tt.errmsg)
			}
		})
	}
	if n := s.sim.Grants(appID, alice, wechatsim.DefaultReminderTemplateID); n != 1 {
		t.Errorf("grants left = %d, want the 1 no refused send spent", n)
	}
}

// WeChat's documented rules for each type, checked by the simulator.
func TestSubscribeSendChecksEachTypesRule(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	tests := []struct {
		key, value string
		ok         bool
	}{
		{"thing1", strings.Repeat("a", 20), true}, {"thing1", strings.Repeat("a", 21), false},
		{"short_thing1", "五个字以内", true}, {"short_thing1", "六个字就超了", false},
		{"number1", "12.5", true}, {"number1", "-3", true}, {"number1", "1e5", false}, {"number1", strings.Repeat("1", 33), false},
		{"letter1", "abcXYZ", true}, {"letter1", "abc1", false},
		{"symbol1", "!@#", true}, {"symbol1", "!a", false}, {"symbol1", "!!!!!!", false},
		{"character_string1", "A-1234/x.y", true}, {"character_string1", "中文", false}, {"character_string1", "a b", false},
		{"phrase1", "配送中", true}, {"phrase1", "ok", false}, {"phrase1", "一二三四五六", false},
		{"name1", "欧阳司马诸葛上官东方", true}, {"name1", "欧阳司马诸葛上官东方西", false},
		{"name1", "Alexander Hamilton J", true}, {"name1", "Alexander Hamilton Jr", false},
		{"time1", "15:01", true}, {"time1", "2019-10-01 15:01", true}, {"time1", "2019年10月1日 15:01", true}, {"time1", "3pm", false},
		{"date1", "2019-10-01", true}, {"date1", "2019年10月1日", true}, {"date1", "2019-10-01 15:01", true}, {"date1", "Oct 1", false},
		{"amount1", "¥8.88", true}, {"amount1", "8.88元", true}, {"amount1", "¥12345678901", false}, {"amount1", "lots", false},
		{"phone_number1", "+86-0766-66888866", true}, {"phone_number1", "call 110", false}, {"phone_number1", strings.Repeat("1", 18), false},
		{"car_number1", "粤A8Z888挂", true}, {"car_number1", "粤A8Z888挂X", false},
	}
	for i, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			id := "T" + string(rune('A'+i%26)) + tt.key
			s.sim.AddSubscribeTemplate(appID, id, tt.key)
			s.sim.Grant(appID, alice, id, 1)
			r := decodeSend(t, post(t, s.sim, sendPath, s.token, map[string]any{"touser": alice, "template_id": id,
				"data": map[string]any{tt.key: map[string]string{"value": tt.value}}}))
			if ok := r.ErrCode == 0; ok != tt.ok {
				t.Errorf("send of %s=%q = %+v, want accepted %v", tt.key, tt.value, r, tt.ok)
			}
		})
	}
}

// What the domain renders, the simulator (WeChat's rules, written apart)
// accepts, whatever the task's text.
func TestRenderedValuesPassTheSimulatorsChecks(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	keys := []string{"thing1", "short_thing2", "number3", "letter4", "symbol5", "character_string6", "phrase7", "name8",
		"time9", "date10", "amount11"}
	tpl := domain.SubscribeTemplate{AppID: appID, Purpose: "reminder", ID: "TALL", State: "formal", Lang: "zh_CN"}
	for _, k := range keys {
		src := "title"
		if k == "time9" || k == "date10" {
			src = "due_at"
		}
		tpl.Fields = append(tpl.Fields, domain.TemplateField{Key: k, Source: src})
	}
	s.sim.AddSubscribeTemplate(appID, "TALL", keys...)
	titles := []string{"", " ", "Buy milk", "交房租 pay the rent before Friday 🎉", strings.Repeat("🎂", 30), "a\x00b\nc\td",
		"12.50.3 ¥ 元", "!!!???***", strings.Repeat("长", 1000), "\u200d\ufe0f\u20e3", "Ünïcödé ñame", "Ⅻ ① ☃ ✅ ©"}
	for _, title := range titles {
		data, err := tpl.Render(map[string]string{"title": title, "due_at": "2026-03-01T18:00:00+08:00"})
		if err != nil {
			t.Fatalf("Render(%q): %v", title, err)
		}
		s.sim.Grant(appID, alice, "TALL", 1)
		body := map[string]any{"touser": alice, "template_id": "TALL", "miniprogram_state": tpl.State, "lang": tpl.Lang, "data": map[string]any{}}
		for k, v := range data {
			body["data"].(map[string]any)[k] = map[string]string{"value": v}
		}
		if r := decodeSend(t, post(t, s.sim, sendPath, s.token, body)); r.ErrCode != 0 {
			t.Errorf("title %q rendered %v: %+v", title, data, r)
		}
	}
}

func TestInjectedBusyAndQuotaAnswerBeforeTheGrantIsSpent(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	s.sim.Grant(appID, alice, wechatsim.DefaultReminderTemplateID, 1)
	s.sim.InjectError(wechatsim.APISubscribeSend, appID, -1, 1)
	s.sim.InjectError(wechatsim.APISubscribeSend, appID, 45011, 1)
	for _, want := range []int{-1, 45011, 0} {
		if r := decodeSend(t, post(t, s.sim, sendPath, s.token, reminder(nil))); r.ErrCode != want {
			t.Errorf("send = %+v, want errcode %d", r, want)
		}
	}
	if len(s.sim.SubscribeMessages()) != 1 {
		t.Errorf("delivered %d, want 1", len(s.sim.SubscribeMessages()))
	}
}

func TestUserSubscribeAddsAGrantPerAcceptAndPushesThePopupEvent(t *testing.T) {
	s := newSecSim(t)
	alice := wechatsim.OpenID(appID, "alice")
	var pushed []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		pushed = append(pushed, string(b[:n]))
		_, _ = w.Write([]byte("success"))
	}))
	defer receiver.Close()
	s.sim.SetPusher(appID, &wechatsim.Pusher{URL: receiver.URL, AppID: appID, Token: "tok"})

	choose := func(result string, ids ...string) map[string]any {
		b, _ := json.Marshal(map[string]any{"tmplIds": ids, "result": result})
		w := httptest.NewRecorder()
		s.sim.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechatsim/subscribe?appid="+appID+"&user=alice", strings.NewReader(string(b))))
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("POST /wechatsim/subscribe = %d %s", w.Code, w.Body)
		}
		return out
	}
	for range 2 {
		if out := choose("accept", wechatsim.DefaultReminderTemplateID); out[wechatsim.DefaultReminderTemplateID] != "accept" ||
			out["errMsg"] != "requestSubscribeMessage:ok" {
			t.Errorf("accept = %v", out)
		}
	}
	choose("reject", wechatsim.DefaultReminderTemplateID)
	if n := s.sim.Grants(appID, alice, wechatsim.DefaultReminderTemplateID); n != 2 {
		t.Errorf("grants = %d, want 2 (two accepts, one reject)", n)
	}
	if out := choose("accept", "nope"); out["errMsg"] != "requestSubscribeMessage:fail invalid template id" {
		t.Errorf("unknown template = %v", out)
	}
	if len(pushed) != 3 || !strings.Contains(pushed[0], `"Event":"subscribe_msg_popup_event"`) ||
		!strings.Contains(pushed[0], `"SubscribeStatusString":"accept"`) || !strings.Contains(pushed[2], `"SubscribeStatusString":"reject"`) {
		t.Errorf("pushed = %q", pushed)
	}
}
