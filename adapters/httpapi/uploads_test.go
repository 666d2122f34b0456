package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/storagetest"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Both storages, for the tests every adapter must pass.
var storages = []string{"local", "s3"}

type ticketBody struct {
	ID         string            `json:"id"`
	URL        string            `json:"url"`
	Fields     map[string]string `json:"fields"`
	FileField  string            `json:"file_field"`
	PutURL     string            `json:"put_url"`
	PutHeaders map[string]string `json:"put_headers"`
	ExpiresAt  time.Time         `json:"expires_at"`
	Upload     uploadBody        `json:"upload"`
}

type uploadBody struct {
	ID                string     `json:"id"`
	Purpose           string     `json:"purpose"`
	Status            string     `json:"status"`
	ContentType       string     `json:"content_type"`
	Size              int64      `json:"size"`
	FileName          string     `json:"file_name"`
	CreatedAt         time.Time  `json:"created_at"`
	ExpiresAt         *time.Time `json:"expires_at"`
	CompletedAt       *time.Time `json:"completed_at"`
	RejectReason      string     `json:"reject_reason"`
	DownloadURL       string     `json:"download_url"`
	DownloadExpiresAt *time.Time `json:"download_expires_at"`
}

// ticket asks for an upload ticket and fails the test unless it gets one.
func (e *env) ticket(t *testing.T, token, purpose, contentType string, size int) ticketBody {
	t.Helper()
	res := e.apiFor(t).JSON("POST", "/v1/uploads",
		map[string]any{"purpose": purpose, "content_type": contentType, "size": size, "file_name": "wxfile://tmp_" + purpose},
		bearer(token))
	if res.Status != http.StatusCreated {
		t.Fatalf("ticket: %s", res)
	}
	var tk ticketBody
	res.Decode(&tk)
	return tk
}

