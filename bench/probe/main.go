// Command probe is the limit miniback is measured against: net/http and a
// pgx/v5 pool serving miniback's hot routes with the very statements
// miniback sends (sql.go), in the same transactions, and nothing else: no
// token checks (the caller names its user in X-User-ID), no validation, no
// logging, JSON by encoding/json. Whatever miniback costs beyond the probe
// is its own overhead: routing, auth, validation, mapping, logging.
//
//	go run ./bench/probe -addr 127.0.0.1:8090 -db postgres://...
//
// bench/load starts it next to miniback on the same database. It also
// serves GET /debug/vars (Mallocs and friends) for allocations per request.
// It is a measuring tool, not a server: never expose it.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	dbURL := flag.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL of a migrated miniback database (default $DATABASE_URL)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, dbURL string) error {
	if dbURL == "" {
		return errors.New("-db or DATABASE_URL is required")
	}
	// miniback's pool, as postgres.Open makes it: the same size
	// (postgres.DefaultMaxConns, or the URL's pool_max_conns), the same
	// statement cache.
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("pool: %w", err)
	}
	defer db.Close()
	pool := db.Pool()
	srv := &http.Server{Addr: addr, Handler: newHandler(pool), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// probe holds the pool the handlers share.
type probe struct {
	db *pgxpool.Pool
}

func newHandler(pool *pgxpool.Pool) http.Handler {
	p := &probe{db: pool}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/me", p.me)
	mux.HandleFunc("GET /v1/todos", p.listTodos)
	mux.HandleFunc("GET /v1/todos/{id}", p.getTodo)
	mux.HandleFunc("POST /v1/todos", p.createTodo)
	mux.HandleFunc("PATCH /v1/todos/{id}", p.updateTodo)
	mux.HandleFunc("POST /v1/auth/wechat", p.loginWeChat)
	mux.HandleFunc("POST /v1/auth/refresh", p.refresh)
	mux.HandleFunc("GET /debug/vars", debugVars)
	return mux
}

// Session lifetimes: miniback's defaults (MINIBACK_REFRESH_*_TTL).
const (
	idleTTL     = 720 * time.Hour
	absoluteTTL = 2160 * time.Hour
	accessTTL   = 15 * time.Minute
)

// --- users

type userJSON struct {
	ID          uuid.UUID  `json:"id"`
	Nickname    string     `json:"nickname"`
	AvatarURL   string     `json:"avatar_url"`
	Bio         string     `json:"bio"`
	Role        string     `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	HasPassword bool       `json:"has_password"`
	Username    *string    `json:"username,omitempty"`
	Email       *string    `json:"email,omitempty"`
	Phone       *phoneJSON `json:"phone,omitempty"`
}

type phoneJSON struct {
	BoundAt         time.Time `json:"bound_at"`
	CountryCode     string    `json:"country_code"`
	PhoneNumber     string    `json:"phone_number"`
	PurePhoneNumber string    `json:"pure_phone_number"`
}

// phoneCols are the users row's phone columns, all NULL without a number.
type phoneCols struct {
	countryCode, pure, number, appID pgtype.Text
	boundAt                          pgtype.Timestamptz
}

// dest lists the columns' scan targets, in the table's order.
func (c *phoneCols) dest() []any {
	return []any{&c.countryCode, &c.pure, &c.number, &c.appID, &c.boundAt}
}

func (c *phoneCols) json() *phoneJSON {
	if !c.pure.Valid {
		return nil
	}
	return &phoneJSON{BoundAt: c.boundAt.Time.UTC(), CountryCode: c.countryCode.String, PhoneNumber: c.number.String, PurePhoneNumber: c.pure.String}
}

// scanUser reads the columns of GetUser and friends: the user, then its
// password login's username, email and has_password.
func scanUser(row pgx.Row) (userJSON, error) {
	var u userJSON
	var username, email string
	var phone phoneCols
	dest := append([]any{&u.ID, &u.Nickname, &u.AvatarURL, &u.Bio, &u.CreatedAt, &u.UpdatedAt, &u.Role}, phone.dest()...)
	err := row.Scan(append(dest, &username, &email, &u.HasPassword)...)
	u.Phone = phone.json()
	if u.HasPassword {
		u.Username, u.Email = &username, &email
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

func (p *probe) me(w http.ResponseWriter, r *http.Request) {
	uid, ok := userID(w, r)
	if !ok {
		return
	}
	u, err := scanUser(p.db.QueryRow(r.Context(), sqlGetUser, uid))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// --- tasks

type todoRow struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	Title       string
	Notes       string
	DueAt       pgtype.Timestamptz
	DueOffset   pgtype.Int4
	Priority    int16
	Done        bool
	CompletedAt pgtype.Timestamptz
	Tags        []string
	Version     int32
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func scanTodo(row pgx.Row) (todoRow, error) {
	var t todoRow
	err := row.Scan(&t.ID, &t.UserID, &t.Title, &t.Notes, &t.DueAt, &t.DueOffset, &t.Priority, &t.Done,
		&t.CompletedAt, &t.Tags, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

type todoJSON struct {
	ID          uuid.UUID  `json:"id"`
	Title       string     `json:"title"`
	Notes       string     `json:"notes"`
	DueAt       *string    `json:"due_at"`
	Priority    string     `json:"priority"`
	Done        bool       `json:"done"`
	CompletedAt *time.Time `json:"completed_at"`
	Tags        []string   `json:"tags"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int        `json:"version"`
}

var priorities = []string{"low", "normal", "high"}

// toJSON renders a task as miniback does: the due time in the offset it was
// given, every other time in UTC.
func (t todoRow) toJSON() todoJSON {
	out := todoJSON{
		ID: t.ID, Title: t.Title, Notes: t.Notes, Done: t.Done, Tags: t.Tags,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(), Version: int(t.Version),
	}
	if int(t.Priority) < len(priorities) && t.Priority >= 0 {
		out.Priority = priorities[t.Priority]
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if t.DueAt.Valid {
		due := t.DueAt.Time.In(time.FixedZone("", int(t.DueOffset.Int32))).Format(time.RFC3339Nano)
		out.DueAt = &due
	}
	if t.CompletedAt.Valid {
		c := t.CompletedAt.Time.UTC()
		out.CompletedAt = &c
	}
	return out
}

func etag(version int32) string { return `"v` + strconv.Itoa(int(version)) + `"` }

func (p *probe) getTodo(w http.ResponseWriter, r *http.Request) {
	uid, ok := userID(w, r)
	if !ok {
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		http.Error(w, "bad id", http.StatusNotFound)
		return
	}
	t, err := scanTodo(p.db.QueryRow(r.Context(), sqlGetTodo, id, uid))
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, http.StatusOK, t.toJSON())
}

// draft is a create's body.
type draft struct {
	Title    string    `json:"title"`
	Notes    string    `json:"notes"`
	DueAt    *string   `json:"due_at"`
	Priority *string   `json:"priority"`
	Done     bool      `json:"done"`
	Tags     *[]string `json:"tags"`
}

// createArgs are CreateTodo's parameters for the draft d of user uid.
func createArgs(uid uuid.UUID, d draft) ([]any, error) {
	prio := int16(1)
	if d.Priority != nil {
		for i, p := range priorities {
			if p == *d.Priority {
				prio = int16(i)
			}
		}
	}
	tags := []string{}
	if d.Tags != nil {
		tags = *d.Tags
	}
	var due pgtype.Timestamptz
	var offset pgtype.Int4
	if d.DueAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *d.DueAt)
		if err != nil {
			return nil, err
		}
		_, off := t.Zone()
		due, offset = pgtype.Timestamptz{Time: t, Valid: true}, pgtype.Int4{Int32: int32(off), Valid: true}
	}
	var completed pgtype.Timestamptz
	if d.Done {
		completed = pgtype.Timestamptz{Time: time.Now(), Valid: true}
	}
	return []any{uid, d.Title, d.Notes, due, offset, prio, d.Done, completed, tags}, nil
}

