package main

import (
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

func TestLoadConfigReadsSubscribeTemplatesPerApp(t *testing.T) {
	cfg, err := LoadConfig([]string{
		"MINIBACK_WECHAT_APPS=wxa:secret-a,wxb:secret-b",
		`MINIBACK_SUBSCRIBE_TEMPLATES=[{"appid":"wxa","purpose":"reminder","template_id":"TA","page":"pages/task/task?id={id}",
		  "state":"formal","lang":"zh_CN","fields":{"time2":"due_at","thing1":"title","thing3":"=Due soon"}},
		 {"appid":"wxb","purpose":"reminder","template_id":"TB","fields":{"thing1":"title"}}]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := cfg.SubscribeTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].AppID != "wxa" || ts[0].ID != "TA" || ts[0].Page != "pages/task/task?id={id}" || ts[0].State != "formal" ||
		len(ts[0].Fields) != 3 || ts[0].Fields[0] != (domain.TemplateField{Key: "thing1", Source: "title"}) ||
		ts[0].Fields[2] != (domain.TemplateField{Key: "time2", Source: "due_at"}) || ts[1].ID != "TB" {
		t.Errorf("templates = %+v", ts)
	}
}

func TestLoadConfigRefusesBadSubscribeTemplates(t *testing.T) {
	apps := "MINIBACK_WECHAT_APPS=wxa:secret-a"
	for _, tc := range []struct{ name, json, want string }{
		{"not JSON", `{`, "must be a JSON array"},
		{"unknown member", `[{"appid":"wxa","purpose":"reminder","template_id":"T","fields":{"thing1":"title"},"color":"red"}]`, "unknown field"},
		{"unknown type", `[{"appid":"wxa","purpose":"reminder","template_id":"T","fields":{"stuff1":"title"}}]`, `field "stuff1"`},
		{"unknown source", `[{"appid":"wxa","purpose":"reminder","template_id":"T","fields":{"thing1":"owner"}}]`, `source "owner"`},
		{"bad state", `[{"appid":"wxa","purpose":"reminder","template_id":"T","state":"prod","fields":{"thing1":"title"}}]`, "state"},
		{"app not served", `[{"appid":"wxz","purpose":"reminder","template_id":"T","fields":{"thing1":"title"}}]`, "appid wxz is not served"},
		{"two reminders", `[{"appid":"wxa","purpose":"reminder","template_id":"T","fields":{"thing1":"title"}},
			{"appid":"wxa","purpose":"reminder","template_id":"U","fields":{"thing1":"title"}}]`, "two templates for reminder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig([]string{apps, "MINIBACK_SUBSCRIBE_TEMPLATES=" + tc.json})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// With the simulator and nothing configured, a reminder template the
// simulator knows is set up, and it renders a task.
func TestSimulatorDefaultReminderTemplateRendersATask(t *testing.T) {
	tpl := simulatorReminderTemplate()
	if err := tpl.Validate(); err != nil {
		t.Fatal(err)
	}
	if tpl.AppID != wechatsim.DefaultAppID || tpl.ID != wechatsim.DefaultReminderTemplateID || tpl.Purpose != domain.SubscribePurposeReminder {
		t.Errorf("template = %+v", tpl)
	}
	for i, f := range tpl.Fields {
		if f.Key != wechatsim.DefaultReminderFields[i] {
			t.Errorf("field %d = %s, the simulator's is %s", i, f.Key, wechatsim.DefaultReminderFields[i])
		}
	}
	if _, err := tpl.Render(map[string]string{"title": "Buy milk", "due_at": "2026-11-27T09:00:00+08:00"}); err != nil {
		t.Error(err)
	}
}
