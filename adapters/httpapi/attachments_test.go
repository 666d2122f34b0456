package httpapi_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/storagetest"
	"github.com/miniback/miniback/domain"
)

type attachmentBody struct {
	Upload     uploadBody `json:"upload"`
	AttachedAt time.Time  `json:"attached_at"`
}

type attachmentList struct {
	Items []attachmentBody `json:"items"`
}

// newTask creates a task of token's user and returns its id.
func (e *env) newTask(t *testing.T, token, title string) string {
	t.Helper()
	res := e.apiFor(t).JSON("POST", "/v1/todos", map[string]any{"title": title}, bearer(token))
	if res.Status != http.StatusCreated {
		t.Fatalf("create task: %s", res)
	}
	var td todo
	res.Decode(&td)
	return td.ID
}

// readyUpload takes a file of purpose through ticket, upload and complete.
func (e *env) readyUpload(t *testing.T, token, purpose, contentType string, data []byte) string {
	t.Helper()
	tk := e.ticket(t, token, purpose, contentType, len(data))
	if status, body := e.wxUpload(t, tk, nil, data); status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", status, body)
	}
	if status, _, code := e.complete(t, token, tk.ID); status != http.StatusOK {
		t.Fatalf("complete: %d %s", status, code)
	}
	return tk.ID
}

func (e *env) attach(t *testing.T, token, task, upload string) (int, attachmentBody, string) {
	t.Helper()
	res := e.apiFor(t).JSON("POST", "/v1/todos/"+task+"/attachments", map[string]string{"upload_id": upload}, bearer(token))
	var a attachmentBody
	if res.Status == http.StatusOK || res.Status == http.StatusCreated {
		res.Decode(&a)
		return res.Status, a, ""
	}
	return res.Status, a, res.Problem().Code
}

func (e *env) attachments(t *testing.T, token, task string) (int, attachmentList) {
	t.Helper()
	res := e.apiFor(t).Get("/v1/todos/"+task+"/attachments", bearer(token))
	var l attachmentList
	if res.Status == http.StatusOK {
		res.Decode(&l)
	}
	return res.Status, l
}

func TestAttachListAndDetachOnMyTask(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			task := e.newTask(t, alice, "send the report")
			doc := storagetest.Bytes(777)
			upload := e.readyUpload(t, alice, "attachment", "application/pdf", doc)

			status, a, code := e.attach(t, alice, task, upload)
			if status != http.StatusCreated || a.Upload.ID != upload || a.Upload.Status != "ready" || a.AttachedAt.IsZero() {
				t.Fatalf("attach: %d %s %+v", status, code, a)
			}
			// A retry is safe: the same attachment, 200.
			status, again, _ := e.attach(t, alice, task, upload)
			if status != http.StatusOK || !again.AttachedAt.Equal(a.AttachedAt) {
				t.Errorf("attach again: %d %+v", status, again)
			}

			status, list := e.attachments(t, alice, task)
			if status != http.StatusOK || len(list.Items) != 1 || list.Items[0].Upload.ID != upload || list.Items[0].Upload.DownloadURL == "" {
				t.Fatalf("list: %d %+v", status, list)
			}
			dl, _, got := e.toStorage(t, mustRequest(t, "GET", list.Items[0].Upload.DownloadURL))
			if dl != http.StatusOK || !bytes.Equal(got, doc) {
				t.Errorf("download of the attachment: %d, %d bytes", dl, len(got))
			}

			if res := e.apiFor(t).JSON("DELETE", "/v1/todos/"+task+"/attachments/"+upload, nil, bearer(alice)); res.Status != http.StatusNoContent {
				t.Fatalf("detach: %s", res)
			}
			if status, list := e.attachments(t, alice, task); status != http.StatusOK || len(list.Items) != 0 {
				t.Errorf("list after detach: %d %+v", status, list)
			}
			res := e.apiFor(t).JSON("DELETE", "/v1/todos/"+task+"/attachments/"+upload, nil, bearer(alice))
			if res.Status != http.StatusNotFound {
				t.Errorf("detach again: %s", res)
			}
			// The upload outlives its attachment and can be attached again.
			if u := e.getUpload(t, alice, upload); u.Status != "ready" {
				t.Errorf("upload after detach: %+v", u)
			}
			if status, _, code := e.attach(t, alice, task, upload); status != http.StatusCreated {
				t.Errorf("attach after detach: %d %s", status, code)
			}
		})
	}
}