// toStorage sends a request a ticket or a download URL describes: through
// the API (and its spec checks) when it points at the API server (the
// local storage), else over the network to the S3 server.
func (e *env) toStorage(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	if strings.HasPrefix(req.URL.String(), publicURL+"/") {
		res := e.apiFor(t).Do(req)
		return res.Status, res.Header, res.Body
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

// wxUpload sends data as wx.uploadFile does with the ticket.
func (e *env) wxUpload(t *testing.T, tk ticketBody, fields map[string]string, data []byte) (int, []byte) {
	t.Helper()
	if fields == nil {
		fields = tk.Fields
	}
	status, _, body := e.toStorage(t, storagetest.WxUploadFile(tk.URL, fields, tk.FileField, "wxfile://tmp_1.bin", "application/octet-stream", data))
	return status, body
}

func (e *env) put(t *testing.T, tk ticketBody, headers map[string]string, data []byte) (int, []byte) {
	t.Helper()
	if headers == nil {
		headers = tk.PutHeaders
	}
	status, _, body := e.toStorage(t, storagetest.Put(tk.PutURL, headers, data))
	return status, body
}

func (e *env) complete(t *testing.T, token, id string) (int, uploadBody, string) {
	t.Helper()
	res := e.apiFor(t).JSON("POST", "/v1/uploads/"+id+"/complete", nil, bearer(token))
	var u uploadBody
	if res.Status == http.StatusOK {
		res.Decode(&u)
		return res.Status, u, ""
	}
	return res.Status, u, res.Problem().Code
}

func (e *env) getUpload(t *testing.T, token, id string) uploadBody {
	t.Helper()
	res := e.apiFor(t).Get("/v1/uploads/"+id, bearer(token))
	if res.Status != http.StatusOK {
		t.Fatalf("GET upload: %s", res)
	}
	var u uploadBody
	res.Decode(&u)
	return u
}

// stored reports whether the storage holds the upload's object.
func (e *env) stored(t *testing.T, key string) bool {
	t.Helper()
	_, err := e.storage.StatObject(context.Background(), key)
	if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatal(err)
	}
	return err == nil
}

// keyOf finds an upload's object key (the API never shows it).
func (e *env) keyOf(t *testing.T, id string) string {
	t.Helper()
	u, err := e.uploads.Store.GetUpload(context.Background(), domain.UploadID(id))
	if err != nil {
		t.Fatal(err)
	}
	return u.Key
}

func TestUploadFlowFromTicketToDownload(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			photo := storagetest.Bytes(3000)

			tk := e.ticket(t, alice, "avatar", "Image/PNG", len(photo))
			if tk.ID != tk.Upload.ID || tk.FileField != "file" || tk.Upload.Status != "pending" ||
				tk.Upload.ContentType != "image/png" || tk.Upload.Size != 3000 || tk.Upload.FileName != "tmp_avatar" {
				t.Errorf("ticket = %+v", tk)
			}
			if tk.Upload.ExpiresAt == nil || tk.Upload.ExpiresAt.Sub(tk.Upload.CreatedAt) != pendingTTL {
				t.Errorf("pending deadline %v, created %v", tk.Upload.ExpiresAt, tk.Upload.CreatedAt)
			}
			if d := time.Until(tk.ExpiresAt); d <= ticketTTL-time.Minute || d > ticketTTL+time.Second {
				t.Errorf("ticket expires in %s", d)
			}
			if tk.Fields["Content-Type"] != "image/png" || !strings.HasPrefix(tk.Fields["key"], "avatar/"+tk.ID) || tk.PutHeaders["Content-Type"] != "image/png" {
				t.Errorf("fields %v, put headers %v", tk.Fields, tk.PutHeaders)
			}

			// Completing before the file arrived keeps the upload pending.
			if status, _, code := e.complete(t, alice, tk.ID); status != http.StatusConflict || code != "upload_not_received" {
				t.Errorf("early complete: %d %s", status, code)
			}
			if u := e.getUpload(t, alice, tk.ID); u.Status != "pending" || u.DownloadURL != "" {
				t.Errorf("after early complete: %+v", u)
			}

			if status, body := e.wxUpload(t, tk, nil, photo); status != http.StatusNoContent {
				t.Fatalf("wx.uploadFile: %d %s", status, body)
			}
			status, u, code := e.complete(t, alice, tk.ID)
			if status != http.StatusOK || u.Status != "ready" || u.CompletedAt == nil || u.DownloadURL == "" || u.ExpiresAt != nil {
				t.Fatalf("complete: %d %s %+v", status, code, u)
			}
			again := e.getUpload(t, alice, tk.ID)
			if again.Status != "ready" || !again.CompletedAt.Equal(*u.CompletedAt) {
				t.Errorf("GET after complete: %+v", again)
			}
			dl, _, got := e.toStorage(t, mustRequest(t, "GET", again.DownloadURL))
			if dl != http.StatusOK || !bytes.Equal(got, photo) {
				t.Errorf("download: %d, %d bytes", dl, len(got))
			}

			// The PUT of the same kind of ticket.
			doc := storagetest.Bytes(1234)
			tk2 := e.ticket(t, alice, "attachment", "application/pdf", len(doc))
			if status, body := e.put(t, tk2, nil, doc); status/100 != 2 {
				t.Fatalf("PUT: %d %s", status, body)
			}
			status, u2, code := e.complete(t, alice, tk2.ID)
			if status != http.StatusOK || u2.Status != "ready" || u2.Purpose != "attachment" {
				t.Fatalf("complete PUT upload: %d %s %+v", status, code, u2)
			}
			dl, header, got := e.toStorage(t, mustRequest(t, "GET", u2.DownloadURL))
			if dl != http.StatusOK || !bytes.Equal(got, doc) || header.Get("Content-Type") != "application/pdf" {
				t.Errorf("download of the PUT upload: %d %q, %d bytes", dl, header.Get("Content-Type"), len(got))
			}
		})
	}
}

func TestCompletingTwiceAnswersTheReadyUploadAgain(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	tk := e.ticket(t, alice, "attachment", "text/plain", 10)
	if status, body := e.wxUpload(t, tk, nil, storagetest.Bytes(10)); status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", status, body)
	}
	_, first, _ := e.complete(t, alice, tk.ID)
	status, second, code := e.complete(t, alice, tk.ID)
	if status != http.StatusOK || second.Status != "ready" || !second.CompletedAt.Equal(*first.CompletedAt) {
		t.Errorf("second complete: %d %s %+v", status, code, second)
	}
}

