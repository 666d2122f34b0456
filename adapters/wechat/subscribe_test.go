package wechat_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// reminderTo is a valid send of the simulator's reminder template to
// name in appA.
func reminderTo(name string) domain.SubscribeMessage {
	return domain.SubscribeMessage{AppID: string(appA), OpenID: wechatsim.OpenID(string(appA), name),
		TemplateID: wechatsim.DefaultReminderTemplateID, Page: "pages/task/task?id=7", MiniprogramState: "developer", Lang: "zh_CN",
		Data: map[string]string{"thing1": "交房租", "time2": "2026-03-01 18:00", "thing3": "无"}}
}

// subscribeRig is a guarded client (retries as deployed, no waiting) of a
// simulator where alice logged in to appA and may receive grants messages.
func subscribeRig(t *testing.T, grants int, hc *http.Client) (*rig, *wechat.API) {
	t.Helper()
	r := newRig(t)
	c := r.client(t, guarded(&sleeps{}, &frozenClock{now: time.Now()}), 0, hc)
	if _, err := c.Code2Session(context.Background(), appA, "dev-alice"); err != nil {
		t.Fatal(err)
	}
	r.sim.Grant(string(appA), wechatsim.OpenID(string(appA), "alice"), wechatsim.DefaultReminderTemplateID, grants)
	return r, c.API(wechat.NewProcessTokens(c))
}

func TestSendSubscribe_ReturnsWeChatsMsgIDAndSpendsOneGrant(t *testing.T) {
	r, api := subscribeRig(t, 1, nil)
	id, err := api.SendSubscribe(context.Background(), reminderTo("alice"))
	if err != nil {
		t.Fatal(err)
	}
	log := r.sim.SubscribeMessages()
	if len(log) != 1 || strconv.FormatInt(log[0].MsgID, 10) != id || log[0].Data["thing1"] != "交房租" || log[0].Page != "pages/task/task?id=7" {
		t.Errorf("msgid %q, delivered %+v", id, log)
	}
	if n := r.sim.Grants(string(appA), wechatsim.OpenID(string(appA), "alice"), wechatsim.DefaultReminderTemplateID); n != 0 {
		t.Errorf("grants left %d, want 0", n)
	}
}

// Each errcode maps to a code IsPermanentSendFailure classifies, and no
// failure is sent twice.
func TestSendSubscribe_MapsErrcodesToFinalOrRetryableFailures(t *testing.T) {
	tests := []struct {
		name      string
		grants    int
		inject    int // an errcode, 0 for none
		change    func(*domain.SubscribeMessage)
		code      domain.Code
		permanent bool
	}{
		{"no grant: 43101", 0, 0, nil, domain.CodeSubscribeRefused, true},
		{"a value too long: 47003", 1, 0, func(m *domain.SubscribeMessage) { m.Data["thing1"] = "123456789012345678901" }, domain.CodeSubscribeDataInvalid, true},
		{"an unknown user: 40003", 1, 0, func(m *domain.SubscribeMessage) { m.OpenID = wechatsim.OpenID(string(appA), "bob") }, domain.CodeSubscribeOpenIDInvalid, true},
		{"an unknown template: 40037", 1, 0, func(m *domain.SubscribeMessage) { m.TemplateID = "nope" }, domain.CodeSubscribeTemplateInvalid, true},
		{"an unknown page: 41030", 1, 0, func(m *domain.SubscribeMessage) { m.Page = "pages/nope/nope" }, domain.CodeSubscribePageInvalid, true},
		{"a bad state: 40097", 1, 0, func(m *domain.SubscribeMessage) { m.MiniprogramState = "release" }, domain.CodeSubscribeRejectedByWeChat, true},
		{"busy: -1", 1, -1, nil, domain.CodeWeChatBusy, false},
		{"quota: 45011", 1, 45011, nil, domain.CodeWeChatRateLimited, false},
		{"IP whitelist: 40164", 1, 40164, nil, domain.CodeWeChatMisconfigured, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, api := subscribeRig(t, tt.grants, nil)
			if tt.inject != 0 {
				r.sim.InjectError(wechatsim.APISubscribeSend, string(appA), tt.inject, 1)
			}
			m := reminderTo("alice")
			if tt.change != nil {
				tt.change(&m)
			}
			_, err := api.SendSubscribe(context.Background(), m)
			if got := domain.ErrorCode(err); got != tt.code {
				t.Errorf("code %s (%v), want %s", got, err, tt.code)
			}
			if got := domain.IsPermanentSendFailure(err); got != tt.permanent {
				t.Errorf("IsPermanentSendFailure = %v, want %v", got, tt.permanent)
			}
			if n := r.sim.CallsTo(wechatsim.APISubscribeSend); n != 1 {
				t.Errorf("sent %d times, want once", n)
			}
		})
	}
}

// The guard's retry-safety row for subscribe send: only a request that
// never left is sent again; -1, HTTP 5xx and a lost answer are not, as
// the first may have delivered and spent the grant.
func TestSendSubscribe_IsNeverReplayedOnceItMayHaveReachedWeChat(t *testing.T) {
	const path = "/cgi-bin/message/subscribe/send"
	tests := []struct {
		fault     string
		calls     int
		ok        bool
		delivered int
	}{
		{"refused", 1, true, 1},
		{"busy", 1, false, 0},
		{"503", 1, false, 0},
		{"500", 1, false, 0},
		{"502", 1, false, 0},
		{"lost", 1, false, 1}, // WeChat delivered; the answer was lost
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			var refuseNext atomic.Bool
			var r *rig
			hc := &http.Client{Transport: &http.Transport{
				DisableKeepAlives: true,
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					var d net.Dialer
					if refuseNext.Swap(false) {
						return d.DialContext(ctx, network, r.refused)
					}
					return d.DialContext(ctx, network, addr)
				},
			}}
			r, api := subscribeRig(t, 2, hc)
			switch tt.fault {
			case "refused":
				// The token fetch dials first: refuse the send's dial.
				m := reminderTo("alice")
				m.TemplateID = "warm-up" // 40037, but the token is fetched
				_, _ = api.SendSubscribe(context.Background(), m)
				refuseNext.Store(true)
			case "busy":
				r.sim.InjectError(wechatsim.APISubscribeSend, string(appA), -1, 1)
			case "503":
				r.sim.InjectStatus(wechatsim.APISubscribeSend, string(appA), http.StatusServiceUnavailable, 1)
			case "500":
				r.sim.InjectStatus(wechatsim.APISubscribeSend, string(appA), http.StatusInternalServerError, 1)
			case "502":
				r.sim.InjectStatus(wechatsim.APISubscribeSend, string(appA), http.StatusBadGateway, 1)
			case "lost":
				r.front.dropNext(path, 1)
			}
			before := r.sim.CallsTo(wechatsim.APISubscribeSend)
			_, err := api.SendSubscribe(context.Background(), reminderTo("alice"))
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want success %v", err, tt.ok)
			}
			if err != nil && domain.IsPermanentSendFailure(err) {
				t.Errorf("%v is permanent; a later try may succeed", err)
			}
			if n := r.sim.CallsTo(wechatsim.APISubscribeSend) - before; n != tt.calls {
				t.Errorf("reached WeChat %d times, want %d", n, tt.calls)
			}
			if n := len(r.sim.SubscribeMessages()); n != tt.delivered {
				t.Errorf("delivered %d, want %d", n, tt.delivered)
			}
		})
	}
}
