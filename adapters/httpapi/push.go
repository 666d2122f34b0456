package httpapi

import (
	"context"
	"io"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// The message push operations (消息推送): WeChat's servers call them, not
// the mini-program. They carry no access token: WeChat signs each call
// with the app's Token, and app.Push checks that.

// pushPath is the path of the push URL, as the spec spells it.
const pushPath = "/v1/wechat/push/{appid}"

// rawBodyOps are the operations whose body the handler parses itself: a
// push's body is WeChat's JSON or XML, told apart by its first character
// whatever the Content-Type, and its parser is bounded and linear. The
// validator reads such a body under the body limit and checks the
// parameters, not the body.
var rawBodyOps = map[string]bool{http.MethodPost + " " + pushPath: true}

// pushSuccess is the answer WeChat expects to a delivery.
const pushSuccess = "success"

// VerifyWeChatPushURL answers WeChat's check of the push URL.
func (s *Server) VerifyWeChatPushURL(ctx context.Context, req api.VerifyWeChatPushURLRequestObject) (api.VerifyWeChatPushURLResponseObject, error) {
	p := req.Params
	q := domain.PushQuery{Signature: orEmpty(p.Signature), Timestamp: orEmpty(p.Timestamp), Nonce: orEmpty(p.Nonce), EchoStr: p.Echostr}
	echo, err := s.app.Push.VerifyURL(ctx, domain.AppID(req.Appid), q)
	if err != nil {
		return s.verifyPushFailure(ctx, err)
	}
	return api.VerifyWeChatPushURL200TextResponse(echo), nil
}

// ReceiveWeChatPush receives a pushed message.
func (s *Server) ReceiveWeChatPush(ctx context.Context, req api.ReceiveWeChatPushRequestObject) (api.ReceiveWeChatPushResponseObject, error) {
	p := req.Params
	q := domain.PushQuery{
		Signature: orEmpty(p.Signature), Timestamp: orEmpty(p.Timestamp), Nonce: orEmpty(p.Nonce),
		EncryptType: orEmpty(p.EncryptType), MsgSignature: orEmpty(p.MsgSignature),
	}
	var body []byte
	if req.Body != nil {
		// The validator has read the body under the limit and put it
		// back in memory: this copies it, and cannot fail on size.
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return s.receivePushFailure(ctx, storageFailure(err))
		}
	}
	out, err := s.app.Push.Receive(ctx, domain.AppID(req.Appid), q, body)
	if err != nil {
		return s.receivePushFailure(ctx, err)
	}
	// The event's name and whether it was a retry: never its content,
	// which names users.
	s.log.InfoContext(ctx, "wechat push received", "appid", req.Appid, "event", out.Event, "duplicate", out.Duplicate,
		"request_id", requestIDFrom(ctx))
	return api.ReceiveWeChatPush200TextResponse(pushSuccess), nil
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