func TestTicketRequestsAreCheckedAgainstThePurposeRules(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	tests := []struct {
		name string
		body map[string]any
		want []string // "field:code"
	}{
		{"an avatar over the limit", map[string]any{"purpose": "avatar", "content_type": "image/jpeg", "size": 5<<20 + 1}, []string{"body.size:too_large"}},
		{"a PDF avatar", map[string]any{"purpose": "avatar", "content_type": "application/pdf", "size": 10}, []string{"body.content_type:not_allowed"}},
		{"an HTML attachment", map[string]any{"purpose": "attachment", "content_type": "text/html", "size": 10}, []string{"body.content_type:not_allowed"}},
		{"a wildcard type", map[string]any{"purpose": "attachment", "content_type": "image/*", "size": 10}, []string{"body.content_type:invalid_format"}},
		{"an empty file", map[string]any{"purpose": "attachment", "content_type": "text/plain", "size": 0}, []string{"body.size:out_of_range"}},
		{"an unknown purpose", map[string]any{"purpose": "banner", "content_type": "image/png", "size": 10}, []string{"body.purpose:invalid_value"}},
		{"a client-chosen key", map[string]any{"purpose": "avatar", "content_type": "image/png", "size": 10, "key": "../../etc/passwd"}, []string{"body.key:unknown_field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.apiFor(t).JSON("POST", "/v1/uploads", tt.body, bearer(alice))
			if res.Status != http.StatusBadRequest {
				t.Fatalf("%s", res)
			}
			p := res.Problem()
			var got []string
			if p.Errors != nil {
				for _, f := range *p.Errors {
					got = append(got, f.Field+":"+f.Code)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("field errors %v, want %v", got, tt.want)
			}
		})
	}
	if res := e.api.JSON("POST", "/v1/uploads", map[string]any{"purpose": "avatar", "content_type": "image/png", "size": 1}); res.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %s", res)
	}
}

func TestStorageRefusesFilesThatBreakTheTicket(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			tk := e.ticket(t, alice, "avatar", "image/jpeg", 2000)
			key := e.keyOf(t, tk.ID)

			cases := []struct {
				name string
				send func() (int, []byte)
			}{
				{"POST of a larger file", func() (int, []byte) { return e.wxUpload(t, tk, nil, storagetest.Bytes(2001)) }},
				{"POST of a smaller file", func() (int, []byte) { return e.wxUpload(t, tk, nil, storagetest.Bytes(1999)) }},
				{"POST with another content type", func() (int, []byte) {
					return e.wxUpload(t, tk, withField(tk.Fields, "Content-Type", "text/html"), storagetest.Bytes(2000))
				}},
				{"POST to another key", func() (int, []byte) {
					return e.wxUpload(t, tk, withField(tk.Fields, "key", "avatar/someone-else.jpg"), storagetest.Bytes(2000))
				}},
				{"PUT of a larger file", func() (int, []byte) { return e.put(t, tk, nil, storagetest.Bytes(2001)) }},
				{"PUT with another content type", func() (int, []byte) {
					return e.put(t, tk, map[string]string{"Content-Type": "text/html"}, storagetest.Bytes(2000))
				}},
			}
			for _, c := range cases {
				if status, body := c.send(); status < 400 || status >= 500 {
					t.Errorf("%s: %d %s", c.name, status, body)
				}
			}
			if e.stored(t, key) || e.stored(t, "avatar/someone-else.jpg") {
				t.Fatal("the storage kept a refused file")
			}
			if status, _, code := e.complete(t, alice, tk.ID); status != http.StatusConflict || code != "upload_not_received" {
				t.Errorf("complete: %d %s", status, code)
			}
		})
	}
}

