package domain

import (
	"errors"
	"testing"
)

func TestErrorMessageWordsABareCodeGenerically(t *testing.T) {
	cause := errors.New("no rows in result set")
	tests := []struct {
		err  error
		want string
	}{
		{&Error{Code: CodeNotFound, Err: cause}, "The record does not exist."},
		{&Error{Code: CodeConflict, Err: cause}, "The record already exists."},
		{&Error{Code: CodeUnavailable, Err: cause}, genericMessages[CodeUnavailable]},
		{&Error{Code: CodeTooManyAttempts}, "The request failed."},
		{ErrTodoNotFound(&Error{Code: CodeNotFound, Err: cause}), "The task does not exist."},
		{&Error{Code: CodeInternal, Message: "secret"}, "An internal error occurred."},
		{cause, "An internal error occurred."},
	}
	for _, tt := range tests {
		if got := ErrorMessage(tt.err); got != tt.want {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestErrorStringLeavesOutAMissingMessage(t *testing.T) {
	err := &Error{Code: CodeNotFound, Err: errors.New("no rows in result set")}
	if got := err.Error(); got != "not_found: no rows in result set" {
		t.Errorf("Error() = %q", got)
	}
	if got := ErrTodoNotFound(nil).Error(); got != "not_found: The task does not exist." {
		t.Errorf("Error() = %q", got)
	}
}