func (p *probe) createTodo(w http.ResponseWriter, r *http.Request) {
	uid, ok := userID(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var d draft
	if err := json.Unmarshal(body, &d); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	args, err := createArgs(uid, d)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		t, err := scanTodo(p.db.QueryRow(ctx, sqlCreateTodo, args...))
		if err != nil {
			fail(w, err)
			return
		}
		created(w, t.Version, t.toJSON())
		return
	}
	// miniback's CreateTodoOnce: forget the user's expired keys, claim
	// this one, create and record the result, in one transaction.
	now := time.Now()
	hash := sha256.Sum256(body)
	var (
		result   []byte
		version  int32
		replayed bool
	)
	err = pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlForgetUserIdempotencyKeys, uid, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, sqlClaimIdempotencyKey, uid, key, hash[:], now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var reqHash []byte
			replayed = true
			return tx.QueryRow(ctx, sqlGetIdempotencyKey, uid, key).Scan(&reqHash, &result)
		}
		t, err := scanTodo(tx.QueryRow(ctx, sqlCreateTodo, args...))
		if err != nil {
			return err
		}
		version = t.Version
		if result, err = json.Marshal(t.toJSON()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlSetIdempotencyKeyResult, result, uid, key)
		return err
	})
	if err != nil {
		fail(w, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		var t todoJSON
		_ = json.Unmarshal(result, &t)
		version = int32(t.Version)
	}
	w.Header().Set("ETag", etag(version))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(result)
}