func TestLocalStorageAnswersEachRefusalWithItsCode(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	tk := e.ticket(t, alice, "avatar", "image/jpeg", 2000)
	tests := []struct {
		name   string
		status int
		code   string
		send   func() (int, []byte)
	}{
		{"larger file", 422, "upload_size_mismatch", func() (int, []byte) { return e.wxUpload(t, tk, nil, storagetest.Bytes(2001)) }},
		{"changed content type field", 403, "upload_ticket_invalid", func() (int, []byte) {
			return e.wxUpload(t, tk, withField(tk.Fields, "Content-Type", "image/png"), storagetest.Bytes(2000))
		}},
		{"missing signature", 403, "upload_ticket_invalid", func() (int, []byte) {
			return e.wxUpload(t, tk, withField(tk.Fields, "signature", ""), storagetest.Bytes(2000))
		}},
		{"PUT with another type", 422, "upload_type_mismatch", func() (int, []byte) {
			return e.put(t, tk, map[string]string{"Content-Type": "image/png"}, storagetest.Bytes(2000))
		}},
		{"PUT of a smaller file", 422, "upload_size_mismatch", func() (int, []byte) { return e.put(t, tk, nil, storagetest.Bytes(10)) }},
		{"PUT with a forged size range", 403, "upload_ticket_invalid", func() (int, []byte) {
			forged := strings.Replace(tk.PutURL, "size_range=2000-2000", "size_range=1-9999999", 1)
			status, _, body := e.toStorage(t, storagetest.Put(forged, tk.PutHeaders, storagetest.Bytes(3000)))
			return status, body
		}},
		{"form without a file", 400, "validation_failed", func() (int, []byte) {
			req := storagetest.WxUploadFile(tk.URL, tk.Fields, "not-file", "a.jpg", "image/jpeg", storagetest.Bytes(2000))
			status, _, body := e.toStorage(t, req)
			return status, body
		}},
		{"JSON instead of a form", 415, "unsupported_media_type", func() (int, []byte) {
			res := e.apiFor(t).JSON("POST", "/v1/local-storage", map[string]string{"key": "x"})
			return res.Status, res.Body
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tt.send()
			if status != tt.status || !strings.Contains(string(body), `"code":"`+tt.code+`"`) {
				t.Errorf("got %d %s; want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}

func TestLocalStorageRefusesABodyOverTheUploadLimit(t *testing.T) {
	e := newEnv(t, withUploadRules(domain.UploadRules{
		domain.PurposeAvatar:     {Types: []string{"image/png"}, MaxBytes: 100},
		domain.PurposeAttachment: {Types: []string{"text/plain"}, MaxBytes: 100},
	}))
	alice := e.login(t, "dev-alice").AccessToken
	tk := e.ticket(t, alice, "avatar", "image/png", 100)
	// The PUT body is refused as soon as it passes the ticket's size.
	status, body := e.put(t, tk, nil, storagetest.Bytes(5<<20))
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "upload_size_mismatch") {
		t.Errorf("got %d %s", status, body)
	}
}

func TestExpiredTicketsAreRefused(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			// A ticket issued an hour ago expired 45 minutes ago.
			e.clock.Advance(-time.Hour)
			tk := e.ticket(t, alice, "attachment", "text/plain", 10)
			e.clock.Advance(time.Hour)

			status, body := e.wxUpload(t, tk, nil, storagetest.Bytes(10))
			if status != http.StatusForbidden {
				t.Errorf("POST with an expired ticket: %d %s", status, body)
			}
			if storage == "local" {
				if !strings.Contains(string(body), "upload_ticket_expired") {
					t.Errorf("POST: %s", body)
				}
				// S3's presigned PUT counts from the signing time on the
				// storage's clock; s3store's own tests wait one out.
				status, body := e.put(t, tk, nil, storagetest.Bytes(10))
				if status != http.StatusForbidden || !strings.Contains(string(body), "upload_ticket_expired") {
					t.Errorf("PUT with an expired ticket: %d %s", status, body)
				}
			}
			if e.stored(t, e.keyOf(t, tk.ID)) {
				t.Error("an expired ticket stored the file")
			}
		})
	}
}

func TestCompletingAfterTheDeadlineIsGone(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	tk := e.ticket(t, alice, "attachment", "text/plain", 10)
	if status, body := e.wxUpload(t, tk, nil, storagetest.Bytes(10)); status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", status, body)
	}
	e.clock.Advance(pendingTTL + time.Minute)
	if status, _, code := e.complete(t, alice, tk.ID); status != http.StatusGone || code != "upload_expired" {
		t.Errorf("late complete: %d %s", status, code)
	}
}

// putBehindTheTicket stores an object under the upload's key that breaks
// its ticket, as a storage that does not enforce policies (or someone
// with the bucket's keys) could.
func (e *env) putBehindTheTicket(t *testing.T, key, contentType string, data []byte) {
	t.Helper()
	ctx := context.Background()
	if e.s3 != nil {
		_, err := e.s3.Client.PutObject(ctx, e.s3.Bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: contentType})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	ls := e.storage.(*localstore.Store)
	tk, err := ls.PresignUpload(ctx, domain.ObjectSpec{Key: key, ContentType: contentType, Size: int64(len(data))}, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f := tk.Fields
	err = ls.Receive(ctx, localstore.SignedUpload{Key: f["key"], ContentType: f["Content-Type"], SizeRange: f["size_range"],
		Expires: f["expires"], Signature: f["signature"]}, contentType, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompleteRejectsAMismatchAndDeletesTheObject(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			for _, c := range []struct {
				name, storedType string
				storedSize       int
				code             string
			}{
				{"size", "image/png", 999, "upload_size_mismatch"},
				{"type", "image/gif", 1000, "upload_type_mismatch"},
			} {
				t.Run(c.name, func(t *testing.T) {
					tk := e.ticket(t, alice, "avatar", "image/png", 1000)
					key := e.keyOf(t, tk.ID)
					e.putBehindTheTicket(t, key, c.storedType, storagetest.Bytes(c.storedSize))

					if status, _, code := e.complete(t, alice, tk.ID); status != http.StatusUnprocessableEntity || code != c.code {
						t.Fatalf("complete: %d %s", status, code)
					}
					if e.stored(t, key) {
						t.Error("the rejected object is still stored")
					}
					if u := e.getUpload(t, alice, tk.ID); u.Status != "rejected" || u.RejectReason != c.code || u.DownloadURL != "" {
						t.Errorf("after rejection: %+v", u)
					}
					// Final: the same answer again, even with a good file now.
					e.putBehindTheTicket(t, key, "image/png", storagetest.Bytes(1000))
					if status, _, code := e.complete(t, alice, tk.ID); status != http.StatusUnprocessableEntity || code != c.code {
						t.Errorf("second complete: %d %s", status, code)
					}
					if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": tk.ID}, bearer(alice)); res.Status != http.StatusConflict || res.Problem().Code != "upload_not_ready" {
						t.Errorf("a rejected upload as avatar: %s", res)
					}
				})
			}
		})
	}
}

