package domain

import (
	"fmt"
	"mime"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// UploadID identifies an upload. It is a UUID in canonical text form,
// chosen by the server; the object key is derived from it.
type UploadID string

// UploadPurpose says what a file is for. Each purpose has its own rules.
type UploadPurpose string

const (
	PurposeAvatar     UploadPurpose = "avatar"
	PurposeAttachment UploadPurpose = "attachment"
)

// UploadStatus is where an upload is in its life.
type UploadStatus string

const (
	// UploadPending: a ticket was issued; the object may or may not exist.
	UploadPending UploadStatus = "pending"
	// UploadReady: the storage holds the object with the promised size and
	// type. Only ready uploads can be used.
	UploadReady UploadStatus = "ready"
	// UploadRejected: the object did not match the promise and was
	// deleted. Final.
	UploadRejected UploadStatus = "rejected"
)

// Upload codes.
const (
	CodeUploadNotReceived  Code = "upload_not_received"   // complete before the object arrived
	CodeUploadSizeMismatch Code = "upload_size_mismatch"  // the object's size is not the promised one
	CodeUploadTypeMismatch Code = "upload_type_mismatch"  // the object's content type is not the promised one
	CodeUploadExpired      Code = "upload_expired"        // complete after the upload's deadline
	CodeUploadNotReady     Code = "upload_not_ready"      // using an upload that is not ready
	CodeUploadWrongPurpose Code = "upload_wrong_purpose"  // using an upload for another purpose
	CodeUploadTicketBad    Code = "upload_ticket_invalid" // a storage ticket whose signature does not match
	CodeUploadTicketOld    Code = "upload_ticket_expired" // a storage ticket past its expiry
)

// Upload is a file a user sends straight to object storage.
type Upload struct {
	ID          UploadID
	Owner       UserID
	Purpose     UploadPurpose
	Status      UploadStatus
	Key         string // the object key, chosen by the server
	ContentType string // the promised media type, normalised
	Size        int64  // the promised size in bytes
	FileName    string // the client's name for the file; metadata only
	// RejectReason is the code complete answered when it rejected the
	// upload (CodeUploadSizeMismatch or CodeUploadTypeMismatch).
	RejectReason Code
	CreatedAt    time.Time
	// ExpiresAt is when a pending upload is deleted, with its object, if
	// it was not completed. Rejected uploads are deleted then too.
	ExpiresAt   time.Time
	CompletedAt time.Time // zero until ready
	// Blocked: content security judged the image risky, or an
	// administrator removed it. A blocked upload is not served and cannot
	// be used; its object stays, so an administrator can approve it.
	Blocked bool
}

// ObjectInfo is what the storage reports about a stored object.
type ObjectInfo struct {
	Size        int64
	ContentType string
}

// ObjectSpec is what an upload ticket fixes: the key, the content type and
// the exact size.
type ObjectSpec struct {
	Key         string
	ContentType string
	Size        int64
}

// UploadTicket tells a client how to send the object to the storage.
type UploadTicket struct {
	// URL and Fields are a POST policy: a multipart/form-data POST to URL
	// with Fields, then the file under FileField (wx.uploadFile).
	URL    string
	Fields map[string]string
	// PutURL and PutHeaders are a presigned PUT of the raw file.
	PutURL     string
	PutHeaders map[string]string
	ExpiresAt  time.Time
}

// FileField is the form field that carries the file in a POST upload
// (wx.uploadFile's name).
const FileField = "file"

// UploadRule is what one purpose accepts.
type UploadRule struct {
	Types    []string // allowed media types, normalised
	MaxBytes int64
}

// UploadRules holds the rule of every purpose.
type UploadRules map[UploadPurpose]UploadRule

// DefaultUploadRules are the rules when configuration sets none.
func DefaultUploadRules() UploadRules {
	return UploadRules{
		PurposeAvatar: {
			Types:    []string{"image/jpeg", "image/png", "image/webp"},
			MaxBytes: 5 << 20,
		},
		PurposeAttachment: {
			Types:    []string{"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf", "text/plain", "video/mp4"},
			MaxBytes: 20 << 20,
		},
	}
}

// MaxBytes is the largest size any purpose allows.
func (r UploadRules) MaxBytes() int64 {
	var m int64
	for _, rule := range r {
		m = max(m, rule.MaxBytes)
	}
	return m
}

// FileNameMaxBytes bounds an upload's file name.
const FileNameMaxBytes = 255

// UploadRequest is what a client asks to upload.
type UploadRequest struct {
	Purpose     UploadPurpose
	ContentType string
	Size        int64
	FileName    string
}

// Check normalises the request and checks it against the purpose's rule,
// reporting every broken rule at once.
func (r UploadRules) Check(req UploadRequest) (UploadRequest, error) {
	var bad []FieldError
	rule, known := r[req.Purpose]
	if !known {
		bad = append(bad, FieldError{"purpose", "invalid_value", "purpose is not one of the known purposes"})
	}
	ct, err := NormalizeContentType(req.ContentType)
	switch {
	case err != nil:
		bad = append(bad, FieldError{"content_type", "invalid_format", "content_type is not a media type"})
	case known && !slices.Contains(rule.Types, ct):
		bad = append(bad, FieldError{"content_type", "not_allowed",
			fmt.Sprintf("content_type must be one of %s for %s", strings.Join(rule.Types, ", "), req.Purpose)})
	}
	switch {
	case req.Size < 1:
		bad = append(bad, FieldError{"size", "out_of_range", "size must be at least 1 byte"})
	case known && req.Size > rule.MaxBytes:
		bad = append(bad, FieldError{"size", "too_large", fmt.Sprintf("size must be at most %d bytes for %s", rule.MaxBytes, req.Purpose)})
	}
	name := cleanFileName(req.FileName)
	if len(name) > FileNameMaxBytes {
		bad = append(bad, FieldError{"file_name", "too_long", "file_name must be at most 255 bytes"})
	}
	if len(bad) > 0 {
		return UploadRequest{}, Invalid(bad...)
	}
	return UploadRequest{Purpose: req.Purpose, ContentType: ct, Size: req.Size, FileName: name}, nil
}

// NormalizeContentType returns the media type of s in lower case without
// parameters ("Image/JPEG; x=y" is "image/jpeg").
func NormalizeContentType(s string) (string, error) {
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(s))
	if err != nil {
		return "", err
	}
	if !strings.Contains(mt, "/") || strings.Contains(mt, "*") {
		return "", fmt.Errorf("%q is not a concrete media type", mt)
	}
	return mt, nil
}

