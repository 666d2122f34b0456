package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// WeChat's published open-data sample (see domain/opendata_test.go).
const (
	sampleAppID = domain.AppID("wx4f4bc4dec97d474b")
	sampleKey   = domain.SessionKey("tiihtNczf5v6AKRyjwEUhQ==")
	sampleIssue = 1477314187
)

var sampleRequest = domain.OpenDataRequest{
	IV:            "r7BXXKkLb8qrSNn05n0qiA==",
	EncryptedData: "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==",
}

type fakeSessionKeys struct {
	get func(ctx context.Context, user domain.UserID, app domain.AppID) (domain.SessionKey, error)
}

func (f fakeSessionKeys) WeChatSessionKey(ctx context.Context, user domain.UserID, app domain.AppID) (domain.SessionKey, error) {
	return f.get(ctx, user, app)
}

// keysOf answers key for (user-1, the sample's app) and not found for
// anything else, counting the reads.
func keysOf(key domain.SessionKey, reads *int) fakeSessionKeys {
	return fakeSessionKeys{get: func(_ context.Context, user domain.UserID, app domain.AppID) (domain.SessionKey, error) {
		*reads++
		if user == "user-1" && app == sampleAppID {
			return key, nil
		}
		return "", &domain.Error{Code: domain.CodeNotFound}
	}}
}

func TestWeChatDataOpensWithTheStoredKeyOfTheSessionsApp(t *testing.T) {
	var reads int
	uc := app.WeChatData{Keys: keysOf(sampleKey, &reads), Clock: fixedClock{time.Unix(sampleIssue+30, 0)}}
	d, err := uc.Open(context.Background(), "user-1", sampleAppID, sampleRequest)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !strings.Contains(string(d.JSON), `"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE"`) || d.Watermark.AppID != sampleAppID || reads != 1 {
		t.Errorf("data %s, watermark %+v, %d key reads", d.JSON, d.Watermark, reads)
	}
}

func TestWeChatDataAnswersEachFailure(t *testing.T) {
	now := time.Unix(sampleIssue+30, 0)
	for _, tc := range []struct {
		name      string
		key       domain.SessionKey
		user      domain.UserID
		app       domain.AppID
		req       domain.OpenDataRequest
		now       time.Time
		maxAge    time.Duration
		want      domain.Code
		wantReads int
	}{
		{"a login tied to no mini-program", sampleKey, "user-1", "", sampleRequest, now, 0, domain.CodeWeChatLoginRequired, 0},
		{"malformed input, checked before the key is read", sampleKey, "user-1", sampleAppID, domain.OpenDataRequest{EncryptedData: "%%", IV: "AAAA"}, now, 0, domain.CodeInvalid, 0},
		{"no identity in the app", sampleKey, "user-2", sampleAppID, sampleRequest, now, 0, domain.CodeWeChatLoginRequired, 1},
		{"a key a later login replaced", "AAECAwQFBgcICQoLDA0ODw==", "user-1", sampleAppID, sampleRequest, now, 0, domain.CodeWeChatSessionStale, 1},
		{"older than the default maximum age", sampleKey, "user-1", sampleAppID, sampleRequest, now.Add(2 * time.Hour), 0, domain.CodeWeChatDataExpired, 1},
		{"within a configured maximum age", sampleKey, "user-1", sampleAppID, sampleRequest, now.Add(2 * time.Hour), 3 * time.Hour, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads int
			uc := app.WeChatData{Keys: keysOf(tc.key, &reads), Clock: fixedClock{tc.now}, MaxAge: tc.maxAge}
			_, err := uc.Open(context.Background(), tc.user, tc.app, tc.req)
			if got := domain.ErrorCode(err); (err != nil || tc.want != "") && got != tc.want {
				t.Fatalf("error %v, want code %q", err, tc.want)
			}
			if reads != tc.wantReads {
				t.Errorf("%d key reads, want %d", reads, tc.wantReads)
			}
		})
	}
}

func TestWeChatDataPassesOnAStoreFailure(t *testing.T) {
	down := &domain.Error{Code: domain.CodeUnavailable, Err: errors.New("connection refused")}
	uc := app.WeChatData{
		Keys: fakeSessionKeys{get: func(context.Context, domain.UserID, domain.AppID) (domain.SessionKey, error) {
			return "", down
		}},
		Clock: fixedClock{time.Unix(sampleIssue, 0)},
	}
	_, err := uc.Open(context.Background(), "user-1", sampleAppID, sampleRequest)
	if !errors.Is(err, down) || domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("error %v, want the store's unavailable error", err)
	}
}