func TestNobodyTouchesAnotherUsersTaskOrUpload(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	bob := e.login(t, "dev-bob").AccessToken
	aliceTask := e.newTask(t, alice, "alice's")
	bobTask := e.newTask(t, bob, "bob's")
	aliceFile := e.readyUpload(t, alice, "attachment", "text/plain", storagetest.Bytes(5))
	bobFile := e.readyUpload(t, bob, "attachment", "text/plain", storagetest.Bytes(5))
	if status, _, code := e.attach(t, alice, aliceTask, aliceFile); status != http.StatusCreated {
		t.Fatalf("alice attaches: %d %s", status, code)
	}

	for _, c := range []struct {
		name                string
		token, task, upload string
	}{
		{"bob attaches his file to alice's task", bob, aliceTask, bobFile},
		{"bob attaches alice's file to his task", bob, bobTask, aliceFile},
		{"alice attaches bob's file to her task", alice, aliceTask, bobFile},
		{"an unknown task", alice, "00000000-0000-4000-8000-000000000000", aliceFile},
		{"an unknown upload", alice, aliceTask, "00000000-0000-4000-8000-000000000000"},
	} {
		if status, _, code := e.attach(t, c.token, c.task, c.upload); status != http.StatusNotFound || code != "not_found" {
			t.Errorf("%s: %d %s", c.name, status, code)
		}
	}
	if status, _ := e.attachments(t, bob, aliceTask); status != http.StatusNotFound {
		t.Errorf("bob lists alice's attachments: %d", status)
	}
	if res := e.api.JSON("DELETE", "/v1/todos/"+aliceTask+"/attachments/"+aliceFile, nil, bearer(bob)); res.Status != http.StatusNotFound {
		t.Errorf("bob detaches alice's attachment: %s", res)
	}
	if status, list := e.attachments(t, alice, aliceTask); status != http.StatusOK || len(list.Items) != 1 {
		t.Errorf("alice's attachments after bob's tries: %d %+v", status, list)
	}
	if status, list := e.attachments(t, bob, bobTask); status != http.StatusOK || len(list.Items) != 0 {
		t.Errorf("bob's task: %d %+v", status, list)
	}
	if res := e.api.Get("/v1/todos/not-a-uuid/attachments", bearer(alice)); res.Status != http.StatusBadRequest {
		t.Errorf("malformed task id: %s", res)
	}
	if res := e.api.Get("/v1/todos/" + aliceTask + "/attachments"); res.Status != http.StatusUnauthorized {
		t.Errorf("no token: %s", res)
	}
}

func TestOnlyReadyAttachmentUploadsCanBeAttached(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	task := e.newTask(t, alice, "t")
	pending := e.ticket(t, alice, "attachment", "text/plain", 5)
	if status, _, code := e.attach(t, alice, task, pending.ID); status != http.StatusConflict || code != "upload_not_ready" {
		t.Errorf("pending upload: %d %s", status, code)
	}
	avatar := e.readyUpload(t, alice, "avatar", "image/png", storagetest.Bytes(5))
	if status, _, code := e.attach(t, alice, task, avatar); status != http.StatusUnprocessableEntity || code != "upload_wrong_purpose" {
		t.Errorf("avatar upload: %d %s", status, code)
	}
	if res := e.api.JSON("POST", "/v1/todos/"+task+"/attachments", map[string]string{"upload_id": "nope"}, bearer(alice)); res.Status != http.StatusBadRequest {
		t.Errorf("malformed upload id: %s", res)
	}
}

// TestConcurrentAttachesNeverPassTheLimit fills a task to one below the
// limit, then attaches several files at once: exactly one gets in.
func TestConcurrentAttachesNeverPassTheLimit(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	task := e.newTask(t, alice, "full")
	for range domain.MaxAttachmentsPerTodo - 1 {
		id := e.readyUpload(t, alice, "attachment", "text/plain", storagetest.Bytes(3))
		if status, _, code := e.attach(t, alice, task, id); status != http.StatusCreated {
			t.Fatalf("attach: %d %s", status, code)
		}
	}
	const racers = 5
	ids := make([]string, racers)
	for i := range ids {
		ids[i] = e.readyUpload(t, alice, "attachment", "text/plain", storagetest.Bytes(3))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for _, id := range ids {
		wg.Go(func() {
			status, _, code := e.attach(t, alice, task, id)
			mu.Lock()
			outcomes[http.StatusText(status)+" "+code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if outcomes["Created "] != 1 || outcomes["Conflict attachment_limit"] != racers-1 {
		t.Errorf("outcomes %v; want one Created and the rest attachment_limit", outcomes)
	}
	if status, list := e.attachments(t, alice, task); status != http.StatusOK || len(list.Items) != domain.MaxAttachmentsPerTodo {
		t.Errorf("the task holds %d attachments", len(list.Items))
	}
}

func TestDeletingATaskDetachesItsFilesButKeepsTheUploads(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	task := e.newTask(t, alice, "t")
	upload := e.readyUpload(t, alice, "attachment", "text/plain", storagetest.Bytes(5))
	e.attach(t, alice, task, upload)
	if res := e.api.JSON("DELETE", "/v1/todos/"+task, nil, bearer(alice)); res.Status != http.StatusNoContent {
		t.Fatalf("delete task: %s", res)
	}
	if status, _ := e.attachments(t, alice, task); status != http.StatusNotFound {
		t.Errorf("attachments of a deleted task: %d", status)
	}
	if u := e.getUpload(t, alice, upload); u.Status != "ready" {
		t.Errorf("upload after its task went: %+v", u)
	}
	other := e.newTask(t, alice, "another")
	if status, _, code := e.attach(t, alice, other, upload); status != http.StatusCreated {
		t.Errorf("attach to another task: %d %s", status, code)
	}
}