func TestOnlyTheOwnerSeesOrUsesAnUpload(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	bob := e.login(t, "dev-bob").AccessToken
	tk := e.ticket(t, alice, "avatar", "image/png", 10)
	if status, body := e.wxUpload(t, tk, nil, storagetest.Bytes(10)); status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", status, body)
	}

	// Bob can neither complete nor read alice's upload: 404 as for none.
	if status, _, code := e.complete(t, bob, tk.ID); status != http.StatusNotFound || code != "not_found" {
		t.Errorf("bob completes alice's upload: %d %s", status, code)
	}
	if status, u, _ := e.complete(t, alice, tk.ID); status != http.StatusOK || u.Status != "ready" {
		t.Fatalf("alice completes: %d %+v", status, u)
	}
	for _, token := range []string{bob} {
		if res := e.api.Get("/v1/uploads/"+tk.ID, bearer(token)); res.Status != http.StatusNotFound {
			t.Errorf("bob reads alice's upload: %s", res)
		}
		res := e.api.JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": tk.ID}, bearer(token))
		if res.Status != http.StatusNotFound {
			t.Errorf("bob takes alice's upload as avatar: %s", res)
		}
	}
	if res := e.api.Get("/v1/uploads/00000000-0000-4000-8000-000000000000", bearer(alice)); res.Status != http.StatusNotFound {
		t.Errorf("unknown id: %s", res)
	}
	if res := e.api.Get("/v1/uploads/not-a-uuid", bearer(alice)); res.Status != http.StatusBadRequest {
		t.Errorf("malformed id: %s", res)
	}
	if res := e.api.Get("/v1/uploads/" + tk.ID); res.Status != http.StatusUnauthorized {
		t.Errorf("no token: %s", res)
	}
}