func created(w http.ResponseWriter, version int32, t todoJSON) {
	w.Header().Set("ETag", etag(version))
	w.Header().Set("Location", "/v1/todos/"+t.ID.String())
	writeJSON(w, http.StatusCreated, t)
}

// patch is a merge patch of the fields the load test changes.
type patch struct {
	Title *string `json:"title"`
	Notes *string `json:"notes"`
	Done  *bool   `json:"done"`
}

func (p *probe) updateTodo(w http.ResponseWriter, r *http.Request) {
	uid, ok := userID(w, r)
	if !ok {
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		http.Error(w, "bad id", http.StatusNotFound)
		return
	}
	var ch patch
	if err := json.NewDecoder(r.Body).Decode(&ch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ifMatch := r.Header.Get("If-Match")
	ctx := r.Context()
	var out todoRow
	errStale := errors.New("precondition failed")
	// miniback's UpdateTodo: lock the row, check If-Match against its
	// version, write the next version, in one transaction.
	err = pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		t, err := scanTodo(tx.QueryRow(ctx, sqlGetTodoForUpdate, id, uid))
		if err != nil {
			return err
		}
		if ifMatch != "" && ifMatch != "*" && ifMatch != etag(t.Version) {
			return errStale
		}
		if ch.Title != nil {
			t.Title = *ch.Title
		}
		if ch.Notes != nil {
			t.Notes = *ch.Notes
		}
		if ch.Done != nil && *ch.Done != t.Done {
			t.Done = *ch.Done
			t.CompletedAt = pgtype.Timestamptz{Time: time.Now(), Valid: t.Done}
		}
		out, err = scanTodo(tx.QueryRow(ctx, sqlUpdateTodo, t.Title, t.Notes, t.DueAt, t.DueOffset, t.Priority,
			t.Done, t.CompletedAt, t.Tags, t.Version+1, id, uid))
		return err
	})
	if errors.Is(err, errStale) {
		http.Error(w, "If-Match does not hold", http.StatusPreconditionFailed)
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(out.Version))
	writeJSON(w, http.StatusOK, out.toJSON())
}

// --- lists

