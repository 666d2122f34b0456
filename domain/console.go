package domain

// Console codes: the browser console's sign-in (POST /v1/console/...).
const (
	// CodeConsoleAdminRequired: the console is for administrators; the
	// account's password was right, but it has no admin role.
	CodeConsoleAdminRequired Code = "console_admin_required"
	// CodeCSRFRejected: a console request that is not provably from the
	// console's own page (no CSRF header, or a cross-site Origin or
	// Sec-Fetch-Site).
	CodeCSRFRejected Code = "csrf_rejected"
)

// ErrConsoleAdminRequired refuses a console sign-in (or refresh) of an
// account without the admin role.
var ErrConsoleAdminRequired = Errorf(CodeConsoleAdminRequired,
	"The console is for administrators; this account is not one.")

// ErrConsoleSignedOut answers a console refresh without a session cookie.
var ErrConsoleSignedOut = Errorf(CodeRefreshTokenInvalid, "There is no console session; sign in.")
