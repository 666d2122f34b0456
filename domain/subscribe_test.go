package domain_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/miniback/miniback/domain"
)

func reminderTemplate(fields ...domain.TemplateField) domain.SubscribeTemplate {
	return domain.SubscribeTemplate{AppID: "wx1", Purpose: domain.SubscribePurposeReminder, ID: "TPL",
		Page: "pages/todo/detail?id={id}", State: "formal", Lang: "zh_CN", Fields: fields}
}

func TestRenderCutsAndFormatsEachValueToItsWeChatType(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"thing keeps a short title", "thing1", "Buy milk", "Buy milk"},
		{"thing cuts at 20 runes, not bytes", "thing1", strings.Repeat("买", 25), strings.Repeat("买", 20)},
		{"thing cuts mixed text by runes", "thing1", "交房租 pay the rent before Friday", "交房租 pay the rent bef"},
		{"thing leaves out emoji and keeps counting runes", "thing1", "🎉生日🎂party👨‍👩‍👧 at 8", "生日party at 8"},
		{"thing folds new lines and tabs into one space", "thing1", "line one\n\n\tline two", "line one line two"},
		{"thing of blanks is a placeholder", "thing1", " \n\t", "无"},
		{"thing of nothing is a placeholder", "thing1", "", "无"},
		{"thing of only emoji is a placeholder", "thing1", "🎉🎂", "无"},
		{"thing skips invalid UTF-8", "thing1", "a\xffb", "ab"},
		{"thing never ends in a space", "thing1", strings.Repeat("a", 19) + " b", strings.Repeat("a", 19)},
		{"short_thing cuts at 5", "short_thing2", "待办事项提醒", "待办事项提"},
		{"name of letters keeps 20", "name3", "Alexander Hamilton Jr Esq", "Alexander Hamilton J"},
		{"name of Chinese keeps 10", "name3", "欧阳司马诸葛上官东方西门", "欧阳司马诸葛上官东方"},
		{"name mixed keeps 10", "name3", "Li 小龙 Bruce Lee", "Li 小龙 Bruc"},
		{"phrase keeps Chinese only, 5 of them", "phrase4", "已完成 done 的任务", "已完成的任"},
		{"phrase with no Chinese is a placeholder", "phrase4", "done", "无"},
		{"character_string keeps printable ASCII", "character_string5", "订单 No. A-1234/5", "No.A-1234/5"},
		{"character_string cuts at 32", "character_string5", strings.Repeat("x", 40), strings.Repeat("x", 32)},
		{"number keeps digits and one point", "number6", "12.50.3 kg", "12.503"},
		{"number cuts at 32 digits", "number6", strings.Repeat("9", 40), strings.Repeat("9", 32)},
		{"number of no digits is 0", "number6", "many", "0"},
		{"letter keeps ASCII letters", "letter7", "ab-12 cd é", "abcd"},
		{"letter of none is a placeholder", "letter7", "123", "N"},
		{"symbol keeps 5 ASCII symbols", "symbol8", "a!b@c#d$e%f^", "!@#$%"},
		{"amount is a currency symbol and digits", "amount9", "8.88", "¥8.88"},
		{"amount cuts at 10 digits", "amount9", "123456789012", "¥1234567890"},
		{"phone keeps digits, + and -", "phone_number10", "+86 (0766) 6688-8866", "+8607666688-8866"},
		{"car number keeps 8", "car_number11", "粤A 8Z888挂X", "粤A8Z888挂"},
		{"time is 24-hour in the value's own offset", "time12", "2026-11-27T09:05:00+08:00", "2026-11-27 09:05"},
		{"time in UTC stays UTC", "time12", "2026-11-27T01:05:00Z", "2026-11-27 01:05"},
		{"date in the value's own offset", "date13", "2026-11-27T23:30:00-05:00", "2026-11-27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := reminderTemplate(domain.TemplateField{Key: tt.key, Source: "title"})
			got, err := tpl.Render(map[string]string{"title": tt.value})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got[tt.key] != tt.want {
				t.Errorf("%s from %q = %q, want %q", tt.key, tt.value, got[tt.key], tt.want)
			}
			if !utf8.ValidString(got[tt.key]) {
				t.Errorf("%q is not valid UTF-8", got[tt.key])
			}
		})
	}
}