func TestConcurrentCompletionsAgree(t *testing.T) {
	const callers = 8
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			good := e.ticket(t, alice, "attachment", "image/jpeg", 500)
			if status, body := e.wxUpload(t, good, nil, storagetest.Bytes(500)); status != http.StatusNoContent {
				t.Fatalf("upload: %d %s", status, body)
			}
			bad := e.ticket(t, alice, "attachment", "image/jpeg", 500)
			e.putBehindTheTicket(t, e.keyOf(t, bad.ID), "image/jpeg", storagetest.Bytes(400))

			for _, c := range []struct {
				id     string
				status int
				code   string
			}{{good.ID, http.StatusOK, ""}, {bad.ID, http.StatusUnprocessableEntity, "upload_size_mismatch"}} {
				var wg sync.WaitGroup
				type result struct {
					status    int
					code      string
					completed time.Time
				}
				results := make(chan result, callers)
				for range callers {
					wg.Go(func() {
						status, u, code := e.complete(t, alice, c.id)
						r := result{status: status, code: code}
						if u.CompletedAt != nil {
							r.completed = *u.CompletedAt
						}
						results <- r
					})
				}
				wg.Wait()
				close(results)
				var first *result
				for r := range results {
					if r.status != c.status || r.code != c.code {
						t.Errorf("a concurrent complete got %d %s; want %d %s", r.status, r.code, c.status, c.code)
					}
					if first == nil {
						first = &r
					} else if !r.completed.Equal(first.completed) {
						t.Errorf("completed_at differs between callers: %v and %v", r.completed, first.completed)
					}
				}
			}
		})
	}
}

// countingStorage counts deletions, to prove each expired upload is
// cleaned exactly once however many cleaners run.
type countingStorage struct {
	ports.ObjectStorage
	mu      sync.Mutex
	deletes map[string]int
}

func (c *countingStorage) DeleteObject(ctx context.Context, key string) error {
	c.mu.Lock()
	c.deletes[key]++
	c.mu.Unlock()
	return c.ObjectStorage.DeleteObject(ctx, key)
}

func TestCleanerDeletesExpiredUploadsWithTheirObjectsOnce(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken

			// Abandoned after the upload, abandoned before it, and ready.
			var abandoned []string
			for i := range 12 {
				tk := e.ticket(t, alice, "attachment", "text/plain", 5)
				if i%2 == 0 {
					if status, body := e.wxUpload(t, tk, nil, storagetest.Bytes(5)); status != http.StatusNoContent {
						t.Fatalf("upload: %d %s", status, body)
					}
				}
				abandoned = append(abandoned, tk.ID)
			}
			kept := e.ticket(t, alice, "attachment", "text/plain", 5)
			e.wxUpload(t, kept, nil, storagetest.Bytes(5))
			if status, _, code := e.complete(t, alice, kept.ID); status != http.StatusOK {
				t.Fatalf("complete: %d %s", status, code)
			}
			keys := map[string]string{}
			for _, id := range abandoned {
				keys[id] = e.keyOf(t, id)
			}

			// Nothing has expired yet.
			counting := &countingStorage{ObjectStorage: e.storage, deletes: map[string]int{}}
			cleaner := app.UploadCleaner{Store: e.uploads.Store, Storage: counting, Clock: e.clock, Batch: 5}
			if n, err := cleaner.CleanOnce(context.Background()); n != 0 || err != nil {
				t.Fatalf("clean before the deadline: %d, %v", n, err)
			}

			// Three replicas clean at once after the deadline.
			e.clock.Advance(pendingTTL + time.Second)
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			for range 3 {
				wg.Go(func() {
					n, err := cleaner.CleanOnce(context.Background())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				})
			}
			wg.Wait()
			if total != len(abandoned) {
				t.Errorf("cleaners deleted %d uploads, want %d", total, len(abandoned))
			}
			for id, key := range keys {
				if n := counting.deletes[key]; n != 1 {
					t.Errorf("object of %s deleted %d times", id, n)
				}
				if e.stored(t, key) {
					t.Errorf("object of %s is still stored", id)
				}
				if res := e.apiFor(t).Get("/v1/uploads/"+id, bearer(alice)); res.Status != http.StatusNotFound {
					t.Errorf("expired upload still there: %s", res)
				}
			}
			if u := e.getUpload(t, alice, kept.ID); u.Status != "ready" || !e.stored(t, e.keyOf(t, kept.ID)) {
				t.Errorf("the ready upload was cleaned: %+v", u)
			}
		})
	}
}