type pageJSON struct {
	Items      []todoJSON `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// cursor is where a page ended. The probe's cursors are unsigned:
// "<kind>.<µs>.<µs>.<uuid>", kind d (dated, due then created) or u (undated).
type cursor struct {
	undated bool
	due     time.Time
	created time.Time
	id      uuid.UUID
}

func (c cursor) String() string {
	kind := "d"
	if c.undated {
		kind = "u"
	}
	return kind + "." + strconv.FormatInt(c.due.UnixMicro(), 10) + "." + strconv.FormatInt(c.created.UnixMicro(), 10) + "." + c.id.String()
}

func parseCursor(s string) (cursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return cursor{}, errors.New("bad cursor")
	}
	due, err1 := strconv.ParseInt(parts[1], 10, 64)
	created, err2 := strconv.ParseInt(parts[2], 10, 64)
	id, err3 := uuid.Parse(parts[3])
	if err := errors.Join(err1, err2, err3); err != nil {
		return cursor{}, err
	}
	return cursor{undated: parts[0] == "u", due: time.UnixMicro(due).UTC(), created: time.UnixMicro(created).UTC(), id: id}, nil
}

func (p *probe) listTodos(w http.ResponseWriter, r *http.Request) {
	uid, ok := userID(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := 20
	if s := q.Get("limit"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	var done pgtype.Bool
	if s := q.Get("done"); s != "" {
		done = pgtype.Bool{Bool: s == "true", Valid: true}
	}
	var after *cursor
	if s := q.Get("cursor"); s != "" {
		c, err := parseCursor(s)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		after = &c
	}
	sort := q.Get("sort")
	var rows []todoRow
	var err error
	switch sort {
	case "", "-created_at", "created_at":
		rows, err = p.listByCreated(r.Context(), uid, done, sort != "created_at", after, limit+1)
	case "due_at", "-due_at":
		rows, err = p.listByDue(r.Context(), uid, done, sort == "-due_at", after, limit+1)
	default:
		http.Error(w, "the probe sorts by created_at and due_at only", http.StatusBadRequest)
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	page := pageJSON{Items: make([]todoJSON, 0, min(len(rows), limit))}
	for i, t := range rows {
		if i == limit {
			last := rows[limit-1]
			c := cursor{undated: !last.DueAt.Valid, due: last.DueAt.Time, created: last.CreatedAt, id: last.ID}
			next := c.String()
			page.NextCursor = &next
			break
		}
		page.Items = append(page.Items, t.toJSON())
	}
	writeJSON(w, http.StatusOK, page)
}

// listStatements are the statements of a walk by [after a cursor][done
// filter], as miniback's TodoStore picks them.
type listStatements [2][2]string

var (
	listCreatedAscSQL  = listStatements{{listCreatedAsc, listCreatedAscDone}, {listCreatedAscAfter, listCreatedAscAfterDone}}
	listCreatedDescSQL = listStatements{{listCreatedDesc, listCreatedDescDone}, {listCreatedDescAfter, listCreatedDescAfterDone}}
	listDueAscSQL      = listStatements{{listDueAsc, listDueAscDone}, {listDueAscAfter, listDueAscAfterDone}}
	listDueDescSQL     = listStatements{{listDueDesc, listDueDescDone}, {listDueDescAfter, listDueDescAfterDone}}
	listUndatedAscSQL  = listStatements{{listUndatedAsc, listUndatedAscDone}, {listUndatedAscAfter, listUndatedAscAfterDone}}
	listUndatedDescSQL = listStatements{{listUndatedDesc, listUndatedDescDone}, {listUndatedDescAfter, listUndatedDescAfterDone}}
)

// walk runs one walk as miniback does: the statement for the predicates in
// use, its parameters in order (the user, the keyset start after a cursor,
// done when set, the row count), in the pool's exec mode, as miniback
// runs these shapes (prepared, so PostgreSQL keeps their generic plan).
func (p *probe) walk(ctx context.Context, sql listStatements, uid uuid.UUID, after []any, done pgtype.Bool, rows int) ([]todoRow, error) {
	args := append([]any{uid}, after...)
	var withDone int
	if done.Valid {
		args, withDone = append(args, done.Bool), 1
	}
	var withAfter int
	if after != nil {
		withAfter = 1
	}
	args = append(args, int32(rows))
	rs, err := p.db.Query(ctx, sql[withAfter][withDone], args...)
	if err != nil {
		return nil, err
	}
	// miniback's list statements also say whether each task has a reminder
	// (the probe reads the flag and, like a page without reminders, no more).
	return pgx.CollectRows(rs, func(row pgx.CollectableRow) (todoRow, error) {
		var t todoRow
		var reminded bool
		err := row.Scan(&t.ID, &t.UserID, &t.Title, &t.Notes, &t.DueAt, &t.DueOffset, &t.Priority, &t.Done,
			&t.CompletedAt, &t.Tags, &t.Version, &t.CreatedAt, &t.UpdatedAt, &reminded)
		return t, err
	})
}

func (p *probe) listByCreated(ctx context.Context, uid uuid.UUID, done pgtype.Bool, desc bool, after *cursor, rows int) ([]todoRow, error) {
	sql := listCreatedAscSQL
	if desc {
		sql = listCreatedDescSQL
	}
	var start []any
	if after != nil {
		start = []any{after.created, after.id}
	}
	return p.walk(ctx, sql, uid, start, done, rows)
}

// listByDue walks the dated tasks by due time, then the undated tail by
// creation time, as miniback's listByDue.
func (p *probe) listByDue(ctx context.Context, uid uuid.UUID, done pgtype.Bool, desc bool, after *cursor, rows int) ([]todoRow, error) {
	var out []todoRow
	undatedFrom := after
	if after == nil || !after.undated {
		sql := listDueAscSQL
		if desc {
			sql = listDueDescSQL
		}
		var start []any
		if after != nil {
			start = []any{after.due, after.id}
		}
		var err error
		if out, err = p.walk(ctx, sql, uid, start, done, rows); err != nil {
			return nil, err
		}
		undatedFrom = nil
	}
	if len(out) >= rows {
		return out, nil
	}
	sql := listUndatedAscSQL
	if desc {
		sql = listUndatedDescSQL
	}
	var start []any
	if undatedFrom != nil {
		start = []any{undatedFrom.created, undatedFrom.id}
	}
	tail, err := p.walk(ctx, sql, uid, start, done, rows-len(out))
	if err != nil {
		return nil, err
	}
	return append(out, tail...), nil
}

// --- sessions

type tokensJSON struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        int       `json:"expires_in"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresIn int       `json:"refresh_expires_in"`
	User             *userJSON `json:"user,omitempty"`
	IsNewUser        *bool     `json:"is_new_user,omitempty"`
}