func TestRenderRefusesTimesAndNumbersItCannotMakeValid(t *testing.T) {
	tests := []struct{ key, value string }{
		{"time1", ""},
		{"time1", "tomorrow"},
		{"date1", "2026-11-27"}, // not RFC 3339
		{"time1", strings.Repeat("9", 100)},
		{"phone_number1", "call me"},
		{"car_number1", "  "},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value[:min(len(tt.value), 12)], func(t *testing.T) {
			tpl := reminderTemplate(domain.TemplateField{Key: tt.key, Source: "due_at"})
			if got, err := tpl.Render(map[string]string{"due_at": tt.value}); err == nil {
				t.Errorf("Render = %v, want an error", got)
			}
		})
	}
}

func TestRenderTakesLiteralsAndSourcesAndLeavesOutNothing(t *testing.T) {
	tpl := reminderTemplate(
		domain.TemplateField{Key: "thing1", Source: "title"},
		domain.TemplateField{Key: "time2", Source: "due_at"},
		domain.TemplateField{Key: "thing3", Source: "=任务快到期了 Task due soon"},
		domain.TemplateField{Key: "thing4", Source: "notes"},
	)
	got, err := tpl.Render(map[string]string{"title": "交房租", "due_at": "2026-11-27T09:00:00+08:00"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"thing1": "交房租", "time2": "2026-11-27 09:00", "thing3": "任务快到期了 Task due soon", "thing4": "无"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Render = %v, want %v", got, want)
	}
	m, err := tpl.Message("openid-1", "task-42", map[string]string{"title": "x", "due_at": "2026-11-27T09:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Page != "pages/todo/detail?id=task-42" || m.TemplateID != "TPL" || m.OpenID != "openid-1" || m.AppID != "wx1" ||
		m.MiniprogramState != "formal" || m.Lang != "zh_CN" || m.Data["thing1"] != "x" {
		t.Errorf("Message = %+v", m)
	}
}

// A hostile value costs what a short one does: each type reads only as
// much of it as its result needs (times refuse anything long).
func TestRenderOfAOneMebibyteValueIsCheap(t *testing.T) {
	huge := map[string]string{}
	for i, s := range []string{"a", "买", "🎉", " ", "\xff", "9", "."} {
		huge[fmt.Sprint(i)] = strings.Repeat(s, (1<<20)/len(s))
	}
	for _, key := range []string{"thing1", "short_thing1", "name1", "phrase1", "character_string1", "number1",
		"letter1", "symbol1", "amount1", "phone_number1", "car_number1", "time1", "date1"} {
		for name, v := range huge {
			tpl := reminderTemplate(domain.TemplateField{Key: key, Source: "title"})
			got, _ := tpl.Render(map[string]string{"title": v})
			if len(got[key]) > 200 {
				t.Errorf("%s from 1 MiB of %s: %d bytes", key, name, len(got[key]))
			}
		}
	}
}

func BenchmarkRenderOneMebibyteThing(b *testing.B) {
	tpl := reminderTemplate(domain.TemplateField{Key: "thing1", Source: "title"}, domain.TemplateField{Key: "phrase2", Source: "title"})
	v := map[string]string{"title": strings.Repeat("🎉", (1<<20)/4)} // all skipped: the worst case reads every rune
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, err := tpl.Render(v); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidateRefusesABrokenTemplateConfiguration(t *testing.T) {
	ok := reminderTemplate(domain.TemplateField{Key: "thing1", Source: "title"}, domain.TemplateField{Key: "time2", Source: "due_at"})
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	tests := map[string]func(*domain.SubscribeTemplate){
		"no appid":           func(t *domain.SubscribeTemplate) { t.AppID = "" },
		"no id":              func(t *domain.SubscribeTemplate) { t.ID = "" },
		"no purpose":         func(t *domain.SubscribeTemplate) { t.Purpose = "" },
		"page with a slash":  func(t *domain.SubscribeTemplate) { t.Page = "/pages/x" },
		"bad state":          func(t *domain.SubscribeTemplate) { t.State = "release" },
		"bad lang":           func(t *domain.SubscribeTemplate) { t.Lang = "fr" },
		"no fields":          func(t *domain.SubscribeTemplate) { t.Fields = nil },
		"unknown type":       func(t *domain.SubscribeTemplate) { t.Fields = []domain.TemplateField{{Key: "stuff1", Source: "title"}} },
		"key without number": func(t *domain.SubscribeTemplate) { t.Fields = []domain.TemplateField{{Key: "thing", Source: "title"}} },
		"unknown source":     func(t *domain.SubscribeTemplate) { t.Fields = []domain.TemplateField{{Key: "thing1", Source: "owner"}} },
		"key listed twice":   func(t *domain.SubscribeTemplate) { t.Fields = append(t.Fields, t.Fields[0]) },
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			bad := ok
			bad.Fields = append([]domain.TemplateField(nil), ok.Fields...)
			breakIt(&bad)
			if err := bad.Validate(); err == nil {
				t.Error("Validate = nil, want an error")
			}
		})
	}
}

func TestIsPermanentSendFailureTellsFinalFromRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&domain.Error{Code: domain.CodeSubscribeRefused}, true},          // 43101
		{&domain.Error{Code: domain.CodeSubscribeDataInvalid}, true},      // 47003
		{&domain.Error{Code: domain.CodeSubscribeOpenIDInvalid}, true},    // 40003
		{&domain.Error{Code: domain.CodeSubscribeTemplateInvalid}, true},  // 40037
		{&domain.Error{Code: domain.CodeSubscribePageInvalid}, true},      // 41030
		{&domain.Error{Code: domain.CodeSubscribeRejectedByWeChat}, true}, // another request error
		{fmt.Errorf("send: %w", &domain.Error{Code: domain.CodeSubscribeRefused}), true},
		{&domain.Error{Code: domain.CodeUnknownApp}, true},         // the app left the configuration
		{&domain.Error{Code: domain.CodeWeChatBusy}, false},        // -1
		{&domain.Error{Code: domain.CodeWeChatRateLimited}, false}, // 45011
		{&domain.Error{Code: domain.CodeWeChatTimeout}, false},
		{&domain.Error{Code: domain.CodeWeChatUnreachable}, false},
		{&domain.Error{Code: domain.CodeWeChatBadResponse}, false}, // 5xx, garbled
		{&domain.Error{Code: domain.CodeWeChatUnavailable}, false}, // open breaker
		{&domain.Error{Code: domain.CodeWeChatMisconfigured}, false},
		{context.DeadlineExceeded, false},
		{errors.New("network"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := domain.IsPermanentSendFailure(tt.err); got != tt.want {
			t.Errorf("IsPermanentSendFailure(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestSubscribeValuesShowTheTaskInTheUsersOffset(t *testing.T) {
	shanghai := time.FixedZone("", 8*3600)
	due := time.Date(2026, 11, 27, 9, 30, 0, 0, shanghai)
	task := domain.Todo{ID: "t1", Title: "交房租", Notes: "n", DueAt: &due, CreatedAt: time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)}
	v := domain.SubscribeValues(task)
	want := map[string]string{"title": "交房租", "notes": "n", "due_at": "2026-11-27T09:30:00+08:00", "created_at": "2026-11-27T07:00:00+08:00"}
	if fmt.Sprint(v) != fmt.Sprint(want) {
		t.Errorf("SubscribeValues = %v, want %v", v, want)
	}
	got, err := reminderTemplate(domain.TemplateField{Key: "time1", Source: "due_at"}, domain.TemplateField{Key: "date2", Source: "created_at"}).Render(v)
	if err != nil || got["time1"] != "2026-11-27 09:30" || got["date2"] != "2026-11-27" {
		t.Errorf("Render = %v, %v", got, err)
	}
	if v := domain.SubscribeValues(domain.Todo{Title: "x"}); len(v) != 2 {
		t.Errorf("no times: %v", v)
	}
}
