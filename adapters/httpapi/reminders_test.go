package httpapi_test

import (
	"net/http"
	"testing"
)

// reminderTodo is a task's reminder members.
type reminderTodo struct {
	ID                  string `json:"id"`
	ReminderLeadMinutes *int   `json:"reminder_lead_minutes"`
	Reminder            *struct {
		State    string `json:"state"`
		RemindAt string `json:"remind_at"`
	} `json:"reminder"`
}

func TestAReminderLeadIsSetReadAndClearedThroughTheTaskRoutes(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	res := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "Pay rent", "due_at": "2099-03-01T18:00:00+08:00", "reminder_lead_minutes": 30}, auth)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: want 201\n%s", res)
	}
	var td reminderTodo
	res.Decode(&td)
	if td.ReminderLeadMinutes == nil || *td.ReminderLeadMinutes != 30 {
		t.Fatalf("lead %v", td.ReminderLeadMinutes)
	}
	res = e.api.Get("/v1/todos/"+td.ID, auth)
	res.Decode(&td)
	if td.ReminderLeadMinutes == nil || *td.ReminderLeadMinutes != 30 {
		t.Fatalf("read back: lead %v", td.ReminderLeadMinutes)
	}
	res = e.api.JSON("PATCH", "/v1/todos/"+td.ID, map[string]any{"reminder_lead_minutes": nil}, auth)
	if res.Status != http.StatusOK {
		t.Fatalf("clear: want 200\n%s", res)
	}
	var cleared reminderTodo
	res.Decode(&cleared)
	if cleared.ReminderLeadMinutes != nil {
		t.Fatalf("cleared lead %v", *cleared.ReminderLeadMinutes)
	}
}

func TestAReminderLeadOutsideZeroToAWeekIs400(t *testing.T) {
	e := newEnv(t)
	auth := e.signIn(t, "alice")
	for _, lead := range []int{-1, 10081} {
		res := e.api.JSON("POST", "/v1/todos", map[string]any{"title": "x", "reminder_lead_minutes": lead}, auth)
		if res.Status != http.StatusBadRequest {
			t.Errorf("lead %d: want 400\n%s", lead, res)
		}
	}
}