func TestAvatarFromAReadyUpload(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			picture := storagetest.Bytes(2048)
			tk := e.ticket(t, alice, "avatar", "image/webp", len(picture))
			if status, body := e.wxUpload(t, tk, nil, picture); status != http.StatusNoContent {
				t.Fatalf("upload: %d %s", status, body)
			}

			// Not before it is complete.
			res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": tk.ID}, bearer(alice))
			if res.Status != http.StatusConflict || res.Problem().Code != "upload_not_ready" {
				t.Errorf("pending upload as avatar: %s", res)
			}
			if status, _, code := e.complete(t, alice, tk.ID); status != http.StatusOK {
				t.Fatalf("complete: %d %s", status, code)
			}
			res = e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": tk.ID}, bearer(alice))
			if res.Status != http.StatusOK {
				t.Fatalf("PATCH avatar_upload_id: %s", res)
			}
			var u user
			res.Decode(&u)
			if u.AvatarURL != publicURL+"/v1/avatars/"+tk.ID {
				t.Fatalf("avatar_url = %q", u.AvatarURL)
			}

			// The stable link needs no token and redirects to the picture.
			link, err := url.Parse(u.AvatarURL)
			if err != nil {
				t.Fatal(err)
			}
			res = e.apiFor(t).Get(link.Path)
			if res.Status != http.StatusFound || res.Header.Get("Location") == "" {
				t.Fatalf("avatar link: %s", res)
			}
			status, header, got := e.toStorage(t, mustRequest(t, "GET", res.Header.Get("Location")))
			if status != http.StatusOK || !bytes.Equal(got, picture) || header.Get("Content-Type") != "image/webp" {
				t.Errorf("avatar picture: %d %q, %d bytes", status, header.Get("Content-Type"), len(got))
			}

			// An attachment is not an avatar; neither is a pending avatar.
			att := e.ticket(t, alice, "attachment", "image/png", 10)
			e.wxUpload(t, att, nil, storagetest.Bytes(10))
			e.complete(t, alice, att.ID)
			res = e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": att.ID}, bearer(alice))
			if res.Status != http.StatusUnprocessableEntity || res.Problem().Code != "upload_wrong_purpose" {
				t.Errorf("attachment as avatar: %s", res)
			}
			if res := e.apiFor(t).Get("/v1/avatars/" + att.ID); res.Status != http.StatusNotFound {
				t.Errorf("an attachment through the avatar link: %s", res)
			}
			pending := e.ticket(t, alice, "avatar", "image/png", 10)
			if res := e.apiFor(t).Get("/v1/avatars/" + pending.ID); res.Status != http.StatusNotFound {
				t.Errorf("a pending avatar through the avatar link: %s", res)
			}

			// avatar_url keeps working, but not together with an upload.
			res = e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": tk.ID, "avatar_url": "https://x.example.com/a.png"}, bearer(alice))
			if res.Status != http.StatusBadRequest {
				t.Errorf("both avatar fields: %s", res)
			}
			res = e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_url": "https://x.example.com/a.png"}, bearer(alice))
			if res.Status != http.StatusOK {
				t.Errorf("avatar_url: %s", res)
			}
		})
	}
}