// newRefreshToken returns a token in miniback's format ("mbr_" and 32
// random bytes, base64url) and its SHA-256, which is what is stored.
func newRefreshToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	tok := "mbr_" + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	return tok, h[:]
}

// loginWeChat runs miniback's WeChat login statements: the user upsert
// (touch the identity, or create the user and its identity) in one
// transaction, then the session and its first refresh token in another.
// The code is read as the simulator reads it, without asking the
// simulator: the probe has no code2Session round trip.
func (p *probe) loginWeChat(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name, ok := strings.CutPrefix(req.Code, "dev-")
	if !ok || name == "" {
		http.Error(w, "the probe takes dev-<name> codes", http.StatusUnauthorized)
		return
	}
	appID := wechatsim.DefaultAppID
	openID, unionID := wechatsim.OpenID(appID, name), wechatsim.UnionID(name)
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	sessionKey := base64.StdEncoding.EncodeToString(key)
	ctx := r.Context()

	var user userJSON
	isNew := false
	err := pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, sqlTouchWeChatIdentity, sessionKey, pgtype.Text{String: unionID, Valid: true}, appID, openID).Scan(&id)
		if err == nil {
			user, err = scanUser(tx.QueryRow(ctx, sqlGetUser, id))
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var phone phoneCols // a new user has none
		err = tx.QueryRow(ctx, sqlCreateUser).Scan(append([]any{&user.ID, &user.Nickname, &user.AvatarURL, &user.Bio,
			&user.CreatedAt, &user.UpdatedAt, &user.Role}, phone.dest()...)...)
		if err != nil {
			return err
		}
		isNew = true
		return tx.QueryRow(ctx, sqlInsertWeChatIdentity, appID, openID, pgtype.Text{String: unionID, Valid: true}, user.ID, sessionKey).Scan(&id)
	})
	if err != nil {
		fail(w, err)
		return
	}
	now := time.Now()
	token, hash := newRefreshToken()
	err = pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		var sid uuid.UUID
		var skip sessionRow
		err := tx.QueryRow(ctx, sqlCreateSession, user.ID, appID, r.UserAgent(), now, now.Add(idleTTL), now.Add(absoluteTTL)).
			Scan(&sid, &skip.userID, &skip.appID, &skip.userAgent, &skip.createdAt, &skip.lastUsedAt, &skip.idle, &skip.absolute, &skip.revokedAt, &skip.revokeReason)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlInsertRefreshToken, hash, sid, int32(1), now)
		return err
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tokensJSON{
		AccessToken: user.ID.String(), TokenType: "Bearer", ExpiresIn: int(accessTTL.Seconds()),
		RefreshToken: token, RefreshExpiresIn: int(idleTTL.Seconds()), User: &user, IsNewUser: &isNew,
	})
}

