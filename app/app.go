package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// App is every use-case of one miniback instance, wired to one set of
// ports. A transport (adapters/httpapi) serves it; cmd/miniback and the
// HTTP tests both build it with New, so they cannot wire it differently.
type App struct {
	Login         WeChatLogin
	Sessions      Sessions
	Profiles      Profiles
	Phones        Phones
	Passwords     PasswordAccounts
	WeChatBinding WeChatBinding
	Todos         Todos
	Accounts      Accounts
	Admin         Admin
	// Audit is the log of admin actions: the admin operations on users
	// write to it in their own transactions; anything else an admin
	// changes (the job queue's retry and cancel, say) calls Record.
	Audit       *Audit
	Uploads     *Uploads
	Attachments Attachments
	// WxaCodes makes mini-program codes, cached in object storage.
	WxaCodes *WxaCodes
	// Moderation is content security: the checks Profiles, Todos and
	// Uploads run, the verdicts WeChat pushes (ApplyMediaVerdict), and
	// the administrators' list.
	Moderation *Moderation
	WeChatData WeChatData
	// Revocations is this instance's copy of the revocation feed: the
	// token check consults it, Sessions and Accounts note their own
	// revocations in it, and StartBackground keeps it fresh.
	Revocations *Revocations
	// UploadCleaner deletes expired uploads; StartBackground runs it.
	UploadCleaner UploadCleaner
	// Push receives WeChat's message push.
	Push Push
	// Console signs administrators in to the browser console.
	Console Console
	// Health is the console's health page.
	Health Health
	// Subscriptions records the users' answers to subscribe-message
	// popups and shows what is left of them.
	Subscriptions Subscriptions
	// Reminders sends the task reminders the job queue hands it.
	Reminders Reminders
	// Jobs is the job queue's administration.
	Jobs Jobs

	// What only the background work needs.
	clock    ports.Clock
	purger   SessionPurger
	listener RevocationListener
	schedule Schedule
}

// Ports are the adapters the use-cases run on. A user store usually
// serves Users, Binder, Deleter and UserAdmin, and a session store
// Sessions, RevocationFeed and SessionPurger; they are separate so a test
// can replace one of them.
type Ports struct {
	Clock     ports.Clock
	WeChat    ports.WeChatAuth
	Tokens    ports.TokenIssuer
	Users     ports.UserStore
	Binder    ports.WeChatBinder
	Deleter   ports.AccountDeleter
	UserAdmin ports.UserAdmin
	// AdminStore serves the admin operations on one user, AuditLog the
	// audit log, AccountStatus the logins' check for disabled accounts;
	// the PostgreSQL admin store serves all three.
	AdminStore    ports.AdminStore
	AuditLog      ports.AuditLog
	AccountStatus ports.AccountStatus

	Sessions       ports.SessionStore
	RevocationFeed ports.RevocationFeed

	// Credentials, Hasher and Throttle serve password accounts; they may
	// be nil when Options.PasswordAuth is off.
	Credentials ports.CredentialStore
	Hasher      ports.PasswordHasher
	Throttle    ports.AttemptThrottle

	Todos       ports.TodoStore
	Uploads     ports.UploadStore
	Storage     ports.ObjectStorage
	Attachments ports.AttachmentStore
	// AvatarLinks builds the stable link of an avatar upload.
	AvatarLinks ports.AvatarLinks
	// WxaCodeMaker calls WeChat's getwxacodeunlimit; Objects caches its
	// images (nil: no cache). Throttle, when set, bounds each user's new
	// codes.
	WxaCodeMaker ports.WxaCodeMaker
	Objects      ports.ObjectBytes
	// SessionKeys reads the WeChat session keys the user store keeps.
	SessionKeys ports.WeChatSessionKeys

	// WeChatPhone exchanges getPhoneNumber codes and Phones stores the
	// numbers; without them binding a phone fails as internal.
	WeChatPhone ports.WeChatPhone
	Phones      ports.PhoneStore
	// ContentChecker is WeChat's content security; nil checks nothing
	// whatever Options.Content says. Moderation keeps what it flags.
	ContentChecker ports.ContentChecker
	Moderation     ports.ModerationStore

	// SessionPurger deletes long-ended sessions and old revocations in
	// the background; nil leaves them.
	SessionPurger SessionPurger
	// RevocationListener wakes the revocation set whenever any instance
	// commits a revocation; nil relies on polling alone.
	RevocationListener RevocationListener

	// PushEvents records pushed messages and IdentitySessions ends the
	// sessions of a user who withdrew authorisation; nil when no push is
	// configured (Options.Push has no endpoints).
	PushEvents       ports.PushStore
	IdentitySessions ports.IdentitySessions
	// MediaVerdicts gets the verdicts of media checks WeChat pushes; nil
	// means the Moderation use-case (when Moderation is set), else they are
	// recorded only.
	MediaVerdicts MediaVerdicts

	// The health page's sources (Health); each may be nil. Database is
	// the database's ping and pool, WeChatStatus the WeChat client's
	// breakers and errcodes, WeChatTokens the shared access tokens (nil
	// on WeChat Cloud Hosting), Jobs the job queue's counts.
	Database     ports.DatabaseStatus
	WeChatStatus ports.WeChatStatus
	WeChatTokens ports.WeChatTokenReader
	Jobs         ports.JobCounter
	// Subscriptions keeps the users' subscribe-message grants; nil
	// leaves /v1/me/subscriptions failing as internal and pushed choices
	// recorded only as events.
	Subscriptions ports.SubscriptionStore
	// Reminders and SubscribeSender serve the reminder worker; nil leaves
	// Reminders.Deliver failing (the tasks still record their reminders).
	Reminders       ports.ReminderStore
	SubscribeSender ports.SubscribeSender
	// JobAdmin is the job queue for administrators (app.Jobs); nil: none.
	JobAdmin ports.JobAdmin
}