func TestLocalStorageDownloadsNeedAValidSignature(t *testing.T) {
	e := newEnv(t)
	alice := e.login(t, "dev-alice").AccessToken
	tk := e.ticket(t, alice, "attachment", "text/plain", 10)
	e.wxUpload(t, tk, nil, storagetest.Bytes(10))
	_, u, _ := e.complete(t, alice, tk.ID)

	other := e.ticket(t, alice, "attachment", "text/plain", 10)
	e.wxUpload(t, other, nil, storagetest.Bytes(10))
	forged := strings.Replace(u.DownloadURL, url.QueryEscape(e.keyOf(t, tk.ID)), url.QueryEscape(e.keyOf(t, other.ID)), 1)
	if forged == u.DownloadURL {
		t.Fatal("could not forge the URL")
	}
	if status, _, body := e.toStorage(t, mustRequest(t, "GET", forged)); status != http.StatusForbidden {
		t.Errorf("download of another key with this signature: %d %s", status, body)
	}
	e.clock.Advance(dlTTL + time.Minute)
	if status, _, body := e.toStorage(t, mustRequest(t, "GET", u.DownloadURL)); status != http.StatusForbidden || !strings.Contains(string(body), "upload_ticket_expired") {
		t.Errorf("expired download URL: %d %s", status, body)
	}
}

func TestLocalStoragePathsAreAbsentWithS3(t *testing.T) {
	e := newEnv(t, withStorage("s3"))
	alice := e.login(t, "dev-alice").AccessToken
	tk := e.ticket(t, alice, "attachment", "text/plain", 10)
	if strings.HasPrefix(tk.URL, publicURL) || strings.HasPrefix(tk.PutURL, publicURL) {
		t.Errorf("an S3 ticket points at the API: %s %s", tk.URL, tk.PutURL)
	}
	req := storagetest.WxUploadFile(publicURL+"/v1/local-storage", map[string]string{"key": "attachment/x.txt"}, "file", "x.txt", "text/plain", storagetest.Bytes(10))
	if status, _, body := e.toStorage(t, req); status != http.StatusNotFound {
		t.Errorf("local-storage POST with S3: %d %s", status, body)
	}
}

func withField(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestDeletingAnAccountDeletesItsFiles: the uploads of a deleted account
// are nobody's at once (the avatar link stops working) and the cleaner
// deletes their objects on its next pass, ready ones included.
func TestDeletingAnAccountDeletesItsFiles(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			e := newEnv(t, withStorage(storage))
			alice := e.login(t, "dev-alice").AccessToken
			bob := e.login(t, "dev-bob").AccessToken
			avatar := e.readyUpload(t, alice, "avatar", "image/png", storagetest.Bytes(10))
			if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": avatar}, bearer(alice)); res.Status != http.StatusOK {
				t.Fatalf("set avatar: %s", res)
			}
			pending := e.ticket(t, alice, "attachment", "text/plain", 5)
			e.wxUpload(t, pending, nil, storagetest.Bytes(5))
			kept := e.readyUpload(t, bob, "attachment", "text/plain", storagetest.Bytes(5))
			keys := []string{e.keyOf(t, avatar), e.keyOf(t, pending.ID)}

			if res := e.apiFor(t).JSON("DELETE", "/v1/me", nil, bearer(alice)); res.Status != http.StatusNoContent {
				t.Fatalf("delete account: %s", res)
			}
			if res := e.apiFor(t).Get("/v1/avatars/" + avatar); res.Status != http.StatusNotFound {
				t.Errorf("the avatar link of a deleted account: %s", res)
			}
			cleaner := app.UploadCleaner{Store: e.uploads.Store, Storage: e.storage, Clock: e.clock}
			if n, err := cleaner.CleanOnce(context.Background()); n != 2 || err != nil {
				t.Errorf("cleaned %d, %v; want alice's 2 uploads", n, err)
			}
			for _, key := range keys {
				if e.stored(t, key) {
					t.Errorf("%s is still stored", key)
				}
			}
			if u := e.getUpload(t, bob, kept); u.Status != "ready" || !e.stored(t, e.keyOf(t, kept)) {
				t.Errorf("another user's upload was cleaned: %+v", u)
			}
		})
	}
}