// sessionRow is a sessions row, as miniback reads it back.
type sessionRow struct {
	userID, id            uuid.UUID
	appID, userAgent      string
	createdAt, lastUsedAt time.Time
	idle, absolute        time.Time
	revokedAt             pgtype.Timestamptz
	revokeReason          pgtype.Text
}

// refresh runs miniback's rotation: mark the presented token used, lock
// the session with its user, move the session on, store the next token,
// in one transaction. A used or unknown token is 401 (miniback goes on to
// revoke the session of a reused one; the load test never reuses one).
func (p *probe) refresh(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	old := sha256.Sum256([]byte(req.RefreshToken))
	next, nextHash := newRefreshToken()
	now := time.Now()
	ctx := r.Context()
	var idle time.Time
	var u userJSON
	errInvalid := errors.New("refresh token invalid or expired")
	err := pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		var sid uuid.UUID
		var gen int32
		if err := tx.QueryRow(ctx, sqlUseRefreshToken, now, old[:]).Scan(&sid, &gen); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errInvalid
			}
			return err
		}
		var s sessionRow
		var username, email string
		var phone phoneCols
		dest := append([]any{&s.id, &s.userID, &s.appID, &s.userAgent, &s.createdAt, &s.lastUsedAt, &s.idle, &s.absolute, &s.revokedAt, &s.revokeReason,
			&u.ID, &u.Nickname, &u.AvatarURL, &u.Bio, &u.CreatedAt, &u.UpdatedAt, &u.Role}, phone.dest()...)
		err := tx.QueryRow(ctx, sqlGetSessionAndUserForUpdate, sid).Scan(append(dest, &username, &email, &u.HasPassword)...)
		u.Phone = phone.json()
		if err != nil {
			return err
		}
		if s.revokedAt.Valid || !now.Before(s.idle) || !now.Before(s.absolute) {
			return errInvalid
		}
		idle = now.Add(idleTTL)
		if idle.After(s.absolute) {
			idle = s.absolute
		}
		var t sessionRow
		err = tx.QueryRow(ctx, sqlTouchSession, now, idle, r.UserAgent(), sid).Scan(
			&t.id, &t.userID, &t.appID, &t.userAgent, &t.createdAt, &t.lastUsedAt, &t.idle, &t.absolute, &t.revokedAt, &t.revokeReason)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlInsertRefreshToken, nextHash, sid, gen+1, now)
		return err
	})
	if errors.Is(err, errInvalid) {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tokensJSON{
		AccessToken: u.ID.String(), TokenType: "Bearer", ExpiresIn: int(accessTTL.Seconds()),
		RefreshToken: next, RefreshExpiresIn: int(idle.Sub(now).Seconds()),
	})
}

// --- plumbing

// userID reads X-User-ID: the probe trusts its caller.
func userID(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	id, err := uuid.Parse(r.Header.Get("X-User-ID"))
	if err != nil {
		http.Error(w, "X-User-ID must be a user id", http.StatusUnauthorized)
		return uuid.Nil, false
	}
	return id, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers a database error: no row is 404, anything else 500 with
// the error (the probe has no secrets and no clients).
func fail(w http.ResponseWriter, err error) {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		http.Error(w, "not found", http.StatusNotFound)
	case errors.As(err, &pgErr):
		http.Error(w, pgErr.Code+": "+pgErr.Message, http.StatusInternalServerError)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// debugVars answers miniback's /debug/vars shape with the counters
// bench/load reads.
func debugVars(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeJSON(w, http.StatusOK, map[string]any{
		"memstats": map[string]uint64{
			"Mallocs": ms.Mallocs, "Frees": ms.Frees, "TotalAlloc": ms.TotalAlloc,
			"HeapAlloc": ms.HeapAlloc, "HeapInuse": ms.HeapInuse, "Sys": ms.Sys,
		},
		"goroutines": runtime.NumGoroutine(),
	})
}
