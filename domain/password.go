package domain

import (
	"bufio"
	_ "embed"
	"net/mail"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password-account limits. The spec documents them; these are the truth.
const (
	UsernameMinLen   = 3
	UsernameMaxLen   = 32
	EmailMaxLen      = 254 // RFC 5321's limit on a forward path
	EmailLocalMaxLen = 64
	PasswordMinRunes = 8
	PasswordMaxRunes = 128
)

// Password is a plain-text password on its way to the hasher. Like
// SessionKey it never prints: String, GoString and MarshalText hide it, and
// Reveal is the one way to the raw value.
type Password string

func (Password) String() string   { return "[redacted]" }
func (Password) GoString() string { return "[redacted]" }

// MarshalText keeps the password out of JSON and structured logs.
func (Password) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the password as typed.
func (p Password) Reveal() string { return string(p) }

// Normalized is the password as it is hashed and compared: Unicode NFKC,
// so the same characters typed on two keyboards (composed or decomposed,
// full-width or not) are the same password (NIST SP 800-63B 5.1.1.2).
func (p Password) Normalized() string { return norm.NFKC.String(string(p)) }

// PasswordHash is a password hash in PHC string format, e.g.
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". It is a secret too: it
// never leaves the server and never prints.
type PasswordHash string

func (PasswordHash) String() string   { return "[redacted]" }
func (PasswordHash) GoString() string { return "[redacted]" }

// MarshalText keeps the hash out of JSON and structured logs.
func (PasswordHash) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the PHC string, for the store and the hasher.
func (h PasswordHash) Reveal() string { return string(h) }

// Username is a password account's login name, normalised: trimmed and
// lower-cased, 3 to 32 characters of a-z, 0-9, "_", "." and "-", starting
// with a letter or digit. It cannot contain "@", so a login name with "@"
// is always an email.
type Username string

// Email is a normalised email address: trimmed and lower-cased.
type Email string

// ParseUsername normalises s and checks it against the username rules;
// field names the input in the error ("username").
func ParseUsername(field, s string) (Username, *FieldError) {
	u := strings.ToLower(strings.TrimSpace(s))
	switch {
	case u == "":
		return "", &FieldError{field, "required", field + " is required"}
	case utf8.RuneCountInString(u) < UsernameMinLen:
		return "", &FieldError{field, "too_short", field + " must be at least 3 characters"}
	case utf8.RuneCountInString(u) > UsernameMaxLen:
		return "", &FieldError{field, "too_long", field + " must be at most 32 characters"}
	}
	for i := range len(u) {
		c := u[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if i == 0 && !alnum {
			return "", &FieldError{field, "invalid_format", field + " must start with a letter or digit"}
		}
		if !alnum && c != '_' && c != '.' && c != '-' {
			return "", &FieldError{field, "invalid_characters", field + " may only contain letters, digits, \"_\", \".\" and \"-\""}
		}
	}
	return Username(u), nil
}

// ParseEmail trims and lower-cases s and checks that it is a bare address
// (local@domain, no display name or angle brackets) with a dotted domain.
func ParseEmail(field, s string) (Email, *FieldError) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", &FieldError{field, "required", field + " is required"}
	}
	if len(e) > EmailMaxLen {
		return "", &FieldError{field, "too_long", field + " must be at most 254 characters"}
	}
	invalid := &FieldError{field, "invalid_email", field + " must be an email address like name@example.com"}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Name != "" || addr.Address != e {
		return "", invalid
	}
	local, host, _ := strings.Cut(e, "@")
	if len(local) > EmailLocalMaxLen || strings.Count(e, "@") != 1 ||
		!strings.Contains(host, ".") || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") ||
		strings.HasPrefix(host, "[") {
		return "", invalid
	}
	return Email(e), nil
}

// LoginName is what a user types to log in: a username or an email,
// normalised alike (trimmed, lower-cased). It is never refused: a name that
// breaks the rules simply matches no account.
type LoginName struct {
	Value   string
	IsEmail bool
}

// ParseLoginName normalises s. A name with "@" is an email.
func ParseLoginName(s string) LoginName {
	v := strings.ToLower(strings.TrimSpace(s))
	return LoginName{Value: v, IsEmail: strings.Contains(v, "@")}
}

// CheckNewPassword applies the rules for a new password: 8 to 128
// characters, not one of the common passwords shipped in
// domain/passwords/common.txt, and not the account's username or email
// (both compared case-insensitively). The field error's code tells the
// client which rule it broke.
func CheckNewPassword(field string, p Password, username Username, email Email) *FieldError {
	folded := strings.ToLower(p.Normalized())
	switch n := utf8.RuneCountInString(string(p)); {
	case n == 0:
		return &FieldError{field, "required", field + " is required"}
	case n < PasswordMinRunes:
		return &FieldError{field, "too_short", field + " must be at least 8 characters"}
	case n > PasswordMaxRunes:
		return &FieldError{field, "too_long", field + " must be at most 128 characters"}
	case username != "" && folded == string(username):
		return &FieldError{field, "same_as_username", field + " must not be the username"}
	case email != "" && folded == string(email):
		return &FieldError{field, "same_as_email", field + " must not be the email address"}
	case isCommonPassword(folded):
		return &FieldError{field, "too_common", field + " is one of the most common passwords; choose another"}
	}
	return nil
}

// commonPasswordsFile is the list of common passwords; see its header for
// the source and licence.
//
//go:embed passwords/common.txt
var commonPasswordsFile string

// commonPasswords is the list as a set of lower-cased passwords, built on
// first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 20000)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

func isCommonPassword(folded string) bool {
	_, ok := commonPasswords()[folded]
	return ok
}

// CommonPasswordCount is how many passwords the common list holds.
func CommonPasswordCount() int { return len(commonPasswords()) }

// PasswordCredential is a user's password login: the names it answers to
// and the hash of the password.
type PasswordCredential struct {
	UserID   UserID
	Username Username
	Email    Email
	Hash     PasswordHash
}