// SessionPurger deletes sessions that ended long before now and
// revocations no token can need any more (the PostgreSQL session store
// does), returning how many of each.
type SessionPurger interface {
	Purge(ctx context.Context, now time.Time) (sessions, revocations int64, err error)
}

// RevocationListener calls wake whenever a revocation commits on any
// instance, until ctx ends, reporting failures to onError (it reconnects
// by itself).
type RevocationListener interface {
	ListenRevocations(ctx context.Context, wake func(), onError func(error))
}

// Options are the deployment's settings for the use-cases.
type Options struct {
	// Apps are the mini-programs served.
	Apps Apps
	// CloudRun believes Cloud Hosting's identity headers on the one login
	// that reads them (WeChatLogin.LoginCloudRun); off, it refuses.
	CloudRun      bool
	SessionPolicy domain.SessionPolicy
	// PasswordAuth switches password accounts on; off, each of their
	// operations answers CodePasswordAuthDisabled.
	PasswordAuth bool
	// LoginLimits bounds failed password logins; zero means
	// domain.DefaultLoginLimits.
	LoginLimits domain.LoginLimits
	// Cursors seals the cursors of list pages.
	Cursors     CursorCodec
	UploadRules domain.UploadRules
	// UploadTicketTTL, UploadPendingTTL and UploadDownloadTTL: see Uploads.
	UploadTicketTTL   time.Duration
	UploadPendingTTL  time.Duration
	UploadDownloadTTL time.Duration
	// WxaCodeUserLimit bounds the codes each user makes that were not
	// cached yet; a zero Limit means no bound.
	WxaCodeUserLimit domain.ThrottleRule
	// RevocationRetain is how long a revocation matters: the access token
	// TTL plus the verifier's clock skew (see NewRevocations).
	RevocationRetain time.Duration
	// Schedule says how often StartBackground runs each task.
	Schedule Schedule
	// Content says which user content WeChat's content security checks
	// and what happens when it cannot; ContentMediaURLTTL is how long the
	// download URL of an image WeChat checks works (zero:
	// DefaultMediaURLTTL).
	Content            domain.ContentChecks
	ContentMediaURLTTL time.Duration
	// Log receives the use-cases' own warnings (content checks WeChat
	// failed, verdicts for unknown checks); nil discards them.
	Log *slog.Logger
	// WeChatDataMaxAge is how old WeChat open data may be; zero means
	// domain.DefaultOpenDataMaxAge.
	WeChatDataMaxAge time.Duration
	// Push configures the message push receiver.
	Push PushSettings
	// Version is the binary's version line and Started when the process
	// started, for the health page.
	Version string
	Started time.Time
	// SubscribeTemplates are the subscribe-message templates of each app
	// (validated: domain.SubscribeTemplate.Validate).
	SubscribeTemplates []domain.SubscribeTemplate
}

// Schedule is how often each background task runs. A zero interval
// leaves its task out.
type Schedule struct {
	RevocationPoll   time.Duration // read the revocation feed
	SessionPurge     time.Duration // delete long-ended sessions and old revocations
	IdempotencyPurge time.Duration // delete expired idempotency keys
	UploadClean      time.Duration // delete expired uploads
	PushPurge        time.Duration // delete pushed messages past their retention
}