// cleanFileName keeps the last path element of a client's file name
// ("http://tmp/a/b.jpg" is "b.jpg") without control characters.
func cleanFileName(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\`, "/")
	if s == "" {
		return ""
	}
	s = path.Base(s)
	if s == "." || s == "/" || s == ".." {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return s
}

// extensions maps the media types miniback names objects after. Others get
// no extension: the key never takes one from the client.
var extensions = map[string]string{
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
	"image/webp":      ".webp",
	"image/gif":       ".gif",
	"image/heic":      ".heic",
	"application/pdf": ".pdf",
	"text/plain":      ".txt",
	"video/mp4":       ".mp4",
	"audio/mpeg":      ".mp3",
}

// ObjectKey is the storage key of an upload: the purpose, then the upload
// id, then an extension from the content type. Nothing of it comes from
// the client.
func ObjectKey(purpose UploadPurpose, id UploadID, contentType string) string {
	return string(purpose) + "/" + string(id) + extensions[contentType]
}

// NewUpload is a pending upload of a checked request.
func NewUpload(id UploadID, owner UserID, req UploadRequest, now time.Time, ttl time.Duration) Upload {
	return Upload{
		ID:          id,
		Owner:       owner,
		Purpose:     req.Purpose,
		Status:      UploadPending,
		Key:         ObjectKey(req.Purpose, id, req.ContentType),
		ContentType: req.ContentType,
		Size:        req.Size,
		FileName:    req.FileName,
		CreatedAt:   now,
		ExpiresAt:   now.Add(ttl),
	}
}

// Spec is what the upload's ticket fixes.
func (u Upload) Spec() ObjectSpec {
	return ObjectSpec{Key: u.Key, ContentType: u.ContentType, Size: u.Size}
}

// Verify decides a pending upload's fate from what the storage holds: ready
// when the object has the promised size and type, rejected otherwise.
func (u Upload) Verify(got ObjectInfo, now time.Time) Upload {
	gotType, err := NormalizeContentType(got.ContentType)
	switch {
	case got.Size != u.Size:
		u.Status, u.RejectReason = UploadRejected, CodeUploadSizeMismatch
	case err != nil || gotType != u.ContentType:
		u.Status, u.RejectReason = UploadRejected, CodeUploadTypeMismatch
	default:
		u.Status = UploadReady
		u.CompletedAt = now
	}
	return u
}

// Rejection is the error a rejected upload answers.
func (u Upload) Rejection() *Error {
	if u.RejectReason == CodeUploadTypeMismatch {
		return Errorf(CodeUploadTypeMismatch, "The stored file's content type is not %s; upload again with a new ticket.", u.ContentType)
	}
	return Errorf(CodeUploadSizeMismatch, "The stored file is not %d bytes; upload again with a new ticket.", u.Size)
}

// Usable checks that the upload can serve as purpose: ready and of that
// purpose.
func (u Upload) Usable(purpose UploadPurpose) error {
	if u.Status != UploadReady {
		return Errorf(CodeUploadNotReady, "The upload is %s; complete it first.", u.Status)
	}
	if u.Purpose != purpose {
		return Errorf(CodeUploadWrongPurpose, "The upload is for %s, not %s.", u.Purpose, purpose)
	}
	if u.Blocked {
		field := FieldAttachment
		if purpose == PurposeAvatar {
			field = FieldAvatar
		}
		return ErrContentRisky(field)
	}
	return nil
}

// ErrUploadNotFound is the answer for an unknown upload or someone else's.
func ErrUploadNotFound() *Error {
	return Errorf(CodeNotFound, "The upload does not exist.")
}

// MaxAttachmentsPerTodo bounds a task's attachments.
const MaxAttachmentsPerTodo = 20

// CodeAttachmentLimit: the task already holds MaxAttachmentsPerTodo files.
const CodeAttachmentLimit Code = "attachment_limit"

// Attachment is an upload attached to a task.
type Attachment struct {
	Upload     Upload
	AttachedAt time.Time
}

// ErrAttachmentLimit is the answer for one attachment too many.
func ErrAttachmentLimit() *Error {
	return Errorf(CodeAttachmentLimit, "A task holds at most %d attachments; detach one first.", MaxAttachmentsPerTodo)
}