// New wires the use-cases to p with the settings o.
func New(p Ports, o Options) *App {
	revocations := NewRevocations(p.RevocationFeed, p.Clock, o.RevocationRetain)
	sessions := Sessions{Store: p.Sessions, Tokens: p.Tokens, Clock: p.Clock, Policy: o.SessionPolicy, Revocations: revocations,
		Status: p.AccountStatus}
	audit := &Audit{Log: p.AuditLog, Clock: p.Clock}
	moderation := &Moderation{
		Checker: p.ContentChecker, Store: p.Moderation, Storage: p.Storage, Clock: p.Clock,
		Policy: o.Content, MediaURLTTL: o.ContentMediaURLTTL, Log: o.Log, Audit: audit,
	}
	if p.ContentChecker == nil || p.Moderation == nil {
		moderation.Checker = nil // checks nothing
	}
	// WeChat pushes the verdicts of the media checks Moderation submits;
	// a test may hand them elsewhere.
	media := p.MediaVerdicts
	if media == nil && p.Moderation != nil {
		media = moderation
	}
	uploads := &Uploads{
		Store: p.Uploads, Storage: p.Storage, Clock: p.Clock, Rules: o.UploadRules,
		TicketTTL: o.UploadTicketTTL, PendingTTL: o.UploadPendingTTL, DownloadTTL: o.UploadDownloadTTL,
		Moderation: moderation,
	}
	subscriptions := Subscriptions{Templates: o.SubscribeTemplates, Store: p.Subscriptions, Clock: p.Clock}
	reminders := Reminders{Store: p.Reminders, Sender: p.SubscribeSender, Templates: o.SubscribeTemplates, Clock: p.Clock}
	a := &App{
		Login:    WeChatLogin{Apps: o.Apps, WeChat: p.WeChat, Users: p.Users, Sessions: sessions, CloudRun: o.CloudRun},
		Sessions: sessions,
		Phones:   Phones{WeChat: p.WeChatPhone, Store: p.Phones, Clock: p.Clock},
		Profiles: Profiles{Users: p.Users, Uploads: uploads, Links: p.AvatarLinks, Moderation: moderation},
		Passwords: PasswordAccounts{
			Enabled: o.PasswordAuth, Credentials: p.Credentials, Users: p.Users, Hasher: p.Hasher,
			Throttle: p.Throttle, Limits: o.LoginLimits, Sessions: sessions, Clock: p.Clock,
		},
		WeChatBinding: WeChatBinding{Apps: o.Apps, WeChat: p.WeChat, Binder: p.Binder, Users: p.Users},
		Todos:         Todos{Store: p.Todos, Cursors: o.Cursors, Clock: p.Clock, Moderation: moderation, Reminders: reminders},
		Accounts:      Accounts{Users: p.Deleter, Clock: p.Clock, Revocations: revocations},
		Admin: Admin{Users: p.UserAdmin, Store: p.AdminStore, Audit: audit, Clock: p.Clock,
			Revocations: revocations},
		Audit:       audit,
		Uploads:     uploads,
		Attachments: Attachments{Store: p.Attachments, Uploads: uploads},
		WxaCodes: &WxaCodes{WeChat: p.WxaCodeMaker, Cache: p.Objects, Throttle: p.Throttle,
			UserLimit: o.WxaCodeUserLimit, Clock: p.Clock},
		Moderation:    moderation,
		WeChatData:    WeChatData{Keys: p.SessionKeys, Clock: p.Clock, MaxAge: o.WeChatDataMaxAge},
		Revocations:   revocations,
		UploadCleaner: UploadCleaner{Store: p.Uploads, Storage: p.Storage, Clock: p.Clock},
		Push: Push{Settings: o.Push, Store: p.PushEvents, Sessions: p.IdentitySessions, Revocations: revocations,
			Media: media, Clock: p.Clock, Subscriptions: subscriptions},
		Subscriptions: subscriptions,
		Reminders:     reminders,

		clock: p.Clock, purger: p.SessionPurger, listener: p.RevocationListener, schedule: o.Schedule,
	}
	// The console signs in with the password accounts' login.
	a.Console = Console{Passwords: a.Passwords, Sessions: sessions, Users: p.Users}
	a.Jobs = Jobs{Admin: p.JobAdmin, Audit: audit}
	a.Health = Health{Clock: p.Clock, Apps: o.Apps, Version: o.Version, Started: o.Started,
		Database: p.Database, WeChat: p.WeChatStatus, Tokens: p.WeChatTokens, Jobs: p.Jobs}
	return a
}
